import GRDB

// The records as rows of the SQLite store's tables (their columns are the records' coding keys).

extension JournalEntry: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "journal"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension FailoverRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "failover"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension PlatformEvent: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "event"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension ProcessorState: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "processorState"
}

extension BackendHealthRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "backendHealth"
}

extension VolumeRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "volume"
}
