import Foundation
import PlatformModel

/// What `vpctl serve` last found about a service member's backend, per probe: the heartbeat
/// reachability of the backend address (one row per address, shared by the services it backs)
/// and each service's health check (one row per service and member). Kept in the store, not only
/// in `serve`'s memory, so that `vpctl service show` and `vpctl apply` see it, and a restarted
/// `serve` starts from what was known. `serve` is its only writer.
public struct BackendHealthRecord: Codable, Sendable, Equatable {
    public enum Probe: String, StrictWords, Sendable { case heartbeat, check }
    public var probe: Probe
    /// heartbeat: the backend address; check: `BackendHealthRecord.checkSubject(service:member:)`.
    public var subject: String
    public var up: Bool
    /// What was seen, for people ("4 heartbeats missed", "HTTP 503 from 10.1.2.3:80/healthz").
    public var reason: String
    public var since: Date

    public init(probe: Probe, subject: String, up: Bool, reason: String, since: Date = Date()) {
        self.probe = probe; self.subject = subject; self.up = up; self.reason = reason; self.since = since
    }

    public static func checkSubject(service: String, member: String) -> String { "\(service)/\(member)" }
}
