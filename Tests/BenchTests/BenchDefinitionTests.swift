import PlatformModel
import Testing
@testable import VPBench

/// Every bench's platform is a definition the product's loader and validator accept, with the
/// shape the bench measures.
@Suite struct BenchDefinitionTests {
    func load(_ yaml: String) throws -> PlatformDefinition {
        let loaded = try PlatformLoader.parse(yaml, file: "bench.yaml")
        let issues = Validator.validate(loaded)
        #expect(issues.isEmpty, "\(issues)")
        return loaded.definition
    }

    @Test(arguments: ["hot", "cold"])
    func failover(mode: String) throws {
        let (name, yaml) = BenchPlatform.definition(mode: mode, image: "/images/p")
        let p = try load(yaml)
        #expect(p.platform == name && p.processors.members.count == 3 && p.processors.image == "/images/p")
        #expect(p.standbyMode.rawValue == mode && p.personalities.map(\.name) == ["svc"])
        #expect(p.personalities[0].disks?.map(\.volume) == ["\(name)-data/svc"])
    }

    @Test func failoverChurn() throws {
        let p = try load(ChurnBench.definition(image: nil))
        #expect(p.processors.members.count == 5 && p.vlans.map(\.subnet) == ["10.111.1.0/24", "10.111.2.0/24"])
        #expect(p.standbyMode == .hot)
    }

    @Test func faultMatrix() throws {
        let p = try load(FaultLab.definition(name: "fmx", processors: (1...4).map { "fmx-\($0)" }, image: nil))
        #expect(p.personalities.map(\.name) == ["web", "db"] && p.standby?.count == 1)
        #expect(p.storage?.pools.map(\.path) == ["/var/lib/virtualplatform/fmx/pool"])
    }

    @Test func serviceFailover() throws {
        let p = try load(ServiceFailoverBench.definition)
        #expect(p.processors.members.map(\.name) == (1...4).map { "vpbenchs-\($0)" })
        #expect(p.services?.map(\.transport) == [.tcp] && p.services?.first?.address == ServiceFailoverBench.vip)
    }
}
