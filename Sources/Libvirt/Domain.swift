import CLibvirt
import Foundation

/// Where a device change applies: the running guest, its persistent definition, or both.
public struct DeviceModification: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Whatever the domain is now: live if running, config otherwise.
    public static let current = DeviceModification([])
    public static let live = DeviceModification(rawValue: VIR_DOMAIN_AFFECT_LIVE.rawValue)
    public static let config = DeviceModification(rawValue: VIR_DOMAIN_AFFECT_CONFIG.rawValue)
}

/// A domain's state and why it is in it (libvirt's `virDomainGetState`).
public struct DomainStatus: Sendable, Equatable, CustomStringConvertible {
    public enum State: String, Sendable, Codable {
        case noState = "nostate", running, blocked, paused, shuttingDown = "shutting-down"
        case shutoff, crashed, pmSuspended = "pmsuspended"
    }
    public let state: State
    /// libvirt's reason code for the state (e.g. `VIR_DOMAIN_PAUSED_IOERROR`).
    public let reasonCode: Int32
    /// The reason in words, e.g. "I/O error" for a paused domain.
    public var reason: String { Self.reasonText(state, reasonCode) }
    public var description: String { "\(state.rawValue) (\(reason))" }

    public var isActive: Bool { state != .shutoff && state != .crashed && state != .noState }

    /// A state as a fake host reports it.
    public init(_ state: State, reasonCode: Int32 = 0) { self.state = state; self.reasonCode = reasonCode }

    init(state raw: Int32, reason: Int32) {
        let map: [UInt32: State] = [
            VIR_DOMAIN_RUNNING.rawValue: .running, VIR_DOMAIN_BLOCKED.rawValue: .blocked,
            VIR_DOMAIN_PAUSED.rawValue: .paused, VIR_DOMAIN_SHUTDOWN.rawValue: .shuttingDown,
            VIR_DOMAIN_SHUTOFF.rawValue: .shutoff, VIR_DOMAIN_CRASHED.rawValue: .crashed,
            VIR_DOMAIN_PMSUSPENDED.rawValue: .pmSuspended,
        ]
        state = map[UInt32(raw)] ?? .noState
        reasonCode = reason
    }

    static func reasonText(_ state: State, _ code: Int32) -> String {
        let table: [String]
        switch state {
        case .running:
            table = ["unknown", "booted", "migrated", "restored", "from snapshot", "unpaused",
                     "migration canceled", "save canceled", "woken up", "crashed", "postcopy"]
        case .paused:
            table = ["unknown", "user", "migration", "save", "dump", "I/O error", "watchdog",
                     "from snapshot", "shutting down", "snapshot", "crashed", "starting up",
                     "postcopy", "postcopy failed"]
        case .shutoff:
            table = ["unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
                     "from snapshot", "daemon"]
        case .crashed:
            table = ["unknown", "panicked"]
        case .shuttingDown:
            table = ["unknown", "user"]
        case .blocked, .pmSuspended, .noState:
            table = ["unknown"]
        }
        return code >= 0 && Int(code) < table.count ? table[Int(code)] : "reason \(code)"
    }
}

/// A libvirt domain (a guest). Freed exactly once when the object goes away.
public final class Domain: @unchecked Sendable {
    let handle: OpaquePointer
    /// Keeps the connection open while the domain is in use.
    public let connection: Connection

