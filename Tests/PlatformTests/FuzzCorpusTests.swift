import Foundation
import PlatformModel
import Testing

/// Every input of the fuzzer's checked-in corpus (Fuzz/corpus) goes through the loader and the
/// validator on every `swift test`, so a crash the fuzzer once found stays fixed.
@Suite struct FuzzCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    @Test func theCorpusHoldsTheExamplesAndTheNastyCases() {
        #expect(Self.files.contains("valid-demo.yaml"))
        #expect(Self.files.contains("valid-datacenter.yaml"))
        #expect(Self.files.filter { $0.hasPrefix("invalid-") }.count >= 10)
    }

    /// valid-* must load and validate cleanly, invalid-* must be refused with located issues;
    /// any other file (added by a fuzzing run) must only be handled without a crash or a hang.
    @Test(.timeLimit(.minutes(2)), arguments: files)
    func replaysThroughLoaderAndValidator(_ name: String) throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        var found: [ConfigIssue]
        do {
            found = Validator.validate(try PlatformLoader.parse(data, file: name))
        } catch let errors as ConfigErrors {
            found = errors.issues
        }
        if name.hasPrefix("valid-") { #expect(found.map(\.description) == []) }
        if name.hasPrefix("invalid-") {
            #expect(!found.isEmpty)
            #expect(found.allSatisfy { $0.description.hasPrefix(name) })
        }
    }
}
