import Foundation
import GRDB
import PlatformModel

/// One line of the append-only journal: every change the controller made, when and why.
public struct JournalEntry: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "journal"
    public var id: Int64?
    public var time: Date
    /// Who acted, e.g. "vpctl apply (pid 4242)".
    public var actor: String
    /// Why, e.g. "apply -f demo.yaml".
    public var cause: String
    /// What, e.g. "domain p1 on local".
    public var object: String
    /// create, update, delete, start, stop, bind, allocate, …
    public var action: String
    public var detail: String

    public init(time: Date = Date(), actor: String, cause: String, object: String, action: String, detail: String = "") {
        self.time = time; self.actor = actor; self.cause = cause; self.object = object; self.action = action; self.detail = detail
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The controller's memory in embedded SQLite: personality → processor bindings, NIC address
/// allocations, and the journal. Safe for several `vpctl` processes at once: SQLite serialises
/// writers (WAL, busy timeout), and `exclusively` holds a lock file across a whole apply.
public final class StateStore: Sendable {
    public let path: String
    let db: DatabasePool

    public static func defaultPath(platform: String) -> String { "/var/lib/virtualplatform/\(platform)/state.sqlite" }

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            db = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(db)
        } catch {
            throw StateStoreError("opening the state store \(path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "binding") { t in
                t.primaryKey("personality", .text)
                t.column("processor", .text).notNull().unique()
            }
            try db.create(table: "allocation") { t in
                t.primaryKey("key", .text)
                t.column("mac", .text).notNull().unique()
                t.column("ip", .text).notNull()
            }
            try db.create(table: "journal") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .datetime).notNull()
                t.column("actor", .text).notNull()
                t.column("cause", .text).notNull()
                t.column("object", .text).notNull()
                t.column("action", .text).notNull()
                t.column("detail", .text).notNull()
            }
        }
        m.registerMigration("v2-failover") { db in
            try db.create(table: "failover") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("personality", .text).notNull()
                t.column("source", .text).notNull()
                t.column("sourceHost", .text).notNull()
                t.column("target", .text)
                t.column("targetHost", .text)
                t.column("step", .text).notNull()
                t.column("planned", .boolean).notNull()
                t.column("reason", .text).notNull()
                t.column("detectedAt", .datetime).notNull()
                t.column("declaredAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.column("fenceConfirmedBy", .text)
            }
            try db.create(table: "processorState") { t in
                t.primaryKey("processor", .text)
                t.column("state", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("since", .datetime).notNull()
            }
            try db.create(table: "event") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .datetime).notNull()
                t.column("kind", .text).notNull()
                t.column("processor", .text)
                t.column("personality", .text)
                t.column("detail", .text).notNull()
                t.column("durationMs", .double)
            }
        }
        m.registerMigration("v3-backend-health") { db in try BackendHealthRecord.createTable(db) }
        return m
    }

    // MARK: Bindings and allocations

    public func bindings() throws -> [String: String] {
        try db.read { db in
            try Dictionary(Row.fetchAll(db, sql: "SELECT personality, processor FROM binding").map { ($0["personality"], $0["processor"]) },
                           uniquingKeysWith: { a, _ in a })
        }
    }

    public func allocations() throws -> [String: NICAllocation] {
        try db.read { db in
            try Dictionary(Row.fetchAll(db, sql: "SELECT key, mac, ip FROM allocation").map {
                ($0["key"], NICAllocation(key: $0["key"], mac: $0["mac"], ip: $0["ip"]))
            }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Replaces the bindings and records new allocations in one transaction, with journal lines.
    public func remember(bindings: [String: String], newAllocations: [NICAllocation], actor: String, cause: String) throws {
        try db.write { db in
            let old = try Dictionary(Row.fetchAll(db, sql: "SELECT personality, processor FROM binding").map {
                (String($0["personality"]), String($0["processor"]))
            }, uniquingKeysWith: { a, _ in a })
            guard old != bindings || !newAllocations.isEmpty else { return }
            try db.execute(sql: "DELETE FROM binding")
            for (personality, processor) in bindings.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT INTO binding (personality, processor) VALUES (?, ?)", arguments: [personality, processor])
                if old[personality] != processor {
                    var entry = JournalEntry(actor: actor, cause: cause, object: "personality \(personality)", action: "bind",
                                             detail: "processor \(processor)")
                    try entry.insert(db)
                }
            }
            for a in newAllocations {
                // A MAC freed by a removed NIC may be handed to another: drop the stale holder.
                try db.execute(sql: "DELETE FROM allocation WHERE mac = ? AND key <> ?", arguments: [a.mac, a.key])
                try db.execute(sql: "INSERT OR REPLACE INTO allocation (key, mac, ip) VALUES (?, ?, ?)", arguments: [a.key, a.mac, a.ip])
                var entry = JournalEntry(actor: actor, cause: cause, object: "nic \(a.key)", action: "allocate", detail: "mac \(a.mac) ip \(a.ip)")
                try entry.insert(db)
            }
        }
    }

    /// Forgets everything but the journal (after `vpctl destroy`).
    public func forgetPlatform(actor: String, cause: String) throws {
        try db.write { db in
            try db.execute(sql: "DELETE FROM binding")
            try db.execute(sql: "DELETE FROM allocation")
            try db.execute(sql: "DELETE FROM failover")
            try db.execute(sql: "DELETE FROM processorState")
            try db.execute(sql: "DELETE FROM backendHealth")
            var entry = JournalEntry(actor: actor, cause: cause, object: "platform", action: "forget",
                                     detail: "bindings, allocations, failovers and processor states cleared")
            try entry.insert(db)
        }
    }

    // MARK: Journal

    public func append(_ entry: JournalEntry) throws {
        try db.write { db in
            var e = entry
            try e.insert(db)
        }
    }

    public func journal(last limit: Int = 100) throws -> [JournalEntry] {
        try db.read { db in
            try JournalEntry.order(Column("id").desc).limit(limit).fetchAll(db).reversed()
        }
    }

    // MARK: Exclusive access

    /// Runs `body` while holding an exclusive lock on the platform (a lock file beside the
    /// database), so two applies never interleave. The lock dies with the process.
    public func exclusively<T>(_ body: () async throws -> T) async throws -> T {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateStoreError("opening the lock file \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw StateStoreError("locking \(lockPath): \(String(cString: strerror(errno)))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }
}

public struct StateStoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
