import AgentProtocol
import Dispatch
import FoundationEssentials
import Glibc
import SystemSupport

/// Brings up every NIC, including hot-plugged ones: polls /sys/class/net every 25 ms (a failover
/// waits for this), and for each
/// new network device sets the link up and runs a supervised `udhcpc` on it (restarted if it exits,
/// stopped when the NIC goes away). The udhcpc script assigns the address, and a default route
/// only where the DHCP server offers a router (the VLANs that carry a service IP).
///
/// All state lives on `queue`.
final class NetworkWatcher: @unchecked Sendable {
    static let dhcpScript = "/usr/share/udhcpc/default.script"
    private let queue = DispatchQueue(label: "vp-agent.network")
    private var timer: DispatchSourceTimer?
    /// Interfaces brought up so far.
    private var known: Set<String> = []
    /// Interface → the pid of its udhcpc.
    private var clients: [String: pid_t] = [:]

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now(), repeating: .milliseconds(25))
        timer.setEventHandler { [unowned self] in scan() }
        self.timer = timer
        timer.resume()
    }

    /// Network devices backed by hardware (skips lo and virtual devices).
    static func deviceNames() -> [String] {
        KernelFiles.list("/sys/class/net").filter {
            FileManager.default.fileExists(atPath: "/sys/class/net/\($0)/device")
        }
    }

    private func scan() {
        let present = Set(Self.deviceNames())
        for name in present.subtracting(known).sorted() { attach(name) }
        for name in known.subtracting(present).sorted() { detach(name) }
    }

    private func attach(_ name: String) {
        let mac = KernelFiles.read("/sys/class/net/\(name)/address") ?? "?"
        log("nic \(name) appeared (mac \(mac))")
        known.insert(name)
        do {
            try ProgramRunner.run("/bin/ip", ["link", "set", "dev", name, "up"])
        } catch {
            log("nic \(name): \(error)")
        }
        startDHCP(on: name)
    }

    private func detach(_ name: String) {
        log("nic \(name) removed")
        known.remove(name)
        if let pid = clients.removeValue(forKey: name) { kill(pid, SIGTERM) }
    }

    private func startDHCP(on name: String) {
        let pidFile = "/run/udhcpc.\(name).pid"
        Self.stopStaleClient(pidFile: pidFile)
        do {
            let pid = try ProgramRunner.start("/bin/udhcpc", [
                "-f", "-i", name, "-s", Self.dhcpScript, "-p", pidFile,
                "-T", "1", "-t", "3", "-A", "2",
            ]) { [weak self] pid, status in
                guard let self else { return }
                queue.asyncAfter(deadline: .now() + 1) { self.dhcpExited(name, pid: pid, status: status) }
            }
            clients[name] = pid
        } catch {
            log("nic \(name): cannot start udhcpc: \(error); retrying in 2 s")
            queue.asyncAfter(deadline: .now() + 2) { [weak self] in
                guard let self, known.contains(name), clients[name] == nil else { return }
                startDHCP(on: name)
            }
        }
    }

    private func dhcpExited(_ name: String, pid: pid_t, status: WaitStatus) {
        guard clients[name] == pid else { return }   // detached, or already replaced
        clients[name] = nil
        guard known.contains(name) else { return }
        log("udhcpc on \(name) exited (\(status)); restarting it")
        startDHCP(on: name)
    }

    /// A udhcpc left over from a previous agent (init restarts us): stop it so only one runs.
    private static func stopStaleClient(pidFile: String) {
        guard let text = KernelFiles.read(pidFile), let pid = Int32(text), pid > 1,
              KernelFiles.read("/proc/\(pid)/comm") == "udhcpc" else { return }
        kill(pid, SIGTERM)
    }

    // MARK: - Inventory

    /// Every NIC with its MAC, IPv4 addresses (CIDR) and whether it is up.
    static func interfaces() -> [AgentReport.Interface] {
        let addresses = ipv4Addresses()
        return deviceNames().map { name in
            AgentReport.Interface(
                name: name,
                mac: KernelFiles.read("/sys/class/net/\(name)/address") ?? "",
                addresses: addresses[name] ?? [],
                up: KernelFiles.read("/sys/class/net/\(name)/operstate") == "up")
        }
    }

    /// Interface → IPv4 addresses in CIDR form, from getifaddrs(3).
    static func ipv4Addresses() -> [String: [String]] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { return [:] }
        defer { freeifaddrs(head) }
        var result: [String: [String]] = [:]
        var cursor = head
        while let entry = cursor {
            cursor = entry.pointee.ifa_next
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else {
                continue
            }
            var sin = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &sin.sin_addr, &text, socklen_t(INET_ADDRSTRLEN)) != nil else { continue }
            let prefix = entry.pointee.ifa_netmask.map {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr.nonzeroBitCount }
            } ?? 32
            let name = String(cString: entry.pointee.ifa_name)
            let dotted = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            result[name, default: []].append("\(dotted)/\(prefix)")
        }
        return result
    }
}
