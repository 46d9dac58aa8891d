import Foundation
import GRDB

/// What `vpctl serve` last found about a service member's backend, per probe: the heartbeat
/// reachability of the backend address (one row per address, shared by the services it backs)
/// and each service's health check (one row per service and member). Kept here, not only in
/// `serve`'s memory, so that `vpctl service show` and `vpctl apply` see it, and a restarted
/// `serve` starts from what was known. `serve` is its only writer.
public struct BackendHealthRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "backendHealth"
    public enum Probe: String, Codable, Sendable { case heartbeat, check }
    public var probe: Probe
    /// heartbeat: the backend address; check: `BackendHealthRecord.checkSubject(service:member:)`.
    public var subject: String
    public var up: Bool
    /// What was seen, for people ("4 heartbeats missed", "HTTP 503 from 10.1.2.3:80/healthz").
    public var reason: String
    public var since: Date

    public init(probe: Probe, subject: String, up: Bool, reason: String, since: Date = Date()) {
        self.probe = probe; self.subject = subject; self.up = up; self.reason = reason; self.since = since
    }

    public static func checkSubject(service: String, member: String) -> String { "\(service)/\(member)" }

    static func createTable(_ db: Database) throws {
        try db.create(table: databaseTableName) { t in
            t.column("probe", .text).notNull()
            t.column("subject", .text).notNull()
            t.column("up", .boolean).notNull()
            t.column("reason", .text).notNull()
            t.column("since", .datetime).notNull()
            t.primaryKey(["probe", "subject"])
        }
    }
}

extension StateStore {
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
