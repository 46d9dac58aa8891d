import Foundation
@testable import PlatformEngine
import Testing

/// `destroy` removes the console directory the platform's apply made, with its logs, and the
/// platform's directory when apply made that too and nothing else is left in it; what the
/// platform did not make stays.
@Suite struct ConsoleDirectoryTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("vp-console-\(UUID().uuidString)").path
    var platformDirectory: String { "\(root)/p" }
    var console: ConsoleDirectory { ConsoleDirectory(path: "\(platformDirectory)/console") }
    var fm: FileManager { .default }

    /// An apply that made the directory (as the reconciler does when it defines a local processor)
    /// and the processors' QEMUs that wrote their logs.
    func apply(logs: [String] = ["p-1.log", "p-2.log"]) throws {
        let before = console.before()
        try fm.createDirectory(atPath: console.path, withIntermediateDirectories: true)
        for log in logs { try "boot\n".write(toFile: "\(console.path)/\(log)", atomically: true, encoding: .utf8) }
        try console.noteMade(since: before)
    }

    @Test func whatApplyMadeIsRemovedUpToThePlatformsDirectory() throws {
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        try apply()
        #expect(try console.remove() == ["\(console.path)/p-1.log", "\(console.path)/p-2.log", console.path, platformDirectory])
        #expect(!fm.fileExists(atPath: platformDirectory))
        #expect(fm.fileExists(atPath: root), "the directory above the platform's is not the platform's")
    }

    @Test func aPlatformDirectoryThatWasThereStays() throws {
        try fm.createDirectory(atPath: platformDirectory, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        try apply()
        try console.remove()
        #expect(!fm.fileExists(atPath: console.path))
        #expect(fm.fileExists(atPath: platformDirectory))
    }

    @Test func aPlatformDirectoryWithMoreInItStays() throws {
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        try apply()
        try fm.createDirectory(atPath: "\(platformDirectory)/pool", withIntermediateDirectories: true)
        try console.remove()
        #expect(!fm.fileExists(atPath: console.path))
        #expect(fm.fileExists(atPath: "\(platformDirectory)/pool"))
    }

    @Test func whatIsNotAConsoleLogStaysWithTheDirectory() throws {
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        try apply()
        try "mine".write(toFile: "\(console.path)/notes.txt", atomically: true, encoding: .utf8)
        #expect(try console.remove() == ["\(console.path)/p-1.log", "\(console.path)/p-2.log"])
        #expect(try fm.contentsOfDirectory(atPath: console.path).sorted() == [ConsoleDirectory.noteName, "notes.txt"])
        // Once the administrator has taken their file away, the next destroy finishes.
        try fm.removeItem(atPath: "\(console.path)/notes.txt")
        try console.remove()
        #expect(!fm.fileExists(atPath: platformDirectory))
    }

    @Test func aDirectoryThePlatformDidNotMakeIsLeftAsItIs() throws {
        try fm.createDirectory(atPath: console.path, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        try apply()
        #expect(try console.remove() == [])
        #expect(try fm.contentsOfDirectory(atPath: console.path).sorted() == ["p-1.log", "p-2.log"])
    }

    @Test func thePlatformsDirectoryIsWhereTheRendererPutsTheLogs() {
        #expect(ConsoleDirectory(platform: "demo").path == "/var/lib/virtualplatform/demo/console")
    }
}
