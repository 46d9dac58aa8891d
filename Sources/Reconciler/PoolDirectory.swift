import Foundation
import Libvirt
import LibvirtXML

/// What the directory of a pool that libvirt does not hold yet contains, looked at through
/// libvirt (a transient pool started and stopped at once), so it works on remote hosts too.
enum PoolDirectory: Equatable {
    /// Not there: `build` creates it.
    case missing
    /// There, holding these files (libvirt lists every file in it as a volume).
    case present(files: [String], availableBytes: UInt64?)
    /// Another libvirt pool already has this directory.
    case usedBy(pool: String)
    /// Could not be looked at: unsafe to use.
    case unknown(String)

    static func look(at path: String, _ connection: Connection, pools: some Sequence<ActualState.Pool>) -> PoolDirectory {
        if let other = pools.first(where: { $0.path == path }) { return .usedBy(pool: other.name) }
        let probe: StoragePool
        do {
            probe = try connection.createTransientStoragePool(
                xml: StoragePoolSpec(name: "vp-probe-\(UUID().uuidString.prefix(8).lowercased())", path: path).render())
        } catch let error as LibvirtError where error.message.contains("No such file or directory") {
            return .missing
        } catch {
            return .unknown("\(error)")
        }
        defer { try? probe.destroy() }
        do {
            let files = try probe.volumes().map(\.name).sorted()
            return .present(files: files, availableBytes: try probe.info().availableBytes)
        } catch {
            return .unknown("\(error)")
        }
    }
}

/// Which files in a pool's directory are the platform's. The directory of a platform's pool
/// holds a marker volume naming the platform, made when the platform first takes the directory;
/// each volume the platform creates is recorded in the state store.
public enum PoolOwnership {
    public static func marker(platform: String) -> String { "vp-owner.\(platform)" }

    /// nil when the platform may use a directory holding `files` (it is empty or already the
    /// platform's), otherwise why not.
    static func refusal(pool: String, path: String, files: [String], platform: String) -> String? {
        guard !files.isEmpty, !files.contains(marker(platform: platform)) else { return nil }
        return "storage pool \(pool): directory \(path) holds \(files.count) files the platform did not create "
            + "(\(list(files))); a pool directory must be new, empty or already this platform's. Choose another path."
    }

    static func list(_ names: [String]) -> String {
        names.count <= 5 ? names.joined(separator: ", ") : names.prefix(5).joined(separator: ", ") + " and \(names.count - 5) more"
    }
}
