import CLibvirt
import Foundation

/// A libvirt storage pool (a directory, LVM volume group, iSCSI target, …). Freed exactly once.
public final class StoragePool: @unchecked Sendable {
    let handle: OpaquePointer
    public let connection: Connection

    init(handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { virStoragePoolFree(handle) }

    public var name: String { virStoragePoolGetName(handle).map { String(cString: $0) } ?? "?" }

    public func uuid() throws -> String {
        try readUUID("reading the UUID of storage pool '\(name)'") { virStoragePoolGetUUIDString(handle, $0) }
    }

    public func isActive() throws -> Bool {
        try check(virStoragePoolIsActive(handle), "checking whether storage pool '\(name)' is active") == 1
    }

    /// Creates the pool's underlying storage (e.g. the directory of a `dir` pool).
    public func build() throws { try check(virStoragePoolBuild(handle, 0), "building storage pool '\(name)'") }
    public func start() throws { try check(virStoragePoolCreate(handle, 0), "starting storage pool '\(name)'") }
    public func refresh() throws { try check(virStoragePoolRefresh(handle, 0), "refreshing storage pool '\(name)'") }
    public func destroy() throws { try check(virStoragePoolDestroy(handle), "stopping storage pool '\(name)'") }
    /// Deletes the pool's underlying storage (the pool must be stopped and, for dir pools, empty).
    public func delete() throws { try check(virStoragePoolDelete(handle, 0), "deleting storage pool '\(name)'") }
    public func undefine() throws { try check(virStoragePoolUndefine(handle), "undefining storage pool '\(name)'") }

    public func setAutostart(_ on: Bool) throws {
        try check(virStoragePoolSetAutostart(handle, on ? 1 : 0), "setting autostart of storage pool '\(name)'")
    }

    public func xml() throws -> String {
        try takeString(virStoragePoolGetXMLDesc(handle, 0), "reading the XML of storage pool '\(name)'")
    }

    public func createVolume(xml: String) throws -> StorageVolume {
        let vol = try check(virStorageVolCreateXML(handle, xml, 0),
                            "creating volume\(Connection.nameHint(xml)) in storage pool '\(name)'")
        return StorageVolume(handle: vol, pool: self)
    }

    public func volume(named volumeName: String) throws -> StorageVolume {
        let vol = try check(virStorageVolLookupByName(handle, volumeName),
                            "looking up volume '\(volumeName)' in storage pool '\(name)'")
        return StorageVolume(handle: vol, pool: self)
    }

    public func volumeIfPresent(named volumeName: String) throws -> StorageVolume? {
        do { return try volume(named: volumeName) } catch let e as LibvirtError where e.isNotFound { return nil }
    }

    public func volumes() throws -> [StorageVolume] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = try check(virStoragePoolListAllVolumes(handle, &list, 0), "listing volumes of storage pool '\(name)'")
        return takeArray(list, count: n) { StorageVolume(handle: $0, pool: self) }
    }
}

/// A volume in a storage pool. Freed exactly once.
public final class StorageVolume: @unchecked Sendable {
    let handle: OpaquePointer
    public let pool: StoragePool

    init(handle: OpaquePointer, pool: StoragePool) {
        self.handle = handle
        self.pool = pool
    }

    deinit { virStorageVolFree(handle) }

    public var name: String { virStorageVolGetName(handle).map { String(cString: $0) } ?? "?" }

    /// The path a domain's `<disk>` uses to reach the volume.
    public func path() throws -> String {
        try takeString(virStorageVolGetPath(handle), "reading the path of volume '\(name)'")
    }

    public func capacityBytes() throws -> UInt64 {
        var info = virStorageVolInfo()
        try check(virStorageVolGetInfo(handle, &info), "reading the size of volume '\(name)'")
        return UInt64(info.capacity)
    }

    public func xml() throws -> String {
        try takeString(virStorageVolGetXMLDesc(handle, 0), "reading the XML of volume '\(name)'")
    }

    public func delete() throws {
        try check(virStorageVolDelete(handle, 0), "deleting volume '\(name)' of storage pool '\(pool.name)'")
    }
}
