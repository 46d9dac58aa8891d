import Foundation
import Hummingbird
import OpenAPIRuntime
import PlatformEngine
import Synchronization
import SystemSupport

/// `GET /v1/status` kept up to date with its inputs instead of made afresh for every request:
/// each request reads what status is made of (`PlatformEngine.statusInputs()`: the store's state
/// revision, every processor's libvirt state in one call per host, the kernel's nftables
/// generation), and the answer is made again only when one of them, or the definition in force,
/// changed since the answer kept; otherwise the kept bytes are sent as they are. The inputs are
/// read before the answer is made, so a kept answer is never older than the inputs it is kept
/// under. `Server-Timing` says which it was and how long it took.
final class StatusKeeper: ServerMiddleware {
    private struct Kept: Sendable {
        /// The engine of the definition the answer was made for: a reload or an apply makes a new one.
        let platform: PlatformEngine
        let inputs: StatusInputs
        let response: HTTPResponse
        let body: ArraySlice<UInt8>
    }

    private let inForce: DefinitionInForce
    private let kept = Mutex<Kept?>(nil)

    init(inForce: DefinitionInForce) { self.inForce = inForce }

    static let operationID = "getStatus"

    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?))
        async throws -> (HTTPResponse, HTTPBody?)
    {
        guard operationID == Self.operationID else { return try await next(request, body, metadata) }
        let clock = ContinuousClock()
        let started = clock.now
        let platform = inForce.platform
        let inputs = try platform.statusInputs()
        if inputs.kernelKnown, let answer = kept.withLock({ $0 }), answer.platform === platform, answer.inputs == inputs {
            return Self.answer(answer.response, answer.body, kept: true, took: clock.now - started)
        }
        // Made by the route itself (its encoding, its checks of the request), then kept.
        let (response, made) = try await next(request, body, metadata)
        var bytes: ArraySlice<UInt8> = []
        if let made { bytes = try await ArraySlice(collecting: made, upTo: .max) }
        if response.status == .ok, inputs.kernelKnown { kept.withLock { $0 = Kept(platform: platform, inputs: inputs, response: response, body: bytes) } }
        return Self.answer(response, bytes, kept: false, took: clock.now - started)
    }

    /// `Server-Timing: status;desc="kept";dur=0.84` (milliseconds), or "made" when it was made again.
    private static func answer(_ response: HTTPResponse, _ body: ArraySlice<UInt8>, kept: Bool, took: Duration) -> (HTTPResponse, HTTPBody?) {
        var response = response
        response.headerFields[serverTiming] = "status;desc=\"\(kept ? "kept" : "made")\";dur=\(String(format: "%.3f", took.milliseconds))"
        return (response, HTTPBody(body))
    }

    private static let serverTiming = HTTPFields.Element.Name("Server-Timing")!
}
