import AdminClient
import PlatformEngine
import ServiceControl
import StateStore
import SystemSupport

/// The platform through a running `vpctl serve`: each call is the admin API route the server
/// serves with the same library call `DirectAccess` makes. The daemon journals its actions as
/// the admin API's.
struct DaemonAccess: PlatformAccess {
    let client: AdminClient

    func status() async throws -> PlatformStatus { try await client.status() }
    func services() async throws -> [ServiceReport] { try await client.services() }
    func addressLists() async throws -> [AddressList] { try await client.status().addressLists }
    func events(last: Int) async throws -> [PlatformEvent] { try await client.events(limit: last) }
    func follow(after: Int64) async throws -> AsyncThrowingStream<PlatformEvent, any Error> { try await client.followEvents(after: after) }

    func move(_ personality: String, to target: String?) async throws -> FailoverRecord {
        try await client.failover(.init(personality: personality, to: target))
    }

    /// The API aborts a move by its id: the personality's unfinished one.
    func abort(_ personality: String) async throws -> FailoverRecord {
        guard let id = try await client.moves().first(where: { $0.personality == personality && !$0.step.isFinished })?.id else {
            // The words of the store's refusal, as the direct path says them.
            throw PlatformError(.conflict, "personality '\(personality)'", "not being moved: nothing to abort")
        }
        return try await client.abortMove(id: id)
    }

    func fence(_ processor: String, confirm: Bool) async throws -> String {
        try await client.fence(.init(processor: processor, confirm: confirm)).message
    }

    func repair(_ processor: String) async throws -> String { try await client.repair(.init(processor: processor)).message }
}
