import AdminAPI
import CommandOutput
import Failover
import PlatformEngine
import ServiceControl
import StateStore

/// The platform in this process: its state store and libvirt, under the store's platform lock.
struct DirectAccess: PlatformAccess {
    let platform: PlatformEngine
    /// Who acted, in the journal.
    let actor: String
    /// How often `follow` looks for new events.
    static let poll: Duration = .milliseconds(200)

    var administration: Administration { get throws { Administration(engine: try platform.failoverEngine()) } }

    func status() async throws -> PlatformStatus { try await platform.status() }
    func services() async throws -> [ServiceReport] { try platform.serviceStatus().0 }
    func addressLists() async throws -> [AddressList] { try platform.serviceStatus().1 }
    func events(last: Int) async throws -> [PlatformEvent] { try platform.store.events(limit: last) }

    func follow(after: Int64) async throws -> AsyncThrowingStream<PlatformEvent, any Error> {
        let store = platform.store
        return AsyncThrowingStream { continuation in
            let polling = Task {
                var last = after
                do {
                    while !Task.isCancelled {
                        let events = try store.events(after: last, limit: 1000)
                        for event in events { continuation.yield(event); last = event.id ?? last }
                        if events.isEmpty { try await Task.sleep(for: Self.poll) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in polling.cancel() }
        }
    }

    func move(_ personality: String, to target: String?) async throws -> FailoverRecord {
        try await administration.move(personality, to: target) { Progress.say($0) }
    }

    func abort(_ personality: String) async throws -> FailoverRecord {
        try await administration.abort(personality, who: actor) { Progress.say($0) }
    }

    func fence(_ processor: String, confirm: Bool) async throws -> String {
        try await administration.fence(processor, confirm: confirm, who: actor)
    }

    func repair(_ processor: String) async throws -> String { try await administration.repair(processor, who: actor) }
}
