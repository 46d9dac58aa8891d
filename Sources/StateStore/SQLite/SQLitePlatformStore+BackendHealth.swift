import Foundation
import GRDB

extension SQLitePlatformStore {
    /// Migration "v5-backend-health".
    static func createBackendHealthTable(_ db: Database) throws {
        try db.create(table: BackendHealthRecord.databaseTableName) { t in
            t.column("probe", .text).notNull()
            t.column("subject", .text).notNull()
            t.column("up", .boolean).notNull()
            t.column("reason", .text).notNull()
            t.column("since", .datetime).notNull()
            t.primaryKey(["probe", "subject"])
        }
    }

    public func backendHealth() throws -> [BackendHealthRecord] {
        try db.read { db in try BackendHealthRecord.fetchAll(db) }
    }

    /// Saves changed rows with their events, in one transaction.
    public func saveBackendHealth(_ records: [BackendHealthRecord], events: [PlatformEvent]) throws {
        guard !records.isEmpty || !events.isEmpty else { return }
        try db.write { db in
            for r in records { try r.save(db) }
            for event in events {
                var e = event
                try e.insert(db)
            }
        }
    }
}
