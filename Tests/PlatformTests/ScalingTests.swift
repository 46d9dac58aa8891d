import Foundation
import LibvirtXML
@testable import PlatformModel
@testable import PlatformRender
@testable import Reconciler
import Testing

/// Validation, allocation, rendering, placement and planning stay linear in the platform's size
/// (the control plane's bar is 10,000 processors and 2,000 VLANs in 5 s). Each test runs one stage
/// on a platform and on one 8 times as large and compares the CPU time of this thread (what other
/// processes on a shared machine do is not counted; the best of three runs): linear work takes
/// about 8 times as long, the searches inside loops these tests guard against took 20–60 times.
/// One at a time, each on a thread of its own: run side by side they inflated each other's large
/// case (a ratio of 14.2 in a full run, 6.5–9.8 alone), and on the task pool, whose two threads
/// here every async test shares, they held up the tests with deadlines for minutes.
@Suite(.serialized) struct ScalingTests {
    static let allowedRatio = 14.0

    @Test func validatingManyPersonalitiesIsLinear() async throws {
        // Each NIC's VLAN was looked up in a set of every VLAN name made afresh per personality.
        let ratio = try await Self.ratio(small: ScaledPlatform(processors: 400, vlans: 100), large: ScaledPlatform(processors: 3200, vlans: 800)) {
            Validator.validate($0.loaded).isEmpty
        }
        #expect(ratio < Self.allowedRatio, "8 times the processors and VLANs took \(ratio) times as long to validate")
    }

    @Test func checkingManySubnetsForOverlapsIsLinear() async throws {
        // Each VLAN's subnet was compared with every earlier one.
        let ratio = try await Self.ratio(small: ScaledPlatform(processors: 10, vlans: 500), large: ScaledPlatform(processors: 10, vlans: 4000)) {
            Validator.validate($0.loaded).isEmpty
        }
        #expect(ratio < Self.allowedRatio, "8 times the VLANs took \(ratio) times as long to validate")
    }

    @Test func aSubnetInsideOrAroundAnEarlierOneIsReported() async throws {
        var platform = try ScaledPlatform(processors: 2, vlans: 4)
        platform.loaded.definition.vlans[2].subnet = "10.100.0.0/16"   // around vlans[0] and [1]
        platform.loaded.definition.vlans[3].subnet = "10.100.1.128/25" // inside vlans[1] (and [2])
        let messages = Validator.validate(platform.loaded).map(\.message).filter { $0.contains("overlaps") }
        #expect(messages == ["10.100.0.0/16 overlaps the subnet of VLAN 'v0'", "10.100.1.128/25 overlaps the subnet of VLAN 'v1'"])
    }

    @Test func allocatingManyNICsIsLinear() async throws {
        // Each NIC's VLAN was searched for among all VLANs.
        let ratio = try await Self.ratio(small: ScaledPlatform(processors: 400, vlans: 250), large: ScaledPlatform(processors: 3200, vlans: 2000)) {
            try Allocator.allocate($0.loaded.definition, remembered: [:]).nics.count == 2 * $0.loaded.definition.personalities.count
        }
        #expect(ratio < Self.allowedRatio, "8 times the NICs and VLANs took \(ratio) times as long to allocate")
    }

    @Test func renderingManyProcessorsIsLinear() async throws {
        // Each VLAN's DHCP hosts were collected from every personality's NICs, each processor's
        // personality searched for among all personalities.
        let ratio = try await Self.ratio(small: ScaledPlatform(processors: 400, vlans: 100), large: ScaledPlatform(processors: 3200, vlans: 800)) {
            let p = $0.loaded.definition
            let state = Renderer.render(p, allocations: $0.allocations, bindings: $0.bindings, domainTypes: ["local": "test"],
                                        image: BootImage(kernel: "/k", initrd: "/i", cmdline: "c"))
            return state.processors.count == p.processors.members.count
        }
        #expect(ratio < Self.allowedRatio, "8 times the processors and VLANs took \(ratio) times as long to render")
    }

    @Test func keepingManyRememberedBindingsIsLinear() async throws {
        // Each remembered binding's processor was searched for among all processors.
        let ratio = try await Self.ratio(small: ScaledPlatform(processors: 1000, vlans: 100), large: ScaledPlatform(processors: 8000, vlans: 100)) {
            Placement.bind($0.loaded.definition, remembered: $0.bindings) == $0.bindings
        }
        #expect(ratio < Self.allowedRatio, "8 times the bindings took \(ratio) times as long to keep")
    }

