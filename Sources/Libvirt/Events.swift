import CLibvirt
import Foundation

/// Something that happened on a connection: a domain lifecycle change, or the connection closing.
public enum ConnectionEvent: Sendable, Equatable {
    case domain(DomainEvent)
    /// The connection closed (daemon gone, keepalive timeout, …). The stream ends after this.
    case closed(CloseReason)
}

public enum CloseReason: String, Sendable, Codable {
    case error, eof, keepalive, client, unknown

    init(_ raw: Int32) {
        switch UInt32(raw) {
        case VIR_CONNECT_CLOSE_REASON_ERROR.rawValue: self = .error
        case VIR_CONNECT_CLOSE_REASON_EOF.rawValue: self = .eof
        case VIR_CONNECT_CLOSE_REASON_KEEPALIVE.rawValue: self = .keepalive
        case VIR_CONNECT_CLOSE_REASON_CLIENT.rawValue: self = .client
        default: self = .unknown
        }
    }
}

/// A domain lifecycle event (libvirt's `VIR_DOMAIN_EVENT_ID_LIFECYCLE`).
public struct DomainEvent: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case defined, undefined, started, suspended, resumed, stopped, shutdown, pmSuspended, crashed, unknown
    }
    public let domainName: String
    public let domainUUID: String
    public let kind: Kind
    /// libvirt's detail code, e.g. `VIR_DOMAIN_EVENT_STOPPED_FAILED`.
    public let detailCode: Int32
    /// When the event reached this process.
    public let receivedAt: Date

    /// The detail in words, e.g. "failed" for a stopped domain whose QEMU died.
    public var detail: String {
        let table: [String]
        switch kind {
        case .defined: table = ["added", "updated", "renamed", "from snapshot"]
        case .undefined: table = ["removed", "renamed"]
        case .started: table = ["booted", "migrated", "restored", "from snapshot", "wakeup"]
        case .suspended:
            table = ["paused", "migrated", "I/O error", "watchdog", "restored", "from snapshot",
                     "API error", "postcopy", "postcopy failed"]
        case .resumed: table = ["unpaused", "migrated", "from snapshot", "postcopy", "postcopy failed"]
        case .stopped: table = ["shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"]
        case .shutdown: table = ["finished", "guest", "host"]
        case .pmSuspended: table = ["memory", "disk"]
        case .crashed: table = ["panicked", "crashloaded"]
        case .unknown: table = []
        }
        return detailCode >= 0 && Int(detailCode) < table.count ? table[Int(detailCode)] : "detail \(detailCode)"
    }

    public var description: String { "domain '\(domainName)' \(kind.rawValue) (\(detail))" }

    /// True for the events that mean the guest stopped running without being asked to:
    /// QEMU died or crashed, the guest panicked, or it paused on an I/O error.
    public var isUnexpectedStop: Bool {
        switch kind {
        case .crashed: return true
        case .stopped: return detailCode == Int32(VIR_DOMAIN_EVENT_STOPPED_FAILED.rawValue)
            || detailCode == Int32(VIR_DOMAIN_EVENT_STOPPED_CRASHED.rawValue)
        case .suspended: return detailCode == Int32(VIR_DOMAIN_EVENT_SUSPENDED_IOERROR.rawValue)
        default: return false
        }
    }

    init(domainName: String, domainUUID: String, event: Int32, detail: Int32, receivedAt: Date = Date()) {
        let kinds: [Kind] = [.defined, .undefined, .started, .suspended, .resumed, .stopped, .shutdown, .pmSuspended, .crashed]
        self.domainName = domainName
        self.domainUUID = domainUUID
        self.kind = event >= 0 && Int(event) < kinds.count ? kinds[Int(event)] : .unknown
        self.detailCode = detail
        self.receivedAt = receivedAt
    }
}

