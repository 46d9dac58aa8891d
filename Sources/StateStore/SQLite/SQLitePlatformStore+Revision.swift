import GRDB

extension SQLitePlatformStore {
    /// The tables status reads: a write to any of them is a new state revision.
    static let revisedTables = ["binding", "allocation", "failover", "processorState", "backendHealth"]

    /// Migration "v6-state-revision": one counter row, bumped by triggers in the transaction of
    /// every write to `revisedTables`, whichever process or handle writes.
    static func createStateRevision(_ db: Database) throws {
        try db.execute(sql: "CREATE TABLE stateRevision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)")
        try db.execute(sql: "INSERT INTO stateRevision (id, value) VALUES (1, 0)")
        for table in revisedTables {
            for operation in ["INSERT", "UPDATE", "DELETE"] {
                try db.execute(sql: """
                    CREATE TRIGGER \(table)_\(operation.lowercased())_revises AFTER \(operation) ON \(table)
                    BEGIN UPDATE stateRevision SET value = value + 1 WHERE id = 1; END
                    """)
            }
        }
    }

    public func stateRevision() throws -> Int64 {
        try db.read { db in try Int64.fetchOne(db, sql: "SELECT value FROM stateRevision WHERE id = 1") ?? 0 }
    }
}
