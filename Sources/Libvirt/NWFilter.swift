import CLibvirt

/// A libvirt network filter (nwfilter): rules libvirt instantiates on a guest's tap device when the
/// interface starts or is hot-plugged, and removes when it goes. Freed exactly once.
public final class NWFilter: @unchecked Sendable {
    let handle: OpaquePointer
    public let connection: Connection

    init(handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { virNWFilterFree(handle) }

    public var name: String { virNWFilterGetName(handle).map { String(cString: $0) } ?? "?" }

    public func uuid() throws -> String {
        try readUUID("reading the UUID of network filter '\(name)'") { virNWFilterGetUUIDString(handle, $0) }
    }

    public func xml() throws -> String {
        try takeString(virNWFilterGetXMLDesc(handle, 0), "reading the XML of network filter '\(name)'")
    }
}

extension Connection {
    /// Defines (or, for a filter of the same name and UUID, redefines) a network filter. libvirt
    /// re-instantiates a redefined filter on every running interface that references it.
    @discardableResult
    public func defineNWFilter(xml: String) throws -> NWFilter {
        let filter = try check(virNWFilterDefineXML(try handle(), xml), "defining network filter\(Self.nameHint(xml))")
        return NWFilter(handle: filter, connection: self)
    }

    /// The filter named `name`, nil when there is none. Throws when the host has no nwfilter driver.
    public func nwfilterIfPresent(named name: String) throws -> NWFilter? {
        guard let filter = virNWFilterLookupByName(try handle(), name) else {
            let error = LibvirtError.last("looking up network filter '\(name)'")
            if error.code == Int32(VIR_ERR_NO_NWFILTER.rawValue) { return nil }
            throw error
        }
        return NWFilter(handle: filter, connection: self)
    }
}
