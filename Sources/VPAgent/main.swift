import AgentProtocol
import FlyingSocks
import FoundationEssentials
import Glibc

// vp-agent: runs inside every processor (started and restarted by the initramfs /init).
// It brings up NICs and data disks as they appear, answers heartbeats on UDP 7701 on every
// interface, serves its report on HTTP 7700 and answers "which processor are you" on TCP and UDP
// port 80 (the demo workload behind service IPs).

let agentVersion = "0.1.0"
let hostname = KernelFiles.processorName()
signal(SIGPIPE, SIG_IGN)   // a client that hangs up must not kill us

let network = NetworkWatcher()
let disks = DiskWatcher()
network.start()
disks.start()

do {
    let pool = SocketPool.make()
    try await pool.prepare()
    let polling = Task { try await pool.run() }
    try HeartbeatResponder(port: AgentPorts.heartbeat).start()
    // A demo workload: failing to serve it must not take the agent (heartbeats, report) down.
    do {
        try WhoamiService(name: hostname, port: AgentPorts.whoami).start()
        log("whoami on TCP/UDP :\(AgentPorts.whoami)")
    } catch {
        log("\(error); not serving whoami")
    }
    let server = ReportServer(listener: try HTTPListener.bind(port: AgentPorts.http, pool: pool),
                              hostname: hostname, version: agentVersion, disks: disks)
    log("\(hostname): HTTP on :\(AgentPorts.http), heartbeats on UDP :\(AgentPorts.heartbeat), "
        + "version \(agentVersion), \(KernelFiles.memoryAvailable())")
    log("ready")
    try await server.run()
    try await polling.value
} catch {
    log("fatal: \(error)")
    exit(1)
}
