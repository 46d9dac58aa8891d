import Foundation
import PlatformRender
import StateStore
#if canImport(Glibc)
import Glibc
#endif

/// The directory of the platform's console logs on this machine (/var/lib/virtualplatform/<platform>/console),
/// made by the reconciler when it defines a processor of a local host. `apply` notes in it what it
/// made (the directory, and its parent when that did not exist either), so that `destroy` removes
/// exactly that: the console logs, the note, the directory, and the parent if the platform made it
/// and it is then empty. A directory the platform did not make is left as it is, and so is
/// anything in it that is not a console log.
struct ConsoleDirectory {
    let path: String
    var parent: String { (path as NSString).deletingLastPathComponent }
    var notePath: String { (path as NSString).appendingPathComponent(Self.noteName) }
    static let noteName = ".made-by-virtualplatform"

    /// The platform's: where the renderer puts its processors' console logs.
    init(platform: String) {
        path = (Renderer.consoleLog(platform: platform, processor: "-") as NSString).deletingLastPathComponent
    }

    init(path: String) { self.path = path }

    /// What existed before an apply.
    struct Before { var directory: Bool, parent: Bool }

    func before() -> Before { Before(directory: Self.isDirectory(path), parent: Self.isDirectory(parent)) }

    /// After an apply: notes what it made, if it made the directory.
    func noteMade(since before: Before) throws {
        guard !before.directory, Self.isDirectory(path) else { return }
        let note = Note(parent: !before.parent)
        try JSONEncoder().encode(note).write(to: URL(fileURLWithPath: notePath))
    }

    /// Removes what the platform made; returns what it removed (empty: nothing was its own).
    @discardableResult
    func remove() throws -> [String] {
        guard let data = FileManager.default.contents(atPath: notePath) else { return [] }
        let note = try JSONDecoder().decode(Note.self, from: data)
        let fm = FileManager.default
        var removed: [String] = []
        for name in try fm.contentsOfDirectory(atPath: path).sorted() where name.hasSuffix(".log") {
            let file = (path as NSString).appendingPathComponent(name)
            guard (try? fm.attributesOfItem(atPath: file)[.type] as? FileAttributeType) == .typeRegular else { continue }
            try fm.removeItem(atPath: file)
            removed.append(file)
        }
        // Anything else in it is not the platform's: then the directory and the note stay.
        guard try fm.contentsOfDirectory(atPath: path) == [Self.noteName] else { return removed }
        try fm.removeItem(atPath: notePath)
        // rmdir(2), not a recursive removal: what appeared meanwhile is kept, and so is the note.
        guard rmdir(path) == 0 else {
            try data.write(to: URL(fileURLWithPath: notePath))
            return removed
        }
        removed.append(path)
        if note.parent, rmdir(parent) == 0 { removed.append(parent) }
        return removed
    }

    private struct Note: Codable {
        /// The platform's directory was made with the console directory.
        var parent: Bool
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}

extension PlatformEngine {
    /// Removes the console directory (and the platform's directory) if the platform made them.
    func removeConsoleDirectory(cause: String) throws {
        let console = ConsoleDirectory(platform: definition.platform)
        let removed: [String]
        do { removed = try console.remove() } catch {
            throw ConsoleDirectoryError(description: "removing the console directory \(console.path): \(error.localizedDescription)")
        }
        guard removed.contains(console.path) else { return }
        let logs = removed.filter { $0.hasSuffix(".log") }.count
        try store.append(JournalEntry(actor: actor, cause: cause, object: "console directory \(console.path)", action: .delete,
                                      detail: "with its \(logs) console logs"
                                          + (removed.contains(console.parent) ? " and the platform's directory \(console.parent)" : "")))
    }
}

/// Destroy could not remove the console directory it made (the libvirt objects are gone already).
struct ConsoleDirectoryError: Error, CustomStringConvertible, Sendable {
    let description: String
}
