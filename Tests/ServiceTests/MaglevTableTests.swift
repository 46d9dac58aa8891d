@testable import ServiceBalancing
import Testing

/// Building tables: validation, determinism, the paper's worked example.
struct MaglevTableTests {
    @Test func rejectsASizeThatIsNotPrime() {
        #expect(throws: MaglevError.sizeNotPrime(size: 65536)) { try MaglevTable(backends: equalBackends(3), size: 65536) }
        #expect(throws: MaglevError.sizeNotPrime(size: 1)) { try MaglevTable(backends: [], size: 1) }
        let message = MaglevError.sizeNotPrime(size: 65536).description
        #expect(message.contains("65536") && message.contains("not a prime"))
    }

    @Test func rejectsASizeSmallerThanTheBackendCount() {
        #expect(throws: MaglevError.sizeSmallerThanBackendCount(size: 3, backendCount: 5)) {
            try MaglevTable(backends: equalBackends(5), size: 3)
        }
        let message = MaglevError.sizeSmallerThanBackendCount(size: 3, backendCount: 5).description
        #expect(message.contains("size 3") && message.contains("number of backends (5)"))
    }

    @Test func rejectsAWeightBelowOne() {
        for weight in [0, -1] {
            let list = [MaglevBackend(name: "a"), MaglevBackend(name: "b", weight: weight)]
            #expect(throws: MaglevError.weightBelowOne(backend: "b", weight: weight)) { try MaglevTable(backends: list) }
        }
        let message = MaglevError.weightBelowOne(backend: "b", weight: 0).description
        #expect(message.contains("'b'") && message.contains("weight 0") && message.contains("at least 1"))
    }

    @Test func rejectsDuplicateNames() {
        let list = [MaglevBackend(name: "web"), MaglevBackend(name: "db"), MaglevBackend(name: "web", weight: 2)]
        #expect(throws: MaglevError.duplicateBackendName("web")) { try MaglevTable(backends: list) }
        let message = MaglevError.duplicateBackendName("web").description
        #expect(message.contains("'web'") && message.contains("more than once"))
    }

    @Test func noBackendsGiveATableOfEmptySlots() throws {
        let table = try MaglevTable(backends: [])
        #expect(table.size == MaglevTable.defaultSize)
        #expect(table.entries.allSatisfy { $0 == -1 })
        #expect(table[slot: 0] == nil)
        #expect(table.shares().isEmpty)
    }

    @Test(arguments: [1, 3, 10, 100])
    func everySlotIsFilled(count: Int) throws {
        let table = try MaglevTable(backends: equalBackends(count))
        #expect(table.entries.count == 65537)
        #expect(table.entries.allSatisfy { $0 >= 0 && $0 < Int32(count) })
    }

    /// The paper's Table 1 (§3.4): M = 7, three backends with (offset, skip) = (3, 4), (0, 2), (3, 1).
    /// Before: B2 B1 B2 B1 B3 B3 B1; after B2 is removed: B1 B1 B1 B1 B3 B3 B3.
    @Test func reproducesThePapersWorkedExample() {
        let before = populateMaglevEntries(offsets: [3, 0, 3], skips: [4, 2, 1], weights: [1, 1, 1], size: 7)
        #expect(before == [1, 0, 1, 0, 2, 2, 0])
        let after = populateMaglevEntries(offsets: [3, 3], skips: [4, 1], weights: [1, 1], size: 7)
        #expect(after == [0, 0, 0, 0, 1, 1, 1])
    }

    /// Pins the name hashing: a change here would move most flows of every service on upgrade,
    /// so it must be deliberate.
    @Test func tablesAreStableAcrossReleases() throws {
        let table = try MaglevTable(backends: ["alpha", "beta", "gamma"].map { MaglevBackend(name: $0) }, size: 13)
        #expect(table.entries == [1, 2, 0, 2, 0, 0, 1, 2, 0, 0, 2, 1, 1])
        #expect(maglevPermutation(name: "alpha", size: 13) == (offset: 2, skip: 3))
        let big = try MaglevTable(backends: equalBackends(10))
        #expect((0..<8).map { big[slot: $0] } == ["backend-3", "backend-1", "backend-0", "backend-1",
                                                  "backend-0", "backend-5", "backend-2", "backend-8"])
    }

    @Test func theSameBackendsInAnyOrderGiveTheSameTable() throws {
        let list = equalBackends(25) + [MaglevBackend(name: "heavy", weight: 3)]
        let table = try MaglevTable(backends: list)
        #expect(try MaglevTable(backends: list) == table)
        #expect(try MaglevTable(backends: list.reversed()) == table)
        // A fixed shuffle: every 7th element, wrapping (26 and 7 are coprime).
        let shuffled = (0..<list.count).map { list[($0 * 7) % list.count] }
        #expect(try MaglevTable(backends: shuffled) == table)
        #expect(table.backends.map(\.name) == list.map(\.name).sorted())
    }

    /// The release build takes about 1.4 ms for 100 backends at M = 65537 (0.6 ms for 3, 1.0 ms
    /// for 10; an unoptimised build about 4.6 ms); the bound is loose because tests run
    /// unoptimised on a shared machine.
    @Test func buildsTheDefaultTableQuickly() throws {
        let list = equalBackends(100)
        let elapsed = try ContinuousClock().measure { _ = try MaglevTable(backends: list) }
        #expect(elapsed < .milliseconds(250))
    }
}
