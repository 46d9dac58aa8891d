import AgentProtocol
import Foundation
import SystemSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Talks to a processor's agent over HTTP (controller side).
public struct AgentHTTPClient: Sendable {
    public let host: String
    public let port: UInt16
    public let timeout: TimeInterval

    public init(host: String, port: UInt16 = AgentPorts.http, timeout: TimeInterval = 2) {
        self.host = host; self.port = port; self.timeout = timeout
    }

    /// `GET /v1/report`: what the processor carries.
    public func report() async throws -> AgentReport {
        let data = try await send("GET", "/v1/report", body: nil)
        do {
            return try JSONDecoder().decode(AgentReport.self, from: data)
        } catch {
            throw AgentClientError(host: host, operation: "decoding the agent report", cause: "\(error)")
        }
    }

    /// `PUT /v1/disks/<disk>/marker`: writes (and syncs) a marker file on a data disk, formatting
    /// the disk first if it is blank. `disk` is the libvirt target (the disk's serial) or the
    /// guest's name for it. Returns the disk as the agent now sees it.
    @discardableResult
    public func writeMarker(disk: String, text: String) async throws -> AgentReport.Disk {
        let data = try await send("PUT", "/v1/disks/\(disk)/marker", body: Data(text.utf8))
        return try JSONDecoder().decode(AgentReport.Disk.self, from: data)
    }

    /// `POST /v1/diagnostics/frame`: the processor sends `frame` (a whole Ethernet frame, see
    /// `DiagnosticFrame`) out of its NIC with MAC `interfaceMAC`, as given. Returns the bytes sent.
    @discardableResult
    public func sendFrame(_ frame: [UInt8], fromInterfaceWithMAC interfaceMAC: String) async throws -> Int {
        let body = try JSONEncoder().encode(FrameRequest(interfaceMAC: interfaceMAC, frameHex: DiagnosticFrame.hex(frame)))
        let data = try await send("POST", "/v1/diagnostics/frame", body: body)
        guard let sent = try? JSONDecoder().decode([String: Int].self, from: data)["sent"] else {
            throw AgentClientError(host: host, operation: "POST /v1/diagnostics/frame", cause: "unexpected answer")
        }
        return sent
    }

    /// Polls `report()` until `condition` holds or `deadline` passes; returns the last report.
    public func waitForReport(until deadline: ContinuousClock.Instant,
                              interval: Duration = .milliseconds(100),
                              _ condition: @Sendable (AgentReport) -> Bool = { _ in true }) async throws -> AgentReport {
        var lastError: (any Error)?
        while ContinuousClock.now < deadline {
            do {
                let report = try await report()
                if condition(report) { return report }
                lastError = AgentClientError(host: host, operation: "waiting for the agent",
                                             cause: "the report does not show the expected state yet; it shows \(report.summary)")
            } catch {
                lastError = error
            }
            try await Task.sleep(for: interval)
        }
        throw lastError ?? AgentClientError(host: host, operation: "waiting for the agent", cause: "timed out")
    }

    fileprivate func send(_ method: String, _ path: String, body: Data?) async throws -> Data {
        guard let url = URL(string: "http://\(host):\(port)\(path)") else {
            throw AgentClientError(host: host, operation: "\(method) \(path)", cause: "invalid address")
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw AgentClientError(host: host, operation: "\(method) \(path)", cause: error.localizedDescription)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let text = String(decoding: data, as: UTF8.self)
            throw AgentClientError(host: host, operation: "\(method) \(path)", cause: "HTTP \(status): \(text)")
        }
        return data
    }
}

public struct AgentClientError: KindedError, Sendable {
    /// The agent did not answer, or not as it should: the processor is unavailable to ask.
    public var kind: ErrorKind { .unavailable }
    public var object: String? { "agent at \(host)" }
    public let host: String
    public let operation: String
    public let cause: String
    public var description: String { "agent at \(host): \(operation): \(cause)" }
}

extension AgentHTTPClient {
    /// Asks the agent to send a heartbeat from inside the processor to `address` and says whether
    /// it was answered: reachability as the processor sees it.
    public func probe(_ address: String) async throws -> Bool {
        let data = try await send("POST", "/v1/probe", body: Data(address.utf8))
        return try JSONDecoder().decode(ProbeResult.self, from: data).reachable
    }
}
