import AgentProtocol
import Dispatch

/// Whether a moved personality answers on its addresses: the heartbeat the agent answers, or in
/// unit tests a fake.
public protocol AnswerProbe: Sendable {
    /// The addresses that did not answer.
    func silent(_ addresses: [DestinationEntry.Address], port: UInt16) async -> [DestinationEntry.Address]
}

/// Pings on a dispatch thread: a blocking wait for a reply must not hold a thread of Swift's
/// cooperative pool (one per core), which every other task of the process needs.
public struct HeartbeatAnswerProbe: AnswerProbe {
    public init() {}
    public func silent(_ addresses: [DestinationEntry.Address], port: UInt16) async -> [DestinationEntry.Address] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: addresses.filter {
                    (try? HeartbeatProbe.ping($0.ip, port: port, timeout: .milliseconds(50))) ?? nil == nil
                })
            }
        }
    }
}
