import Foundation
import StateStore
import Testing

@Suite struct VolumeRecordTests {
    @Test func createdVolumesAreRememberedAcrossOpensAndForgotten() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vp-store-\(UUID().uuidString).sqlite").path
        let store = try StateStore(path: path)
        try store.recordCreatedVolume(host: "local", pool: "data", name: "v1")
        try store.recordCreatedVolume(host: "local", pool: "data", name: "v2")
        try store.recordCreatedVolume(host: "local", pool: "data", name: "v1") // recorded once
        let again = try StateStore(path: path)
        #expect(try again.createdVolumes().map { "\($0.host) \($0.pool)/\($0.name)" } == ["local data/v1", "local data/v2"])
        try again.forgetVolume(host: "local", pool: "data", name: "v1")
        #expect(try store.createdVolumes().map(\.name) == ["v2"])
    }
}
