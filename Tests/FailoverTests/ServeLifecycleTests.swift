@testable import Failover
import Foundation
import Hosts
import Libvirt
import LibvirtXML
import Logging
import MetricsExport
import PlatformModel
import ServiceLifecycle
import StateStore
import Synchronization
import Testing
import TestSupport

/// `vpctl serve` as a daemon on libvirt's test driver: the definition reloaded without a restart
/// (a good file puts a new processor under watch, a bad one changes nothing), its metrics as a
/// scraper reads them, and a graceful shutdown through the service group.
struct ServeLifecycleTests {
    /// Every wait's bound. The service runs in this test process, on its task pool of one thread a
    /// core, shared with CPU-bound suites running in parallel: in a full CI run its start took more
    /// than 10 s. What is tested is that each thing happens, not how soon (the benches measure that).
    static let bound: Duration = .seconds(60)
    static var quiet: Logger { var l = Logger(label: "test.serve"); l.logLevel = .critical; return l }

    /// A failover service of `t` whose metrics go to `registry`; heartbeats go to `port`.
    func service(_ t: EnginePlatform, registry: MetricsRegistry, port: UInt16 = 1,
                 standbys: [String: StandbyChooser.Readiness] = [:]) throws -> FailoverService {
        let engine = try FailoverEngine(definition: t.definition, store: t.store, hosts: t.hosts, heartbeatPort: port,
                                        standbys: FakeStandbys(readiness: standbys),
                                        metrics: FailoverMetrics(factory: registry.factory))
        return FailoverService(engine: engine, logger: Self.quiet, definitionFile: t.file)
    }

    func watched(_ service: FailoverService, _ t: EnginePlatform) throws -> [String] {
        try PlatformView(definition: service.engine.definition, store: t.store).heartbeatTargets(excluding: []).map(\.processor)
    }

    /// The definition's text with processor `p5` and personality `app` (on `p5`) added.
    func withApp(_ t: EnginePlatform) throws -> (yaml: String, p5: String) {
        let p5 = "\(t.prefix)-p5"
        let yaml = try String(contentsOfFile: t.file, encoding: .utf8)
            .replacingOccurrences(of: "{ name: \(t.p(4)), host: a }", with: "{ name: \(t.p(4)), host: a }, { name: \(p5), host: a }")
            .replacingOccurrences(of: "{ name: db, nics: [{ vlan: v }] }", with: "{ name: db, nics: [{ vlan: v }] }, { name: app, nics: [{ vlan: v }] }")
        return (yaml, p5)
    }

    @Test func aGoodDefinitionReloadedPutsTheProcessorAnApplyAddedUnderWatch() async throws {
        // app's agent answers on its own loopback address; web's and db's addresses answer nothing.
        let ip = "127.0.\(Int.random(in: 100...250)).\(Int.random(in: 2...250))"
        let responder = try LoopbackResponder(address: ip, spoofFrom: "127.0.0.1")
        defer { responder.stop() }
        let t = try EnginePlatform(subnet: "127.0.0")
        let registry = MetricsRegistry(durationBuckets: FailoverMetrics.durationBuckets)
        let service = try service(t, registry: registry, port: responder.port)
        let (yaml, p5) = try withApp(t)
        // What an apply of the new file leaves: app bound to the new processor p5, with an address.
        try t.store.remember(bindings: ["web": t.p(1), "db": t.p(2), "app": p5], newAllocations: [
            NICAllocation(key: NICAllocation.key(personality: "app", vlan: "v"), mac: "02:56:50:05:00:03", ip: ip),
        ], actor: "test", cause: "test")
        let serving = Task { try await service.run() }
        defer { serving.cancel() }
        try await waitUntil("serve started", within: Self.bound) {
            try t.store.events(limit: 100).contains { $0.detail.hasPrefix("vpctl serve started") }
        }
        #expect(try !watched(service, t).contains(p5), "p5 is not in the definition serve started with")

        try yaml.write(toFile: t.file, atomically: true, encoding: .utf8)
        let change = try service.reload()
        #expect(change.processorsAdded == [p5] && change.personalitiesAdded == ["app"])
        #expect(change.processorsRemoved.isEmpty && change.sectionsChanged.isEmpty)
        #expect(try watched(service, t).contains(p5))
        try await waitUntil("p5's heartbeats answered", within: Self.bound) {
            try t.store.events(limit: 100).contains { $0.detail.hasPrefix("watching: heartbeats armed for [\(p5)]") }
        }
        // Round-trip times reach the metrics in the prober's batches, about once a second.
        try await waitUntil("p5's heartbeat round-trip times in the metrics", within: Self.bound) {
            try PrometheusText.parse(registry.render()).value("vp_heartbeat_rtt_seconds_count", ["processor": p5]).map { $0 > 0 } ?? false
        }
        let samples = try PrometheusText.parse(registry.render())
        #expect(samples.value("vp_reloads_total", ["result": "ok"]) == 1)
        #expect(try t.store.events(limit: 100).contains { $0.detail.contains("definition reloaded from \(t.file): processors +\(p5); personalities +app") })
    }

