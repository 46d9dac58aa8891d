import CLibvirt
import Foundation

/// What `virNodeGetInfo` says about the machine behind a connection.
public struct NodeInfo: Sendable, Equatable {
    public let cpuModel: String
    public let memoryKiB: UInt64
    /// Active CPUs.
    public let cpus: Int
    public let mhz: Int
}

/// A host network interface as libvirt's interface driver reports it (`virInterface`).
public struct HostInterface: Sendable, Equatable {
    public let name: String
    public let mac: String
    public let active: Bool
    /// The interface's definition (`virInterfaceGetXMLDesc`): addresses appear only where the
    /// driver knows them (netcf, the test driver), not with the udev backend.
    public let xml: String
}

extension Connection {
    public func nodeInfo() throws -> NodeInfo {
        var info = virNodeInfo()
        try check(virNodeGetInfo(try handle(), &info), "reading the CPUs and memory of '\(uri)'")
        let model = withUnsafeBytes(of: info.model) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return NodeInfo(cpuModel: model, memoryKiB: UInt64(info.memory), cpus: Int(info.cpus), mhz: Int(info.mhz))
    }

    /// Every interface of the host, active or not.
    public func hostInterfaces() throws -> [HostInterface] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let flags = VIR_CONNECT_LIST_INTERFACES_ACTIVE.rawValue | VIR_CONNECT_LIST_INTERFACES_INACTIVE.rawValue
        let n = try check(virConnectListAllInterfaces(try handle(), &list, flags), "listing the host interfaces of '\(uri)'")
        let handles = takeArray(list, count: n) { $0 }
        defer { handles.forEach { virInterfaceFree($0) } }
        return try handles.map { iface in
            let name = virInterfaceGetName(iface).map { String(cString: $0) } ?? "?"
            let mac = virInterfaceGetMACString(iface).map { String(cString: $0) } ?? ""
            let active = try check(virInterfaceIsActive(iface), "checking whether host interface '\(name)' is up") == 1
            let xml = try takeString(virInterfaceGetXMLDesc(iface, 0), "reading host interface '\(name)'")
            return HostInterface(name: name, mac: mac, active: active, xml: xml)
        }
    }

    /// Starts a pool that lives only until it is stopped (`virStoragePoolCreateXML`), e.g. to
    /// look at a directory through libvirt without defining anything.
    public func createTransientStoragePool(xml: String) throws -> StoragePool {
        let pool = try check(virStoragePoolCreateXML(try handle(), xml, 0), "starting storage pool\(Self.nameHint(xml))")
        return StoragePool(handle: pool, connection: self)
    }
}

/// Sizes of a storage pool (`virStoragePoolGetInfo`).
public struct StoragePoolInfo: Sendable, Equatable {
    public let capacityBytes: UInt64
    public let allocationBytes: UInt64
    public let availableBytes: UInt64
}

extension StoragePool {
    public func info() throws -> StoragePoolInfo {
        var info = virStoragePoolInfo()
        try check(virStoragePoolGetInfo(handle, &info), "reading the sizes of storage pool '\(name)'")
        return StoragePoolInfo(capacityBytes: UInt64(info.capacity), allocationBytes: UInt64(info.allocation),
                               availableBytes: UInt64(info.available))
    }
}
