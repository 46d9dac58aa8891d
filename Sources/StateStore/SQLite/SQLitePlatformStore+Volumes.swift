import Foundation
import GRDB

extension SQLitePlatformStore {
    /// Migration "v3-volumes".
    static func createVolumeTable(_ db: Database) throws {
        try db.create(table: "volume") { t in
            t.column("host", .text).notNull()
            t.column("pool", .text).notNull()
            t.column("name", .text).notNull()
            t.column("createdAt", .datetime).notNull()
            t.primaryKey(["host", "pool", "name"])
        }
    }

    public func createdVolumes() throws -> [VolumeRecord] {
        try db.read { db in try VolumeRecord.order(Column("host"), Column("pool"), Column("name")).fetchAll(db) }
    }

    /// Written right after libvirt created the volume: a crash in between leaves a volume the
    /// platform does not delete, never a record of one it did not create.
    public func recordCreatedVolume(host: String, pool: String, name: String) throws {
        // One statement, not save's update-then-insert: an apply records thousands of volumes.
        try db.write { db in try VolumeRecord(host: host, pool: pool, name: name).insert(db, onConflict: .replace) }
    }

    public func forgetVolume(host: String, pool: String, name: String) throws {
        try db.write { db in
            try db.execute(sql: "DELETE FROM volume WHERE host = ? AND pool = ? AND name = ?", arguments: [host, pool, name])
        }
    }
}