    @Test func checkingTheHoldersOfManyStartedProcessorsIsLinear() async throws {
        // Each processor the plan starts was searched for among all wanted processors.
        let ratio = try await Self.ratio(small: ScaledPlatform(processors: 400, vlans: 50), large: ScaledPlatform(processors: 3200, vlans: 50)) {
            let desired = $0.desired
            let changes = desired.processors.map {
                Change(verb: .create, host: "local", object: "processor \($0.spec.name)", reasons: [],
                       actions: [.defineDomain($0.spec), .startDomain($0.spec.name)], phase: 1)
            }
            return HolderGuard.problems(changes: changes, desired: desired, actual: ["local": ActualState()]).isEmpty
        }
        #expect(ratio < Self.allowedRatio, "8 times the started processors took \(ratio) times as long to check")
    }

    @Test func checkingManyFileDisksAgainstManyPoolVolumesIsLinear() async throws {
        // Each disk given as a file was searched for among the paths of every pool volume.
        typealias Started = (changes: [Change], desired: DesiredState, actual: ActualState)
        func started(_ processors: Int) throws -> Started {
            var desired = try ScaledPlatform(processors: processors, vlans: 50).desired
            var pool = ActualState.Pool(name: "big", uuid: "u", active: true, path: "/vp-test/big", volumes: [], availableBytes: .max)
            for i in desired.processors.indices {
                let path = "/vp-test/big/vol\(i)"
                desired.processors[i].spec.disks = [DiskSpec(source: .file(path: path), target: "vdb")]
                pool.volumes.insert("vol\(i)")
                pool.volumePaths["vol\(i)"] = path
            }
            var actual = ActualState()
            actual.pools["big"] = pool
            let changes = desired.processors.map {
                Change(verb: .create, host: "local", object: "processor \($0.spec.name)", reasons: [],
                       actions: [.defineDomain($0.spec), .startDomain($0.spec.name)], phase: 1)
            }
            return (changes, desired, actual)
        }
        let (small, large) = (try started(500), try started(4000))
        let work = UncheckedBox { () -> (Double, Bool) in
            var right = true
            func check(_ s: Started) {
                right = right && HolderGuard.problems(changes: s.changes, desired: s.desired, actual: ["local": s.actual]).isEmpty
            }
            return (Self.cpuRatio(small: { check(small) }, large: { check(large) }), right)
        }
        let (ratio, right) = try await Self.onThread { work.value() }
        #expect(right, "no volume has two writers")
        #expect(ratio < Self.allowedRatio, "8 times the file disks and volumes took \(ratio) times as long to check")
    }