    @Test func aDefinitionWithProblemsIsRefusedWithItsErrorsAndChangesNothing() async throws {
        let t = try EnginePlatform()
        let registry = MetricsRegistry()
        let service = try service(t, registry: registry)
        let (yaml, _) = try withApp(t)
        // app on a VLAN that does not exist (the validator), and a renamed platform (the reload's own rule).
        try yaml.replacingOccurrences(of: "{ name: app, nics: [{ vlan: v }] }", with: "{ name: app, nics: [{ vlan: nope }] }")
            .replacingOccurrences(of: "platform: \(t.prefix)", with: "platform: \(t.prefix)x")
            .write(toFile: t.file, atomically: true, encoding: .utf8)
        let errors = try #require(throws: ConfigErrors.self) { try service.reload() }
        #expect(errors.issues.contains { $0.field.hasPrefix("personalities[2].nics[0]") && $0.file == t.file && $0.line != nil })
        #expect(errors.issues.contains { $0.field == "platform" && $0.message.contains("cannot rename") })
        #expect(service.engine.definition == t.definition, "the definition in force stays")
        #expect(try PrometheusText.parse(registry.render()).value("vp_reloads_total", ["result": "invalid"]) == 1)
        #expect(try t.store.events(limit: 10).contains { $0.detail.contains("definition not reloaded from \(t.file)") })
    }

    @Test func aDeclarationAndItsStepsAppearInTheMetricsWithTheirLabels() async throws {
        let t = try EnginePlatform(subnet: "127.0.0")
        let conn = try Connection(uri: "test:///default")
        // web's processor is defined and off: the service's start-up scan detects it (libvirt).
        let p1 = try conn.defineDomain(xml: DomainSpec(name: t.p(1), type: "test", memoryMiB: 64, kernel: "/boot/vmlinuz",
                                                       initrd: "/boot/initrd", cmdline: "").render())
        defer { try? p1.undefine() }
        let registry = MetricsRegistry()
        let service = try service(t, registry: registry, standbys: [t.p(3): .off])
        let serving = Task { try await service.run() }
        defer { serving.cancel() }

        try await waitUntil("web's declaration and the choice of its standby in the metrics", within: Self.bound) {
            let samples = try PrometheusText.parse(registry.render())
            return samples.value("vp_declarations_total", ["source": "libvirt"]) == 1
                && (samples.value("vp_move_step_seconds_count", ["step": "standby-chosen"]) ?? 0) >= 1
        }
        try await waitUntil("the processors sampled", within: Self.bound) {
            let samples = try PrometheusText.parse(registry.render()).filter { $0.name == "vp_processors" }
            return Set(samples.compactMap { $0.labels["state"] }) == ["active", "standby", "failed", "maintenance"]
                && samples.map(\.value).reduce(0, +) == 4
        }
        let samples = try PrometheusText.parse(registry.render())
        #expect(samples.value("vp_declarations_total", ["source": "heartbeat"]) == nil, "only the source that declared")
        #expect(samples.contains { $0.name == "vp_move_step_seconds_bucket" && $0.labels == ["step": "standby-chosen", "le": "+Inf"] })
    }

    @Test func theServiceGroupShutsDownGracefullyAndReleasesThePlatform() async throws {
        let t = try EnginePlatform(subnet: "127.0.0")
        let service = try service(t, registry: MetricsRegistry())
        let group = await service.serviceGroup(logger: Self.quiet)
        let ended = Mutex<String?>(nil)
        let running = Task {
            do { try await group.run(); ended.withLock { $0 = "returned" } } catch { ended.withLock { $0 = "threw \(error)" } }
        }
        defer { running.cancel() }
        try await waitUntil("serve started", within: Self.bound) {
            try t.store.events(limit: 100).contains { $0.detail.hasPrefix("vpctl serve started") }
        }
        #expect(throws: (any Error).self, "the platform is held while serve runs") { _ = try t.store.acquireServiceLock() }

        await group.triggerGracefulShutdown()
        try await waitUntil("the group ends", within: Self.bound) { ended.withLock { $0 } != nil }
        #expect(ended.withLock { $0 } == "returned")
        _ = try t.store.acquireServiceLock()
    }
}
