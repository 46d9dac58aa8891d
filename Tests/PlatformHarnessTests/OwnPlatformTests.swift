import Foundation
import Libvirt
import PlatformHarness
import Testing

/// The harness on libvirt's test driver: what `apply` made, `tearDown` removes; the state store
/// starts over on `freshState`; `vpctl` is found where `swift build` puts it.
@Suite(.serialized) struct OwnPlatformTests {
    static func definition(_ name: String) -> String {
        DefinitionYAML(platform: name, processors: ["\(name)-p1", "\(name)-p2"], uri: "test:///default", domainType: nil,
                       memoryMiB: 128).yaml("""
        vlans: [{ name: front, id: 100, subnet: 10.231.1.0/24 }]
        personalities: [{ name: web, nics: [{ vlan: front }] }]
        """)
    }

    @Test func tearDownRemovesWhatApplyMade() async throws {
        // The test driver forgets its objects when its last connection closes: keep one open.
        let keeper = try Connection(uri: "test:///default")
        defer { keeper.close() }
        let platform = try OwnPlatform(name: "hrna", definition: Self.definition("hrna"))
        try await platform.engine.apply(cause: "harness test")
        #expect(try keeper.domains().map(\.name).contains("hrna-p1"))
        let error = await platform.tearDown(cause: "harness test")
        #expect(error == nil, "\(String(describing: error))")
        #expect(try !keeper.domains().map(\.name).contains { $0.hasPrefix("hrna-") })
    }

    @Test func freshStateStartsAnEmptyStoreInTheSameDirectory() async throws {
        let platform = try OwnPlatform(name: "hrnb", definition: Self.definition("hrnb"))
        defer { try? FileManager.default.removeItem(at: platform.directory) }
        let first = platform.statePath
        try platform.store.record(.init(kind: .service, detail: "before"))
        try platform.freshState()
        #expect(platform.statePath != first)
        #expect(URL(fileURLWithPath: platform.statePath).deletingLastPathComponent().path == platform.directory.path)
        #expect(try platform.store.events(limit: 10).isEmpty)
    }

    @Test func vpctlIsFoundBesideTheRunningExecutable() throws {
        let vpctl = try ServeChild.vpctl()
        #expect(URL(fileURLWithPath: vpctl).lastPathComponent == "vpctl")
        #expect(FileManager.default.isExecutableFile(atPath: vpctl))
    }
}
