import Foundation
import PlatformModel
import StateStore
import Testing

@Suite struct StateStoreTests {
    func path() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("vp-store-\(UUID().uuidString).sqlite").path }

    @Test func twoStoresOnOneFileWriteConcurrentlyWithoutLosingEntries() async throws {
        let p = path()
        let a = try StateStore(path: p), b = try StateStore(path: p)
        await withTaskGroup(of: Void.self) { group in
            for (store, name) in [(a, "a"), (b, "b")] {
                group.addTask {
                    for i in 0..<100 { try? store.append(JournalEntry(actor: name, cause: "test", object: "o\(i)", action: "x")) }
                }
            }
        }
        #expect(try a.journal(last: 1000).count == 200)
    }

    @Test func exclusiveSectionsNeverOverlap() async throws {
        let p = path()
        let a = try StateStore(path: p), b = try StateStore(path: p)
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in [a, b, a, b] {
                group.addTask {
                    try await store.exclusively {
                        #expect(counter.enter() == 1)
                        try await Task.sleep(for: .milliseconds(30))
                        counter.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(counter.maximum == 1)
    }

    @Test func rememberJournalsBindingsAndAllocations() throws {
        let store = try StateStore(path: path())
        try store.remember(bindings: ["web": "p1"], newAllocations: [NICAllocation(key: "web/front", mac: "02:56:50:00:00:01", ip: "10.0.0.10")],
                           actor: "t", cause: "c")
        #expect(try store.bindings() == ["web": "p1"])
        #expect(try store.allocations()["web/front"]?.mac == "02:56:50:00:00:01")
        #expect(try store.journal().map(\.action) == ["bind", "allocate"])
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var inside = 0
    private(set) var maximum = 0
    func enter() -> Int { lock.lock(); defer { lock.unlock() }; inside += 1; maximum = max(maximum, inside); return inside }
    func leave() { lock.lock(); inside -= 1; lock.unlock() }
}
