/// Where a storage pool's directory may be. `destroy` deletes a pool's volumes and its directory,
/// so the directory must never be one where the system, libvirt, users or other platforms keep
/// their files. Purely lexical (validation touches nothing); what is on disk is checked by apply.
enum PoolPathRules {
    static let platformsDirectory = "/var/lib/virtualplatform"

    /// Trees that belong to the system as a whole: neither they nor anything inside them.
    static let systemTrees = ["/etc", "/usr", "/bin", "/sbin", "/boot", "/dev", "/proc", "/sys", "/run", "/var/run", "/var/lock",
                              "/lost+found"]
    /// Anyone may create files and symbolic links there, before or after the platform does.
    static let worldWritableTrees = ["/tmp", "/var/tmp"]
    /// libvirt's own state: domain definitions, its default image pool, dnsmasq leases.
    static let libvirtTree = "/var/lib/libvirt"
    /// Directories others keep their data in; a directory inside them may be the platform's own.
    static let sharedDirectories: Set = ["/var", "/var/lib", "/var/cache", "/var/log", "/var/spool", "/var/mail", "/var/opt",
                                         "/var/local", "/var/backups", "/home", "/srv", "/opt", "/mnt", "/media"]

    /// Why `path` is not written in its one normal form, if it is not.
    static func notationProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "'\(path)' must be an absolute path" }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if parts.contains("..") { return "'\(path)' must not contain '..': name the directory itself" }
        let normal = "/" + parts.filter { !$0.isEmpty && $0 != "." }.joined(separator: "/")
        return normal == path ? nil : "'\(path)' is not normalised: write '\(normal)'"
    }

    /// Why a pool of `platform` may not live at `path` (normalised), if it may not.
    static func ownerProblem(_ path: String, platform: String, imageDirectory: String) -> String? {
        if path == "/" { return "'/' is a system directory" }
        let top = "/" + path.split(separator: "/")[0]
        if let tree = systemTrees.first(where: { isInside(path, $0) }) ?? (top.hasPrefix("/lib") ? top : nil) {
            return path == tree ? "'\(path)' is a system directory" : "'\(path)' is inside the system directory \(tree)"
        }
        if let tree = worldWritableTrees.first(where: { isInside(path, $0) }) {
            let subject = path == tree ? "'\(path)' is" : "'\(path)' is inside \(tree), which is"
            return subject + " world-writable: anyone can plant files or links there"
        }
        if isInside(path, libvirtTree) {
            return "'\(path)' is \(path == libvirtTree ? "" : "inside ")libvirt's own directory \(libvirtTree)"
        }
        if sharedDirectories.contains(path) {
            return "'\(path)' is a shared directory where others keep data; use a directory of its own inside it"
        }
        if path == "/root" || (path.hasPrefix("/home/") && path.split(separator: "/").count == 2) {
            return "'\(path)' is a home directory; use a directory of its own inside it"
        }
        if isInside(path, imageDirectory) {
            return path == imageDirectory ? "'\(path)' is the processor image directory"
                : "'\(path)' is inside the processor image directory \(imageDirectory)"
        }
        if isInside(path, platformsDirectory), let problem = platformsDirectoryProblem(path, platform: platform) { return problem }
        if isInside(imageDirectory, path) { return "'\(path)' contains the processor image directory \(imageDirectory)" }
        return nil
    }

    /// Under /var/lib/virtualplatform only a directory inside the platform's own state directory
    /// is the platform's; the rest is vpctl's or another platform's.
    private static func platformsDirectoryProblem(_ path: String, platform: String) -> String? {
        let parts = path.split(separator: "/").dropFirst(3).map(String.init) // after var/lib/virtualplatform
        guard let owner = parts.first else { return "'\(path)' is the platforms' directory (state stores, images, probes)" }
        switch owner {
        case "images": return "'\(path)' holds processor images"
        case "probe", "trial", "domain-types.json": return "'\(path)' belongs to vpctl itself (\(owner))"
        case platform:
            guard parts.count > 1 else {
                return "'\(path)' is the state directory of this platform; use a directory inside it, e.g. \(path)/pool"
            }
            if parts[1] == "console" { return "'\(path)' holds this platform's console logs" }
            if parts[1].hasPrefix("state.sqlite") { return "'\(path)' is this platform's state store" }
            return nil
        default: return "'\(path)' belongs to platform '\(owner)' (its state directory)"
        }
    }

    /// `path` is `directory` or lies inside it (both normalised).
    static func isInside(_ path: String, _ directory: String) -> Bool {
        path == directory || directory == "/" || path.hasPrefix(directory + "/")
    }

    /// The normal form of a directory named by the user (for comparisons only).
    static func normalised(_ path: String) -> String {
        "/" + path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
