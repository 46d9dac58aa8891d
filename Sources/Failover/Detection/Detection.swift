import Foundation

/// Something a failure detector noticed, with when it noticed it.
public struct Detection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The processor is gone or hung: its personality must move.
        case processorFailed(reason: String)
        /// One of its addresses stopped answering (an event, not a failover).
        case adapterUnreachable(vlan: String, ip: String)
        case adapterReachable(vlan: String, ip: String)
        /// The connection to the processor's host closed: its processors are suspect.
        case hostLost(reason: String)
        case hostBack
    }
    /// libvirt events; the QEMU process itself (pidfd, local hosts); heartbeats to the guest.
    public enum Source: String, Sendable { case libvirt, hypervisor, heartbeat }

    /// The processor (for host events: the host name).
    public var subject: String
    public var kind: Kind
    public var source: Source
    public var at: Date

    public init(subject: String, kind: Kind, source: Source, at: Date = Date()) {
        self.subject = subject; self.kind = kind; self.source = source; self.at = at
    }
}
