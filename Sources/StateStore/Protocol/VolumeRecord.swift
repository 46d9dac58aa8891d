import Foundation

/// A volume the platform created, remembered so that `destroy` deletes it and nothing else.
public struct VolumeRecord: Codable, Sendable, Hashable {
    public var host: String
    public var pool: String
    public var name: String
    public var createdAt: Date

    public init(host: String, pool: String, name: String, createdAt: Date = Date()) {
        self.host = host; self.pool = pool; self.name = name; self.createdAt = createdAt
    }
}
