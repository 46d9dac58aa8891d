import CLibvirt
import Foundation
import SystemSupport

/// A connection to a libvirt driver, opened by URI: `test:///default`, `qemu:///system`,
/// `qemu+ssh://host/system`, …
///
/// libvirt connections are thread-safe, so one `Connection` may be shared across tasks.
/// The handle is closed exactly once: by `close()` or, failing that, when the object is freed.
public final class Connection: @unchecked Sendable {
    public let uri: String
    private let lock = NSLock()
    private var rawHandle: OpaquePointer?
    private var closeWatch: CloseWatch?

    /// Opens a connection. `readOnly` opens it without write access (no authentication needed).
    public init(uri: String, readOnly: Bool = false) throws {
        Runtime.ensureStarted()
        self.uri = uri
        let flags = readOnly ? VIR_CONNECT_RO.rawValue : 0
        rawHandle = try check(virConnectOpenAuth(uri, vp_default_auth(), flags),
                              "connecting to libvirt at '\(uri)'")
    }

    deinit { close() }

    /// Closes the connection. Objects obtained from it keep libvirt's own reference and are
    /// freed independently; further calls on this connection throw.
    public func close() {
        lock.lock()
        let handle = rawHandle
        rawHandle = nil
        let watch = closeWatch
        closeWatch = nil
        lock.unlock()
        guard let handle else { return }
        watch?.unregister(from: handle)
        virConnectClose(handle)
    }

    public var isOpen: Bool {
        guard let h = try? handle() else { return false }
        return virConnectIsAlive(h) == 1
    }

    func handle() throws -> OpaquePointer {
        lock.lock(); defer { lock.unlock() }
        guard let rawHandle else { throw PlatformError(.unavailable, "libvirt connection to '\(uri)'", "closed") }
        return rawHandle
    }

    // MARK: Information

    /// Version of the hypervisor behind the driver (QEMU's version for `qemu://`).
    public func hypervisorVersion() throws -> LibvirtVersion {
        var v: UInt = 0
        try check(virConnectGetVersion(try handle(), &v), "reading the hypervisor version of '\(uri)'")
        return LibvirtVersion(encoded: v)
    }

    /// Version of libvirt on the daemon side of the connection.
    public func daemonVersion() throws -> LibvirtVersion {
        var v: UInt = 0
        try check(virConnectGetLibVersion(try handle(), &v), "reading the libvirt version of '\(uri)'")
        return LibvirtVersion(encoded: v)
    }

    public func hostname() throws -> String {
        try takeString(virConnectGetHostname(try handle()), "reading the hostname of '\(uri)'")
    }

    /// Host capabilities XML (`virConnectGetCapabilities`): the guest types and domain types offered.
    public func capabilities() throws -> String {
        try takeString(virConnectGetCapabilities(try handle()), "reading the capabilities of '\(uri)'")
    }

    /// Domain capabilities XML for one emulator/arch/machine/virt type; nil arguments let libvirt choose.
    public func domainCapabilities(emulator: String? = nil, arch: String? = nil,
                                   machine: String? = nil, virtType: String? = nil) throws -> String {
        try takeString(virConnectGetDomainCapabilities(try handle(), emulator, arch, machine, virtType, 0),
                       "reading the domain capabilities (type \(virtType ?? "default")) of '\(uri)'")
    }

    /// Turns on keepalive probes: after `count` unanswered probes sent every `interval` seconds the
    /// connection is closed, which fires the close event. Remote connections only.
    public func setKeepAlive(interval: Int32, count: UInt32) throws {
        try check(virConnectSetKeepAlive(try handle(), interval, count), "enabling keepalive on '\(uri)'")
    }

    // MARK: Domains

    /// Defines a persistent domain from XML. On failure nothing is defined.
    public func defineDomain(xml: String) throws -> Domain {
        let dom = try check(virDomainDefineXML(try handle(), xml),
                            "defining domain\(Self.nameHint(xml))")
        return Domain(handle: dom, connection: self)
    }

    /// Creates and starts a transient domain. With `autoDestroy` it is destroyed when this
    /// connection closes, so a crashed caller leaves nothing behind.
    public func createTransientDomain(xml: String, autoDestroy: Bool = false) throws -> Domain {
        let flags = autoDestroy ? VIR_DOMAIN_START_AUTODESTROY.rawValue : 0
        let dom = try check(virDomainCreateXML(try handle(), xml, flags),
                            "starting transient domain\(Self.nameHint(xml))")
        return Domain(handle: dom, connection: self)
    }

    public func domain(named name: String) throws -> Domain {
        let dom = try check(virDomainLookupByName(try handle(), name), "looking up domain '\(name)'")
        return Domain(handle: dom, connection: self)
    }

    public func domain(uuid: String) throws -> Domain {
        let dom = try check(virDomainLookupByUUIDString(try handle(), uuid), "looking up domain with UUID \(uuid)")
        return Domain(handle: dom, connection: self)
    }

