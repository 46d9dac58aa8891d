import AgentProtocol
import FlyingSocks
import FoundationEssentials
import Glibc

/// The agent's HTTP API on port 7700:
/// - `GET /healthz` → 200 "ok"
/// - `GET /v1/report` → `AgentReport` as JSON
/// - `PUT /v1/disks/<name>/marker` (text body) → 200 with the disk's `AgentReport.Disk`; 400 for an
///   empty, oversized or non-UTF-8 body, 404 for an unknown disk, 409 for a disk holding data
///   that is not ext2/3/4 (it is never formatted), 500 when formatting/mounting/writing fails.
struct ReportServer: Sendable {
    static let maxMarkerBytes = 64 * 1024
    let listener: HTTPListener
    let hostname: String
    let version: String
    let disks: DiskWatcher

    func run() async throws {
        try await listener.run { request in await handle(request) }
    }

    func handle(_ request: HTTPListener.Request) async -> HTTPListener.Response {
        let parts = request.path.split(separator: "/").map(String.init)
        switch (request.method, parts) {
        case ("GET", ["healthz"]):
            return .text(200, "ok\n")
        case ("GET", ["v1", "report"]):
            return Self.json(report())
        case ("PUT", let p) where p.count == 4 && p[0] == "v1" && p[1] == "disks" && p[3] == "marker":
            return await putMarker(request.body, on: p[2])
        case (_, ["healthz"]), (_, ["v1", "report"]):
            return .text(405, "method not allowed\n")
        default:
            return .text(404, "not found: \(request.path)\n")
        }
    }

    func report() -> AgentReport {
        AgentReport(hostname: hostname, agentVersion: version, uptimeSeconds: KernelFiles.uptime(),
                    interfaces: NetworkWatcher.interfaces(), disks: disks.disks())
    }

    private func putMarker(_ body: Data, on name: String) async -> HTTPListener.Response {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return .text(404, "no disk \(name)\n")
        }
        guard !body.isEmpty else { return .text(400, "empty marker\n") }
        guard body.count <= Self.maxMarkerBytes else {
            return .text(400, "marker larger than \(Self.maxMarkerBytes) bytes\n")
        }
        guard let marker = String(data: body, encoding: .utf8) else {
            return .text(400, "marker is not UTF-8 text\n")
        }
        do {
            return Self.json(try await disks.setMarker(marker, on: name))
        } catch DiskWatcher.Failure.unknownDisk {
            return .text(404, "no disk \(name)\n")
        } catch let failure as DiskWatcher.Failure {
            if case .foreignData = failure { return .text(409, "\(failure)\n") }
            log("disk \(name): \(failure)")
            return .text(500, "\(failure)\n")
        } catch {
            return .text(500, "\(error)\n")
        }
    }

    private static func json(_ value: some Encodable) -> HTTPListener.Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return HTTPListener.Response(status: 200, contentType: "application/json", body: try encoder.encode(value))
        } catch {
            return .text(500, "cannot encode: \(error)\n")
        }
    }
}
