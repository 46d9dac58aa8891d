import Foundation
import Libvirt
import LibvirtXML
import PlatformEngine
import PlatformModel
import PlatformRender
import Reconciler
import StateStore

/// Where a no-op re-apply's time goes: each stage of one run done on its own, through the same
/// public calls the engine makes, repeated and timed. The stages overlap the engine's work only
/// approximately (the engine's own order and caching are not copied): they say which stage is
/// large, not the exact split.
struct ControlPlaneStages {
    let file: String, state: String, uri: String

    struct Stage: Encodable { var name: String; var seconds: Timings; var calls: Int }

    func measure(repeats: Int) throws -> [Stage] {
        var stages: [(String, [Double], Int)] = []
        func time(_ name: String, _ body: () throws -> Int) rethrows {
            var samples: [Double] = [], calls = 0
            for _ in 0..<repeats {
                let clock = ContinuousClock()
                let start = clock.now
                calls = try body()
                samples.append((clock.now - start).seconds)
            }
            stages.append((name, samples, calls))
        }
        var loaded: LoadedPlatform!
        try time("load the definition (YAML)") { loaded = try PlatformLoader.load(path: file); return 1 }
        try time("validate") { _ = Validator.validate(loaded); return 1 }
        let definition = loaded.definition
        var store: SQLitePlatformStore!
        try time("open the store") { store = try SQLitePlatformStore(path: state); return 1 }
        var remembered: [String: NICAllocation] = [:], bindings: [String: String] = [:]
        try time("store reads") {
            remembered = try store.allocations()
            bindings = try store.bindings()
            _ = try store.processorStates()
            _ = try store.createdVolumes()
            _ = try store.unfinishedFailovers()
            return 5
        }
        var allocation: Allocator.Result!
        try time("allocate and bind") {
            allocation = try Allocator.allocate(definition, remembered: remembered)
            bindings = Placement.bind(definition, remembered: bindings)
            return 1
        }
        try time("render") {
            _ = Renderer.render(definition, allocations: allocation.nics, bindings: bindings, domainTypes: ["local": "test"],
                                image: BootImage(kernel: "/k", initrd: "/i", cmdline: ""), failed: [])
            return 1
        }
        let connection = try Connection(uri: uri)
        defer { connection.close() }
        var domains: [Domain] = [], networks: [Libvirt.Network] = [], pools: [StoragePool] = []
        try time("list libvirt objects") {
            domains = try connection.domains(); networks = try connection.networks(); pools = try connection.storagePools()
            return 3
        }
        var domainXML: [String] = [], networkXML: [String] = []
        try time("read domains (XML, state, UUID)") {
            domainXML = try domains.map { d in _ = try d.isActive(); _ = try d.uuid(); return try d.xml(inactive: true) }
            return domains.count * 3
        }
        try time("read networks (XML, state, UUID)") {
            networkXML = try networks.map { n in _ = try n.isActive(); _ = try n.uuid(); return try n.xml() }
            return networks.count * 3
        }
        try time("read pools and volumes") {
            var calls = 0
            for pool in pools {
                _ = try pool.isActive(); _ = try pool.xml(); _ = try pool.uuid()
                for volume in try pool.volumes() { _ = try volume.capacityBytes(); _ = try volume.path(); calls += 2 }
                calls += 4
            }
            return calls
        }
        try time("parse domain XML") { for xml in domainXML { _ = try DomainFacts(xml: xml) }; return 0 }
        try time("parse network XML") { for xml in networkXML { _ = try XMLTree.parse(xml) }; return 0 }
        let actor = "vp-bench stages"
        try time("store writes (bindings, maintenance)") {
            try store.remember(bindings: bindings, newAllocations: [], actor: actor, cause: "stages")
            try store.clearMaintenance(); try store.setMaintenance([], reason: "stages"); try store.clearMaintenance()
            return 4
        }
        return stages.map { Stage(name: $0.0, seconds: Timings(samples: $0.1), calls: $0.2) }
    }
}