    /// The domain, or nil when none has that name (other failures still throw).
    public func domainIfPresent(named name: String) throws -> Domain? {
        do { return try domain(named: name) } catch let e as LibvirtError where e.isNotFound { return nil }
    }

    /// All domains, running and defined.
    public func domains() throws -> [Domain] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = try check(virConnectListAllDomains(try handle(), &list, 0), "listing domains of '\(uri)'")
        return takeArray(list, count: n) { Domain(handle: $0, connection: self) }
    }

    /// The names of the running domains, in one call (not one `isActive` per domain).
    public func activeDomainNames() throws -> Set<String> {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = try check(virConnectListAllDomains(try handle(), &list, VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue),
                          "listing running domains of '\(uri)'")
        return Set(takeArray(list, count: n) { Domain(handle: $0, connection: self) }.map(\.name))
    }

    /// Every domain's state by name, in one call (`virConnectGetAllDomainStats` with only the
    /// state group) rather than a lookup and a `virDomainGetState` per domain.
    public func domainStates() throws -> [String: DomainStatus] {
        var records: UnsafeMutablePointer<UnsafeMutablePointer<virDomainStatsRecord>?>?
        let n = try check(virConnectGetAllDomainStats(try handle(), VIR_DOMAIN_STATS_STATE.rawValue, &records, 0),
                          "reading the domain states of '\(uri)'")
        defer { virDomainStatsRecordListFree(records) }
        var states: [String: DomainStatus] = [:]
        states.reserveCapacity(Int(n))
        for i in 0..<Int(max(n, 0)) {
            guard let record = records?[i]?.pointee, let name = virDomainGetName(record.dom) else { continue }
            var state: Int32 = 0, reason: Int32 = 0
            _ = virTypedParamsGetInt(record.params, record.nparams, "state.state", &state)
            _ = virTypedParamsGetInt(record.params, record.nparams, "state.reason", &reason)
            states[String(cString: name)] = DomainStatus(state: state, reason: reason)
        }
        return states
    }

    // MARK: Networks

    public func defineNetwork(xml: String) throws -> Network {
        let net = try check(virNetworkDefineXML(try handle(), xml), "defining network\(Self.nameHint(xml))")
        return Network(handle: net, connection: self)
    }

    public func network(named name: String) throws -> Network {
        let net = try check(virNetworkLookupByName(try handle(), name), "looking up network '\(name)'")
        return Network(handle: net, connection: self)
    }

    public func networkIfPresent(named name: String) throws -> Network? {
        do { return try network(named: name) } catch let e as LibvirtError where e.isNotFound { return nil }
    }

    public func networks() throws -> [Network] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = try check(virConnectListAllNetworks(try handle(), &list, 0), "listing networks of '\(uri)'")
        return takeArray(list, count: n) { Network(handle: $0, connection: self) }
    }

    /// The names of the running networks, in one call.
    public func activeNetworkNames() throws -> Set<String> {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = try check(virConnectListAllNetworks(try handle(), &list, VIR_CONNECT_LIST_NETWORKS_ACTIVE.rawValue),
                          "listing running networks of '\(uri)'")
        return Set(takeArray(list, count: n) { Network(handle: $0, connection: self) }.map(\.name))
    }

    // MARK: Storage

    public func defineStoragePool(xml: String) throws -> StoragePool {
        let pool = try check(virStoragePoolDefineXML(try handle(), xml, 0),
                             "defining storage pool\(Self.nameHint(xml))")
        return StoragePool(handle: pool, connection: self)
    }

    public func storagePool(named name: String) throws -> StoragePool {
        let pool = try check(virStoragePoolLookupByName(try handle(), name), "looking up storage pool '\(name)'")
        return StoragePool(handle: pool, connection: self)
    }

    public func storagePoolIfPresent(named name: String) throws -> StoragePool? {
        do { return try storagePool(named: name) } catch let e as LibvirtError where e.isNotFound { return nil }
    }

    public func storagePools() throws -> [StoragePool] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = try check(virConnectListAllStoragePools(try handle(), &list, 0), "listing storage pools of '\(uri)'")
        return takeArray(list, count: n) { StoragePool(handle: $0, connection: self) }
    }

    // MARK: Close notification (used by Events.swift)

    /// Registers libvirt's close callback once per connection and fans it out to subscribers.
    func closeWatchRegistered() throws -> CloseWatch {
        lock.lock(); defer { lock.unlock() }
        if let closeWatch { return closeWatch }
        guard let rawHandle else { throw PlatformError(.unavailable, "libvirt connection to '\(uri)'", "closed") }
        let watch = CloseWatch()
        try watch.register(on: rawHandle, uri: uri)
        closeWatch = watch
        return watch
    }

    /// " 'name'" taken from the XML's first <name> element, to make error messages specific.
    static func nameHint(_ xml: String) -> String {
        guard let start = xml.range(of: "<name>"), let end = xml.range(of: "</name>", range: start.upperBound..<xml.endIndex)
        else { return "" }
        return " '\(xml[start.upperBound..<end.lowerBound])'"
    }
}