    @Test func aFileDiskThatIsAPoolVolumeHasOneWriter() throws {
        // The same volume reached by its path and by pool/volume is one volume.
        var desired = try ScaledPlatform(processors: 2, vlans: 2).desired
        desired.processors[0].spec.disks = [DiskSpec(source: .file(path: "/vp-test/big/vol0"), target: "vdb")]
        var actual = ActualState()
        actual.pools["big"] = ActualState.Pool(name: "big", uuid: "u", active: true, path: "/vp-test/big", volumes: ["vol0"],
                                               volumePaths: ["vol0": "/vp-test/big/vol0"], availableBytes: .max)
        var holder = DomainFacts(spec: desired.processors[1].spec)
        holder.disks = [.init(target: "vdc", source: "big/vol0")]
        actual.domains["other"] = .init(name: "other", uuid: "o", active: true, definition: holder)
        let spec = desired.processors[0].spec
        let changes = [Change(verb: .create, host: "local", object: "processor \(spec.name)", reasons: [],
                              actions: [.defineDomain(spec), .startDomain(spec.name)], phase: 1)]
        let problems = HolderGuard.problems(changes: changes, desired: desired, actual: ["local": actual])
        #expect(problems.count == 1 && problems[0].hasPrefix("volume /vp-test/big/vol0 is open in running domain other on local"),
                "\(problems)")
    }

    @Test func planningAPoolOfManyVolumesIsLinear() async throws {
        // Each volume was looked up in the list of the pool's files.
        func pool(_ volumes: Int) -> (DesiredState.Pool, ActualState) {
            let specs = (0..<volumes).map { VolumeSpec(name: "vol\($0)", capacityBytes: 1) }
            let spec = StoragePoolSpec(name: "big", uuid: StableUUID.make("pool", "t", "local", "big"), path: "/vp-test/big")
            var actual = ActualState()
            // Half the volumes are there, with the platform's marker: the other half is planned.
            var files = Set(specs.prefix(volumes / 2).map(\.name))
            files.insert(PoolOwnership.marker(platform: "t"))
            actual.pools["big"] = ActualState.Pool(name: "big", uuid: spec.uuid!, active: true, path: spec.path, volumes: files,
                                                   availableBytes: .max)
            return (DesiredState.Pool(host: "local", spec: spec, volumes: specs), actual)
        }
        let (small, large) = (pool(2000), pool(16000))
        let work = UncheckedBox { () -> (Double, Bool) in
            var right = true
            func plan(_ pool: (DesiredState.Pool, ActualState)) {
                let planned = Planner.planPools(host: "local", platform: "t", wanted: [pool.0], actual: pool.1, owned: [], owns: { _, _, _ in true })
                right = right && planned.problems.isEmpty
            }
            return (Self.cpuRatio(small: { plan(small) }, large: { plan(large) }), right)
        }
        let (ratio, right) = try await Self.onThread { work.value() }
        #expect(right, "the pool's plan has no problems")
        #expect(ratio < Self.allowedRatio, "8 times the volumes took \(ratio) times as long to plan")
    }

    // MARK: Measuring

    /// The CPU-time ratio of `stage` on `large` over `small`, measured on a thread of its own;
    /// fails the test if the stage's result was wrong in any run.
    static func ratio(small: ScaledPlatform, large: ScaledPlatform, _ stage: @escaping (ScaledPlatform) throws -> Bool) async throws -> Double {
        let work = UncheckedBox { () throws -> (Double, Bool) in
            var failure: (any Error)?
            var right = true
            func run(_ p: ScaledPlatform) { do { right = try stage(p) && right } catch { failure = error } }
            let ratio = cpuRatio(small: { run(small) }, large: { run(large) })
            if let failure { throw failure }
            return (ratio, right)
        }
        let (ratio, right) = try await onThread { try work.value() }
        #expect(right, "the stage's result is right at both sizes")
        print("scaling: 8 times the size took \(String(format: "%.1f", ratio)) times the CPU time")
        return ratio
    }

    /// Runs `body` on a new thread (not the task pool) and returns its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { done in
            Thread { done.resume(with: Result { try body() }) }.start()
        }
    }

    /// Hands the measured closure (and the platforms it captures) to the measuring thread, which
    /// alone runs it.
    struct UncheckedBox<T>: @unchecked Sendable { let value: T; init(_ value: T) { self.value = value } }

    /// The best of three CPU times of `large` over the best of three of `small` run 8 times in a
    /// row (one 8th of that block is one small run): both timed stretches are about as long, so a
    /// loaded machine's preemptions, which leave the caches cold, cost both alike (timed once, the
    /// few-millisecond small run escaped them and a ratio of 14.6 was seen for linear work).
    static func cpuRatio(small: () -> Void, large: () -> Void) -> Double {
        func best(_ body: () -> Void) -> Double {
            (0..<3).map { _ in
                let start = threadCPUSeconds()
                body()
                return threadCPUSeconds() - start
            }.min()!
        }
        small() // warm up: first calls pay for lazily loaded metadata
        let eightSmall = best { for _ in 0..<8 { small() } }
        return best(large) / max(eightSmall / 8, 1e-6)
    }

    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// A valid platform of a given size, made in code (parsing 3,000 processors of YAML would be the
/// slowest part of every test): 90 % of processors carry a personality with NICs on two VLANs.
struct ScaledPlatform {
    var loaded: LoadedPlatform
    var allocations: [String: NICAllocation] = [:]
    var bindings: [String: String] = [:]

    init(processors: Int, vlans: Int) throws {
        loaded = try PlatformLoader.parse("""
            platform: t
            hosts: [{ name: local, uri: "test:///default" }]
            processors: { vcpus: 1, memoryMiB: 128, members: [{ name: t-p0, host: local }] }
            vlans: [{ name: v0, id: 1, subnet: 10.100.0.0/24 }]
            personalities: []
            """, file: "t.yaml")
        var p = loaded.definition
        p.processors.members = (0..<processors).map { ProcessorDef(name: "t-p\($0)", host: "local") }
        p.vlans = (0..<vlans).map { v in
            VLANDef(name: "v\(v)", id: v + 1, subnet: "10.\(100 + v / 256).\(v % 256).0/24")
        }
        p.personalities = (0..<processors * 9 / 10).map { i in
            PersonalityDef(name: "s\(i)", nics: [NICDef(vlan: "v\(i % vlans)"), NICDef(vlan: "v\((i + 1) % vlans)")])
        }
        loaded.definition = p
        allocations = try Allocator.allocate(p, remembered: [:]).nics
        bindings = Placement.bind(p, remembered: [:])
    }

    var desired: DesiredState {
        Renderer.render(loaded.definition, allocations: allocations, bindings: bindings, domainTypes: ["local": "test"],
                        image: BootImage(kernel: "/k", initrd: "/i", cmdline: "c"))
    }
}