    init(handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { virDomainFree(handle) }

    public var name: String { virDomainGetName(handle).map { String(cString: $0) } ?? "?" }

    public func uuid() throws -> String {
        try readUUID("reading the UUID of domain '\(name)'") { virDomainGetUUIDString(handle, $0) }
    }

    /// The hypervisor id of a running domain; nil when it is not running.
    public var id: UInt32? {
        let id = virDomainGetID(handle)
        return id == UInt32.max ? nil : id
    }

    public func isActive() throws -> Bool {
        try check(virDomainIsActive(handle), "checking whether domain '\(name)' is running") == 1
    }

    public func isPersistent() throws -> Bool {
        try check(virDomainIsPersistent(handle), "checking whether domain '\(name)' is persistent") == 1
    }

    public func status() throws -> DomainStatus {
        var state: Int32 = 0, reason: Int32 = 0
        try check(virDomainGetState(handle, &state, &reason, 0), "reading the state of domain '\(name)'")
        return DomainStatus(state: state, reason: reason)
    }

    // MARK: Lifecycle

    public func start() throws {
        try check(virDomainCreate(handle), "starting domain '\(name)'")
    }

    /// Powers the domain off at once (like pulling the plug).
    public func destroy() throws {
        try check(virDomainDestroy(handle), "destroying domain '\(name)'")
    }

    /// Asks the guest to shut down (ACPI); returns before it has.
    public func shutdown() throws {
        try check(virDomainShutdown(handle), "shutting down domain '\(name)'")
    }

    /// Removes the persistent definition (and its managed-save image and snapshot metadata).
    /// A running domain keeps running as a transient one until destroyed.
    public func undefine() throws {
        let flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
        try check(virDomainUndefineFlags(handle, flags), "undefining domain '\(name)'")
    }

    // MARK: Description and devices

    /// The domain XML; `inactive` gives the persistent definition instead of the live one.
    public func xml(inactive: Bool = false) throws -> String {
        let flags = inactive ? VIR_DOMAIN_XML_INACTIVE.rawValue : 0
        return try takeString(virDomainGetXMLDesc(handle, flags), "reading the XML of domain '\(name)'")
    }

    public func attachDevice(xml: String, _ modification: DeviceModification = .current) throws {
        try check(virDomainAttachDeviceFlags(handle, xml, modification.rawValue),
                  "attaching a device to domain '\(name)'")
    }

    public func detachDevice(xml: String, _ modification: DeviceModification = .current) throws {
        try check(virDomainDetachDeviceFlags(handle, xml, modification.rawValue),
                  "detaching a device from domain '\(name)'")
    }

    /// Changes a device in place, e.g. an interface's `<link state='down'/>`.
    public func updateDevice(xml: String, _ modification: DeviceModification = .current) throws {
        try check(virDomainUpdateDeviceFlags(handle, xml, modification.rawValue),
                  "updating a device of domain '\(name)'")
    }

    // MARK: Metadata

    /// Stores an XML element under the namespace `uri`, written as `<key:…>`.
    public func setMetadata(xml: String, key: String, uri: String, _ modification: DeviceModification = .current) throws {
        try check(virDomainSetMetadata(handle, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), xml, key, uri,
                                       modification.rawValue),
                  "setting metadata \(uri) on domain '\(name)'")
    }

    /// Removes the metadata element of namespace `uri`.
    public func removeMetadata(uri: String, _ modification: DeviceModification = .current) throws {
        try check(virDomainSetMetadata(handle, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), nil, nil, uri,
                                       modification.rawValue),
                  "removing metadata \(uri) from domain '\(name)'")
    }

    /// The metadata element of namespace `uri`, or nil when the domain has none.
    public func metadata(uri: String, _ modification: DeviceModification = .current) throws -> String? {
        do {
            return try takeString(virDomainGetMetadata(handle, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), uri,
                                                       modification.rawValue),
                                  "reading metadata \(uri) of domain '\(name)'")
        } catch let e as LibvirtError where e.isNotFound {
            return nil
        }
    }

    // MARK: QEMU

    /// Sends a QMP command to the domain's QEMU monitor and returns QEMU's JSON reply.
    /// QEMU/KVM domains only (e.g. `{"execute":"announce-self",…}`).
    public func qemuMonitorCommand(_ command: String) throws -> String {
        var result: UnsafeMutablePointer<CChar>?
        try check(virDomainQemuMonitorCommand(handle, command, &result, 0),
                  "sending a QEMU monitor command to domain '\(name)'")
        return try takeString(result, "reading the QEMU monitor reply of domain '\(name)'")
    }
}
