import PlatformEngine
import Reconciler
import Synchronization

/// What `POST /v1/apply` answers: the changes made, then how each move that was down went on.
struct AppliedPlan: Codable, Sendable {
    var changes: [PlanEntry]
    var downMoves: [String]
}

/// One personality as `GET /v1/personalities` shows it: where it is, its NICs and its disks
/// (the rows of `vpctl status`, grouped by personality).
struct PersonalityStatus: Codable, Sendable {
    struct NIC: Codable, Sendable { var vlan: String, mac: String, ip: String }
    struct Disk: Codable, Sendable { var target: String, volume: String }
    var name: String
    var processor: String?
    var nics: [NIC]
    var disks: [Disk]

    /// `names`: the definition's personalities, in its order (one with no NIC or disk too).
    static func all(_ names: [String], in status: PlatformStatus) -> [PersonalityStatus] {
        return names.map { name in
            let nics = status.memberships.filter { $0.personality == name }
            let disks = status.storage.filter { $0.personality == name }
            return PersonalityStatus(name: name, processor: nics.first?.processor ?? disks.first?.processor,
                                     nics: nics.map { NIC(vlan: $0.vlan, mac: $0.mac, ip: $0.ip) },
                                     disks: disks.map { Disk(target: $0.target, volume: $0.volume) })
        }
    }
}

/// Lines said by a library call that reports through a `@Sendable` closure.
final class LineLog: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}