extension Connection {
    /// A stream of lifecycle events of every domain on this connection, ending with `.closed`
    /// when the connection closes. Delivered by libvirt's event loop thread; cancel the consuming
    /// task (or drop the stream) to unregister.
    public func events(bufferingNewest limit: Int = 4096) throws -> AsyncStream<ConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self,
                                                            bufferingPolicy: .bufferingNewest(limit))
        let sink = EventSink(continuation)
        let watch = try closeWatchRegistered()
        let h = try handle()

        let opaque = Unmanaged.passRetained(sink).toOpaque()
        let callback: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
            _, dom, event, detail, opaque in
            guard let dom, let opaque else { return 0 }
            let sink = Unmanaged<EventSink>.fromOpaque(opaque).takeUnretainedValue()
            let name = virDomainGetName(dom).map { String(cString: $0) } ?? "?"
            let uuid = (try? readUUID("reading an event's domain UUID") { virDomainGetUUIDString(dom, $0) }) ?? ""
            sink.continuation.yield(.domain(DomainEvent(domainName: name, domainUUID: uuid, event: event, detail: detail)))
            return 0
        }
        let id = virConnectDomainEventRegisterAny(
            h, nil, Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue),
            unsafeBitCast(callback, to: virConnectDomainEventGenericCallback.self), opaque,
            { opaque in opaque.map { Unmanaged<EventSink>.fromOpaque($0).release() } })
        if id < 0 {
            let error = LibvirtError.last("subscribing to domain events of '\(uri)'")
            Unmanaged<EventSink>.fromOpaque(opaque).release()
            throw error
        }
        watch.add(sink)
        continuation.onTermination = { [weak self, weak watch, weak sink] _ in
            if let sink { watch?.remove(sink) }
            // Once the connection is closed libvirt has dropped the registration itself.
            if let h = try? self?.handle() { virConnectDomainEventDeregisterAny(h, id) }
        }
        return stream
    }
}

/// Holds one stream's continuation; its lifetime is owned by libvirt's callback registration.
final class EventSink: @unchecked Sendable {
    let continuation: AsyncStream<ConnectionEvent>.Continuation
    init(_ continuation: AsyncStream<ConnectionEvent>.Continuation) { self.continuation = continuation }
}

/// libvirt allows one close callback per connection; this registers it once and fans the
/// notification out to every event stream of the connection.
final class CloseWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var sinks: [ObjectIdentifier: EventSink] = [:]
    private var registered = false

    private static let callback: virConnectCloseFunc = { _, reason, opaque in
        guard let opaque else { return }
        Unmanaged<CloseWatch>.fromOpaque(opaque).takeUnretainedValue().connectionClosed(CloseReason(reason))
    }

    func register(on handle: OpaquePointer, uri: String) throws {
        let opaque = Unmanaged.passRetained(self).toOpaque()
        let status = virConnectRegisterCloseCallback(handle, Self.callback, opaque) { opaque in
            opaque.map { Unmanaged<CloseWatch>.fromOpaque($0).release() }
        }
        if status < 0 {
            let error = LibvirtError.last("watching for the connection to '\(uri)' closing")
            Unmanaged<CloseWatch>.fromOpaque(opaque).release()
            throw error
        }
        registered = true
    }

    /// Called by `Connection.close()`: the streams end with `.closed(.client)`.
    func unregister(from handle: OpaquePointer) {
        if registered { virConnectUnregisterCloseCallback(handle, Self.callback) }
        connectionClosed(.client)
    }

    func add(_ sink: EventSink) {
        lock.lock(); defer { lock.unlock() }
        sinks[ObjectIdentifier(sink)] = sink
    }

    func remove(_ sink: EventSink) {
        lock.lock(); defer { lock.unlock() }
        sinks[ObjectIdentifier(sink)] = nil
    }

    private func connectionClosed(_ reason: CloseReason) {
        lock.lock()
        let all = Array(sinks.values)
        sinks.removeAll()
        lock.unlock()
        for sink in all {
            sink.continuation.yield(.closed(reason))
            sink.continuation.finish()
        }
    }
}
