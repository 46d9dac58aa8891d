import AgentProtocol
import Dispatch
import FlyingSocks
import FoundationEssentials
import Glibc
import SystemSupport

/// The agent's HTTP API on port 7700:
/// - `GET /healthz` → 200 "ok"
/// - `GET /v1/report` → `AgentReport` as JSON
/// - `POST /v1/probe` (body: an IPv4 address) → `ProbeResult`: does a heartbeat sent from this
///   processor to that address get an answer? (reachability as the processor sees it)
/// - `PUT /v1/disks/<serial or name>/marker` (text body) → 200 with the disk's `AgentReport.Disk`; 400 for an
///   empty, oversized or non-UTF-8 body, 404 for an unknown disk, 409 for a disk holding data
///   that is not ext2/3/4 (it is never formatted) or whose filesystem failed its check (it is not
///   mounted), 500 when formatting/mounting/writing fails.
/// - `POST /v1/diagnostics/frame` (body: `FrameRequest`) → 200 `{"sent": bytes}`: sends the raw
///   Ethernet frame out of the NIC with that MAC, as given (forged source included): for checking
///   that the host's port security drops it. 400 for a malformed body or a frame outside
///   14…1514 bytes, 404 for no such NIC.
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
        case ("POST", ["v1", "probe"]):
            return await probe(request.body)
        case ("POST", ["v1", "diagnostics", "frame"]):
            return sendFrame(request.body)
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

    private func putMarker(_ body: Data, on id: String) async -> HTTPListener.Response {
        guard let name = disks.kernelName(for: id) else { return .text(404, "no disk \(id)\n") }
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
            switch failure {
            case .foreignData, .checkFailed: return .text(409, "\(failure)\n")
            default: break
            }
            log("disk \(name): \(failure)")
            return .text(500, "\(failure)\n")
        } catch {
            return .text(500, "\(error)\n")
        }
    }

    private func sendFrame(_ body: Data) -> HTTPListener.Response {
        guard let request = try? JSONDecoder().decode(FrameRequest.self, from: body),
              let frame = DiagnosticFrame.bytes(hex: request.frameHex) else {
            return .text(400, "the body must be {\"interfaceMAC\": \"…\", \"frameHex\": \"…\"}\n")
        }
        guard (DiagnosticFrame.minimumBytes...DiagnosticFrame.maximumBytes).contains(frame.count) else {
            return .text(400, "a frame has \(DiagnosticFrame.minimumBytes)…\(DiagnosticFrame.maximumBytes) bytes, not \(frame.count)\n")
        }
        do {
            let sent = try FrameSender.send(frame, fromInterfaceWithMAC: request.interfaceMAC)
            log("diagnostic frame: \(sent) bytes out of \(request.interfaceMAC)")
            return Self.json(["sent": sent])
        } catch FrameSender.Failure.noInterface(let mac) {
            return .text(404, "no interface with MAC \(mac)\n")
        } catch {
            return .text(500, "\(error)\n")
        }
    }

    private func probe(_ body: Data) async -> HTTPListener.Response {
        var parsed = in_addr()
        guard let address = String(data: body, encoding: .utf8).map(trimmed), inet_pton(AF_INET, address, &parsed) == 1 else {
            return .text(400, "the body must be an IPv4 address\n")
        }
        // The probe blocks for up to a second: run it on a Dispatch thread, away from the
        // cooperative pool that answers heartbeats.
        let outcome: Result<Duration?, any Error> = await withCheckedContinuation { done in
            DispatchQueue.global().async {
                done.resume(returning: Result { try HeartbeatProbe.ping(address, timeout: .seconds(1)) })
            }
        }
        switch outcome {
        case .success(let rtt):
            let ms = rtt?.milliseconds
            return Self.json(ProbeResult(address: address, reachable: rtt != nil, rttMilliseconds: ms))
        case .failure(let error):
            // e.g. no route to the address: not reachable, which is an answer, not a fault.
            log("probe \(address): \(error)")
            return Self.json(ProbeResult(address: address, reachable: false, rttMilliseconds: nil))
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
