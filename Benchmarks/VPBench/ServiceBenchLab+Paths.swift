import Foundation
import NetLab
import ServiceDataPlane
#if canImport(Glibc)
import Glibc
#endif

// The paths the throughput bench measures: where each goes and from where, the nftables state it
// is measured with, a sanity request, and the wrk run itself.
extension ServiceBenchLab {
    /// The client address a path's connections come from (the client namespace's routes pick it).
    func source(_ path: ServiceThroughputBench.Path) -> String {
        guard separateSources else { return Self.clientAddress }
        switch path.target {
        case .serviceIP: return "10.219.1.10"
        case .backend: return "10.219.1.11"
        case .haproxy: return "10.219.1.12"
        }
    }

    func url(_ path: ServiceThroughputBench.Path) -> String {
        switch path.target {
        case .serviceIP: return "http://\(Self.serviceIP)/"
        case .backend: return "http://\(backendAddresses[0])/"
        case .haproxy: return "http://\(Self.haproxyAddress)/"
        }
    }

    /// Loads the nftables state the path is measured with.
    func prepare(_ path: ServiceThroughputBench.Path) throws {
        try? dataPlane.remove(table: Self.diagTable)
        switch path {
        case .service, .haproxy:
            // HAProxy's own connections to the backends leave the host (output), not forwarded:
            // the isolation chain does not see them either way.
            try dataPlane.program(service.ruleset(routedBridges: [Self.bridge]))
        case .direct:
            // The same table with no routed bridges: the isolation chain still runs on every
            // forwarded packet (the same set lookups as on the service path) but lets the direct
            // flow cross, so both paths do comparable per-packet work in nftables.
            try dataPlane.program(service.ruleset(routedBridges: []))
        case .directNoIsolation, .serviceNoIsolation:
            try dataPlane.program(service.ruleset(routedBridges: path == .serviceNoIsolation ? [Self.bridge] : []))
            try Command.run("nft", ["flush", "chain", "ip", Self.table, "isolation"])
            try Command.run("nft", ["delete", "chain", "ip", Self.table, "isolation"])
        case .directNoTable:
            try dataPlane.remove(table: Self.table)
        case .serviceBareDNAT:
            try dataPlane.remove(table: Self.table)
            let file = Self.directory.appendingPathComponent("bare-dnat.nft").path
            try """
                table ip \(Self.diagTable) {
                    chain dnat_prerouting {
                        type nat hook prerouting priority -100; policy accept;
                        ip daddr \(Self.serviceIP) tcp dport 80 dnat to \(bareDNATTarget)
                    }
                }

                """.write(toFile: file, atomically: true, encoding: .utf8)
            try Command.run("nft", ["-f", file])
        }
    }

    /// One request through the path; the answering backend's name. Retries for a few seconds
    /// while nginx and HAProxy start.
    func sanity(_ path: ServiceThroughputBench.Path) throws -> String {
        let target = url(path)
        var last = ""
        for _ in 0..<25 {
            if let curl = tools.curl {
                let out = try Command.run("ip", ["netns", "exec", Self.clientNamespace, curl, "-s", "-S", "-m", "2", target], allowFailure: true)
                let body = out.trimmingCharacters(in: .whitespacesAndNewlines)
                if backendNames.contains(body) { return body }
                last = body.isEmpty ? "no answer" : "unexpected answer '\(body.prefix(80))'"
            } else {
                let out = try Command.run("ip", ["netns", "exec", Self.clientNamespace, tools.wrk, "-t1", "-c1", "-d1s", target], allowFailure: true)
                if let run = try? WrkRun.parse(out + "\n50% 0us\n99% 0us"), run.requests > 0, run.socketErrors == 0, run.non2xx == 0 { return "?" }
                last = out
            }
            usleep(200_000)
        }
        throw BenchError("sanity check failed: \(path.rawValue) (\(target)) from namespace \(Self.clientNamespace): \(last)\(logTail())")
    }

    private func logTail() -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Self.directory.path)) ?? []
        var s = ""
        for f in files.sorted() where f.hasSuffix(".out") || f.hasSuffix(".error.log") {
            if let t = try? String(contentsOfFile: Self.directory.appendingPathComponent(f).path, encoding: .utf8), !t.isEmpty {
                s += "\n--- \(f):\n" + t.split(separator: "\n").suffix(5).joined(separator: "\n")
            }
        }
        return s
    }

    /// With the service's table loaded, a request straight to a backend must not cross the bridge.
    func isolationRefusesDirect() -> Bool? {
        guard let curl = tools.curl else { return nil }
        let out = (try? Command.run("ip", ["netns", "exec", Self.clientNamespace, curl, "-s", "-m", "1", url(.direct)], allowFailure: true)) ?? ""
        return !backendNames.contains(out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func wrk(_ path: ServiceThroughputBench.Path, connections: Int, seconds: Int, closeConnections: Bool) throws -> WrkRun {
        let handle = try Self.emptyFile("wrk.out")
        var args = ["netns", "exec", Self.clientNamespace, tools.wrk, "-t1", "-c\(connections)", "-d\(seconds)s", "--latency"]
        if closeConnections { args += ["-H", "Connection: close"] }
        args.append(url(path))
        let serversBefore = serverCPUSeconds()
        let clientBefore = Self.childrenCPUSeconds()
        let p = try Command.start("ip", args, output: handle)
        track(p)
        p.waitUntilExit()
        untrack(p)
        // wrk was reaped by this process: its CPU time is now in RUSAGE_CHILDREN (`ip netns exec`
        // execs wrk in place, so the child is wrk).
        let clientCPU = Self.childrenCPUSeconds() - clientBefore
        let serverCPU = serverCPUSeconds() - serversBefore
        try? handle.close()
        let text = (try? String(contentsOf: Self.directory.appendingPathComponent("wrk.out"), encoding: .utf8)) ?? ""
        guard p.terminationStatus == 0 else { throw BenchError("wrk for \(path.rawValue) failed (\(p.terminationStatus)): \(text)") }
        var run = try WrkRun.parse(text)
        run.conntrackEntriesAfter = Self.conntrackCount()
        if run.requests > 0 {
            run.clientCPUMicrosecondsPerRequest = clientCPU / Double(run.requests) * 1e6
            run.serverCPUMicrosecondsPerRequest = serverCPU / Double(run.requests) * 1e6
        }
        return run
    }
}
