import Failover
import PlatformEngine
import ServiceControl
import StateStore

/// What the commands that work with or without a running `vpctl serve` ask of the platform:
/// directly (`DirectAccess`) or through the daemon's admin API (`DaemonAccess`), with the same
/// answers, so that each command prints the same either way.
protocol PlatformAccess: Sendable {
    func status() async throws -> PlatformStatus
    func services() async throws -> [ServiceReport]
    /// Every processor's ordered address list for each service.
    func addressLists() async throws -> [AddressList]
    /// The last `last` events, oldest first.
    func events(last: Int) async throws -> [PlatformEvent]
    /// Events after `after` as they are recorded, until cancelled.
    func follow(after: Int64) async throws -> AsyncThrowingStream<PlatformEvent, any Error>
    /// A planned move; returns the finished move.
    func move(_ personality: String, to target: String?) async throws -> FailoverRecord
    /// Aborts the personality's unfinished move; returns it as it then stands.
    func abort(_ personality: String) async throws -> FailoverRecord
    /// The sentence saying what was done.
    func fence(_ processor: String, confirm: Bool) async throws -> String
    func repair(_ processor: String) async throws -> String
}
