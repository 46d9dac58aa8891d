import CLibvirt
import Foundation

/// A libvirt virtual network (a bridge, optionally with DHCP). Freed exactly once.
public final class Network: @unchecked Sendable {
    let handle: OpaquePointer
    public let connection: Connection

    init(handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { virNetworkFree(handle) }

    public var name: String { virNetworkGetName(handle).map { String(cString: $0) } ?? "?" }

    public func uuid() throws -> String {
        try readUUID("reading the UUID of network '\(name)'") { virNetworkGetUUIDString(handle, $0) }
    }

    public func isActive() throws -> Bool {
        try check(virNetworkIsActive(handle), "checking whether network '\(name)' is active") == 1
    }

    /// The Linux bridge carrying the network.
    public func bridgeName() throws -> String {
        try takeString(virNetworkGetBridgeName(handle), "reading the bridge of network '\(name)'")
    }

    public func start() throws { try check(virNetworkCreate(handle), "starting network '\(name)'") }
    public func destroy() throws { try check(virNetworkDestroy(handle), "stopping network '\(name)'") }
    public func undefine() throws { try check(virNetworkUndefine(handle), "undefining network '\(name)'") }

    public func setAutostart(_ on: Bool) throws {
        try check(virNetworkSetAutostart(handle, on ? 1 : 0), "setting autostart of network '\(name)'")
    }

    public func xml(inactive: Bool = false) throws -> String {
        let flags = inactive ? VIR_NETWORK_XML_INACTIVE.rawValue : 0
        return try takeString(virNetworkGetXMLDesc(handle, flags), "reading the XML of network '\(name)'")
    }

    public enum DHCPHostChange: Sendable { case add, modify, delete }

    /// Adds, changes or removes a DHCP reservation (`<host mac='…' ip='…'/>`) on the live network
    /// and in its persistent definition, without restarting it.
    public func updateDHCPHost(_ change: DHCPHostChange, hostXML: String, live: Bool = true, config: Bool = true) throws {
        let command: virNetworkUpdateCommand
        switch change {
        case .add: command = VIR_NETWORK_UPDATE_COMMAND_ADD_LAST
        case .modify: command = VIR_NETWORK_UPDATE_COMMAND_MODIFY
        case .delete: command = VIR_NETWORK_UPDATE_COMMAND_DELETE
        }
        var flags: UInt32 = 0
        if live { flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE.rawValue }
        if config { flags |= VIR_NETWORK_UPDATE_AFFECT_CONFIG.rawValue }
        try check(virNetworkUpdate(handle, command.rawValue, VIR_NETWORK_SECTION_IP_DHCP_HOST.rawValue, -1,
                                   hostXML, flags),
                  "updating a DHCP host of network '\(name)'")
    }
}
