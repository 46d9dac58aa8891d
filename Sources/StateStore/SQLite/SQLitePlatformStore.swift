import Foundation
import GRDB
import PlatformModel
import SystemSupport

/// The platform store in embedded SQLite (GRDB), the controller's default. Safe for several
/// `vpctl` processes at once: SQLite serialises writers (WAL, busy timeout), each operation is one
/// transaction, and the two locks are flocks on files beside the database, so they die with the
/// process that holds them.
public final class SQLitePlatformStore: PlatformStore {
    public let path: String
    let db: DatabasePool

    /// In a directory of its own (0700): the platform's directory also holds its console logs and
    /// often its pools, which QEMU (another user) must reach. A store made before that, beside
    /// them, is still used where it is.
    public static func defaultPath(platform: String) -> String {
        let legacy = "/var/lib/virtualplatform/\(platform)/state.sqlite"
        if FileManager.default.fileExists(atPath: legacy) { return legacy }
        return "/var/lib/virtualplatform/\(platform)/state/state.sqlite"
    }

    public let changes = StoreChanges()

    public init(path: String) throws {
        self.path = path
        try Self.protect(databaseAt: path)
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            db = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(db)
            db.add(transactionObserver: CommitSignal(changes), extent: .databaseLifetime)
        } catch {
            throw PlatformError(.unavailable, "state store \(path)", "cannot open it: \(error)")
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
        m.registerMigration("v3-volumes", migrate: createVolumeTable)
        m.registerMigration("v4-engine") { db in
            try db.alter(table: "failover") { t in
                t.add(column: "fencedAt", .datetime)
                t.add(column: "replugAt", .datetime)
                t.add(column: "abortRequestedBy", .text)
            }
        }
        m.registerMigration("v5-backend-health") { db in try createBackendHealthTable(db) }
        m.registerMigration("v6-state-revision") { db in try createStateRevision(db) }
        return m
    }

    /// The store tells who carries what and how to reach it: only its owner reads it. The database
    /// is created 0600 before SQLite opens it (its -wal and -shm files take the database's mode),
    /// and so are its lock files. Its directory is made 0700 when the store creates it; a directory
    /// that already exists is left as it is: it may be shared (/tmp) or hold what QEMU, running as
    /// another user, must reach (a pool beside a store made before the store had its own directory).
    static func protect(databaseAt path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let fm = FileManager.default
        if !fm.fileExists(atPath: directory) {
            // Only the store's own directory is private: its parents are made as usual.
            try fm.createDirectory(atPath: (directory as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                throw PlatformError(.unavailable, "state store directory \(directory)", "cannot create it: \(String(cString: strerror(errno)))")
            }
        }
        // Created here only when new. An existing database is never opened (and closed) here:
        // closing any descriptor of a file drops every POSIX lock this process holds on it, so a
        // store already open on it in this process (a second engine, a reload) would lose SQLite's
        // locks, and another process closing the database would take it for unused and checkpoint
        // and delete the WAL under it. Seen: a bench's reads stuck in the past, its writes lost.
        let fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) } else if errno != EEXIST {
            throw PlatformError(.unavailable, "state store \(path)", "cannot create it: \(String(cString: strerror(errno)))")
        }
        for file in [path, path + "-wal", path + "-shm", path + ".lock", path + ".serve.lock"] where fm.fileExists(atPath: file) {
            guard chmod(file, 0o600) == 0 else { throw PlatformError(.unavailable, "state store file \(file)", "cannot make it private: \(String(cString: strerror(errno)))") }
        }
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
            try MoveRules.checkOnePersonalityEach(bindings)
            try db.execute(sql: "DELETE FROM binding")
            // Statements prepared once: a large platform writes tens of thousands of rows here.
            let bind = try db.cachedStatement(sql: "INSERT INTO binding (personality, processor) VALUES (?, ?)")
            let dropStaleHolder = try db.cachedStatement(sql: "DELETE FROM allocation WHERE mac = ? AND key <> ?")
            let allocate = try db.cachedStatement(sql: "INSERT OR REPLACE INTO allocation (key, mac, ip) VALUES (?, ?, ?)")
            for (personality, processor) in bindings.sorted(by: { $0.key < $1.key }) {
                try bind.execute(arguments: [personality, processor])
                if old[personality] != processor {
                    var entry = JournalEntry(actor: actor, cause: cause, object: "personality \(personality)", action: .bind,
                                             detail: "processor \(processor)")
                    try entry.insert(db)
                }
            }
            for a in newAllocations {
                // A MAC freed by a removed NIC may be handed to another: drop the stale holder.
                try dropStaleHolder.execute(arguments: [a.mac, a.key])
                try allocate.execute(arguments: [a.key, a.mac, a.ip])
                var entry = JournalEntry(actor: actor, cause: cause, object: "nic \(a.key)", action: .allocate, detail: "mac \(a.mac) ip \(a.ip)")
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
            var entry = JournalEntry(actor: actor, cause: cause, object: "platform", action: .forget,
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

    public func write(_ batch: [StoreWrite]) throws {
        guard !batch.isEmpty else { return }
        try db.write { db in
            let forget = try db.cachedStatement(sql: "DELETE FROM volume WHERE host = ? AND pool = ? AND name = ?")
            for write in batch {
                switch write {
                case .journal(var entry): try entry.insert(db)
                case .createdVolume(let host, let pool, let name):
                    try VolumeRecord(host: host, pool: pool, name: name).insert(db, onConflict: .replace)
                case .forgottenVolume(let host, let pool, let name): try forget.execute(arguments: [host, pool, name])
                }
            }
        }
    }

    public func journal(last limit: Int) throws -> [JournalEntry] {
        try db.read { db in
            try JournalEntry.order(Column("id").desc).limit(limit).fetchAll(db).reversed()
        }
    }

    // MARK: Exclusive access

    /// The platform lock is a lock file beside the database. The holder writes its pid and
    /// command into it, for waiters to name.
    public func exclusively<T>(deadline: Duration, waiting: (LockHolder) -> Void, _ body: () async throws -> T) async throws -> T {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PlatformError(.unavailable, "lock file \(lockPath)", "cannot open it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let started = ContinuousClock.now
        var reported = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw PlatformError(.unavailable, "lock file \(lockPath)", "cannot lock it: \(String(cString: strerror(errno)))")
            }
            let holder = LockHolder(file: lockPath)
            guard ContinuousClock.now - started < deadline else { throw LockTimeout(lock: lockPath, holder: holder, waited: deadline) }
            if !reported { waiting(holder); reported = true }
            try await Task.sleep(for: .milliseconds(50))
        }
        defer { flock(fd, LOCK_UN) }
        LockHolder.current.write(to: fd)
        return try await body()
    }

    public func acquireServiceLock() throws -> any ServiceLock {
        try FileServiceLock(path: path + ".serve.lock")
    }
}

/// Signals `StoreChanges` after each commit of the writer connection that changed a row.
private final class CommitSignal: TransactionObserver {
    private let changes: StoreChanges
    private var changed = false
    init(_ changes: StoreChanges) { self.changes = changes }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) { changed = true }
    func databaseDidCommit(_ db: Database) {
        if changed { changes.signal() }
        changed = false
    }
    func databaseDidRollback(_ db: Database) { changed = false }
}
