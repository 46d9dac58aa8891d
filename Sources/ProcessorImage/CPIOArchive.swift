import Foundation

/// A cpio archive in the "newc" format (what the Linux kernel unpacks as an initramfs), written
/// deterministically: entries sorted by path, mtime 0, uid/gid 0, inode numbers in path order.
/// Parent directories are added automatically.
public struct CPIOArchive: Sendable {
    public enum Content: Sendable, Equatable {
        case directory
        /// A regular file whose bytes are read from `source` when the archive is written.
        case file(source: String)
        case data(Data)
        case symlink(target: String)
        case characterDevice(major: UInt32, minor: UInt32)
    }

    public struct Entry: Sendable, Equatable {
        /// Relative path inside the archive, without a leading "/".
        public var path: String
        /// Permission bits (e.g. 0o755); the file type comes from `content`.
        public var permissions: UInt32
        public var content: Content
    }

    public private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Sorted entries, as they are written.
    public var sortedEntries: [Entry] { entries.keys.sorted().map { entries[$0]! } }

    public mutating func addDirectory(_ path: String, permissions: UInt32 = 0o755) throws {
        let path = try Self.normalize(path)
        try addParents(of: path)
        if entries[path]?.content == .directory { return }
        entries[path] = Entry(path: path, permissions: permissions, content: .directory)
    }

    public mutating func addFile(_ path: String, contentsOf source: String, permissions: UInt32 = 0o644) throws {
        try add(path, permissions: permissions, content: .file(source: source))
    }

    public mutating func addFile(_ path: String, data: Data, permissions: UInt32 = 0o644) throws {
        try add(path, permissions: permissions, content: .data(data))
    }

    public mutating func addFile(_ path: String, text: String, permissions: UInt32 = 0o644) throws {
        try add(path, permissions: permissions, content: .data(Data(text.utf8)))
    }

    public mutating func addSymlink(_ path: String, target: String) throws {
        try add(path, permissions: 0o777, content: .symlink(target: target))
    }

    public mutating func addCharacterDevice(_ path: String, major: UInt32, minor: UInt32,
                                            permissions: UInt32 = 0o600) throws {
        try add(path, permissions: permissions, content: .characterDevice(major: major, minor: minor))
    }

    public func contains(_ path: String) -> Bool {
        (try? Self.normalize(path)).map { entries[$0] != nil } ?? false
    }

    /// Writes the archive to `path` (replacing it).
    public func write(to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) ,
              let handle = FileHandle(forWritingAtPath: path) else {
            throw ProcessorImageError.writeFailed(path: path, cause: "cannot create file")
        }
        defer { try? handle.close() }
        do {
            try write { try handle.write(contentsOf: $0) }
        } catch let error as ProcessorImageError {
            throw error
        } catch {
            throw ProcessorImageError.writeFailed(path: path, cause: error.localizedDescription)
        }
    }

    /// The whole archive in memory (for tests and small archives).
    public func encoded() throws -> Data {
        var out = Data()
        try write { out.append($0) }
        return out
    }

    /// Streams the archive to `sink`, one entry at a time.
    public func write(to sink: (Data) throws -> Void) throws {
        var inode: UInt32 = 1
        for entry in sortedEntries {
            let body: Data
            let type: UInt32
            var nlink: UInt32 = 1
            var rdev: (UInt32, UInt32) = (0, 0)
            switch entry.content {
            case .directory:
                type = 0o040000; body = Data(); nlink = 2
            case .file(let source):
                type = 0o100000
                do { body = try Data(contentsOf: URL(fileURLWithPath: source)) } catch {
                    throw ProcessorImageError.unreadable(path: source, cause: error.localizedDescription)
                }
            case .data(let data):
                type = 0o100000; body = data
            case .symlink(let target):
                type = 0o120000; body = Data(target.utf8)
            case let .characterDevice(major, minor):
                type = 0o020000; body = Data(); rdev = (major, minor)
            }
            try sink(Self.header(name: entry.path, inode: inode, mode: type | (entry.permissions & 0o7777),
                                 nlink: nlink, size: UInt32(body.count), rdev: rdev))
            try sink(body)
            try sink(Self.padding(body.count))
            inode += 1
        }
        try sink(Self.header(name: "TRAILER!!!", inode: 0, mode: 0, nlink: 1, size: 0, rdev: (0, 0)))
    }

    // MARK: - Format

    static func header(name: String, inode: UInt32, mode: UInt32, nlink: UInt32, size: UInt32,
                       rdev: (UInt32, UInt32)) -> Data {
        let fields: [UInt32] = [inode, mode, 0, 0, nlink, 0, size, 0, 0, rdev.0, rdev.1,
                                UInt32(name.utf8.count + 1), 0]
        var bytes = Array("070701".utf8)
        for field in fields { bytes += hex8(field) }
        bytes += Array(name.utf8) + [0]
        bytes += [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
        return Data(bytes)
    }

    static func padding(_ count: Int) -> Data { Data(count: (4 - count % 4) % 4) }

    private static func hex8(_ value: UInt32) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return (0..<8).reversed().map { digits[Int((value >> (UInt32($0) * 4)) & 0xF)] }
    }

    static func normalize(_ path: String) throws -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else {
            throw ProcessorImageError.invalidArchivePath(path)
        }
        return parts.joined(separator: "/")
    }

    private mutating func add(_ path: String, permissions: UInt32, content: Content) throws {
        let path = try Self.normalize(path)
        try addParents(of: path)
        if let existing = entries[path], existing.content == .directory {
            throw ProcessorImageError.invalidArchivePath("\(path) is already a directory")
        }
        entries[path] = Entry(path: path, permissions: permissions, content: content)
    }

    private mutating func addParents(of path: String) throws {
        var parts = path.split(separator: "/").dropLast()
        var parents: [String] = []
        while !parts.isEmpty {
            parents.append(parts.joined(separator: "/"))
            parts = parts.dropLast()
        }
        for parent in parents.reversed() {
            if let existing = entries[parent] {
                guard existing.content == .directory else {
                    throw ProcessorImageError.invalidArchivePath("\(parent) is not a directory")
                }
                continue
            }
            entries[parent] = Entry(path: parent, permissions: 0o755, content: .directory)
        }
    }
}
