import Foundation
import Hosts
import Libvirt
import LibvirtXML
import Synchronization
#if canImport(Testing)
import Testing
import SystemSupport
#endif

/// A libvirt host in memory, like swift-nio's EmbeddedChannel: simulated domains, every call
/// recorded, a fault or a hang injectable into any operation, a domain that can crash. After
/// every call it checks the platform's invariants across its fleet (one MAC on at most one
/// running domain, one volume with at most one running writer), so a test that breaks them fails
/// at the instant it happens, naming the call.
///
/// It behaves as libvirt does where the engine depends on it: a device already present cannot be
/// attached again, an absent one cannot be detached, a domain that is off has no live devices,
/// and starting a domain makes its definition live.
public final class FakeHost: Hosts.Host {
    public let name: String
    public let isLocal: Bool
    public let fleet: FakeFleet
    private let state = Mutex(State())

    struct State {
        var domains: [String: FakeDomain] = [:]
        var calls: [FakeHost.Call] = []
        var faults: [Fault] = []
        var hanging = 0
        var nextPid: pid_t = 40_000
        var events: [AsyncStream<ConnectionEvent>.Continuation] = []
    }

    public init(name: String = "a", local: Bool = true, fleet: FakeFleet = FakeFleet()) {
        self.name = name; self.isLocal = local; self.fleet = fleet
        fleet.join(self)
    }

    // MARK: Setting the scene

    /// Defines `domain` with these devices in its definition; `running` starts it.
    public func define(_ domain: String, nics: [DomainDevices.NIC] = [], disks: [DomainDevices.Disk] = [], running: Bool = false) {
        state.withLock { s in
            s.nextPid += 1
            let config = DomainDevices(nics: nics, disks: disks)
            s.domains[domain] = FakeDomain(running: running, config: config, live: running ? config : DomainDevices(),
                                           pid: s.nextPid, ran: running)
        }
        fleet.check(after: "define \(domain) on \(name)")
    }

    /// The domain's QEMU dies (it stays defined, off, its process exited), as a crash or a kill does.
    public func crash(_ domain: String) {
        state.withLock { s in
            s.domains[domain]?.running = false
            s.domains[domain]?.live = DomainDevices()
        }
    }

    public func domain(_ name: String) -> FakeDomain? { state.withLock { $0.domains[name] } }
    public var domainNames: [String] { state.withLock { $0.domains.keys.sorted() } }
    /// The domains that run, with what they hold (what the invariants are checked on).
    public var running: [String: DomainDevices] {
        state.withLock { $0.domains.filter(\.value.running).mapValues(\.live) }
    }

    // MARK: The call record

    public struct Call: Sendable, Equatable, CustomStringConvertible {
        public var operation: Operation
        public var domain: String
        /// The device and scopes of an attach or detach, the personality of a metadata change.
        public var detail: String
        /// It failed by an injected fault (and changed nothing, unless the fault was `hangAfter`).
        public var injected = false
        public var description: String { "\(operation.rawValue) \(domain)\(detail.isEmpty ? "" : " " + detail)" }
    }

    public enum Operation: String, Sendable, CaseIterable {
        case state, devices, runningDomains, attach, detach, start, destroy, setMetadata, announce, volumePath, fence, events
        /// Operations that change something.
        public var changes: Bool { [.attach, .detach, .start, .destroy, .setMetadata, .announce, .fence].contains(self) }
    }

    public var calls: [Call] { state.withLock { $0.calls } }
    /// The calls that changed something, in order.
    public var changes: [Call] { calls.filter(\.operation.changes) }
    public func calls(_ operation: Operation) -> [Call] { calls.filter { $0.operation == operation } }
    public func clearCalls() { state.withLock { $0.calls = [] } }

    // MARK: Faults

    public enum Failure: Sendable, Equatable {
        /// The call throws, changing nothing.
        case error
        /// The call never returns (until cancelled, or `release()`), changing nothing.
        case hang
        /// The call does what it does, then never returns: a controller killed right after a
        /// step's effect and before its journal entry.
        case hangAfter
    }

    struct Fault {
        var failure: Failure
        var operation: Operation
        var domain: String?
        var times: Int
    }

    /// The next `times` calls of `operation` (on `domain`, or any) fail as `failure` says.
    public func inject(_ failure: Failure, into operation: Operation, domain: String? = nil, times: Int = 1) {
        state.withLock { $0.faults.append(Fault(failure: failure, operation: operation, domain: domain, times: times)) }
    }

    /// How many calls hang right now.
    public var hanging: Int { state.withLock { $0.hanging } }
    private let released = Atomic(0)
    /// Ends every hang (the calls then throw).
    public func release() { released.add(1, ordering: .relaxed) }

    /// Waits until some call hangs (false: none did within `limit`).
    /// The limit is generous because it is wall-clock: in a full parallel `swift test` on two cores,
    /// other suites' blocking calls hold the cooperative pool's threads for seconds at a time.
    public func waitUntilHanging(within limit: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while hanging == 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    // MARK: Host

    public func state(of domain: String) async throws -> DomainStatus? {
        try await perform(.state, domain) { s in
            s.domains[domain].map { DomainStatus($0.running ? .running : .shutoff) }
        }
    }

    public func devices(of domain: String, _ scope: DeviceScope) async throws -> DomainDevices {
        try await perform(.devices, domain, scope.rawValue) { s in
            guard let d = s.domains[domain] else { throw PlatformError(.notFound, nil, "domain '\(domain)' is not defined on host \(self.name)") }
            return scope == .live ? d.live : d.config
        }
    }

    public func runningDomains() async throws -> [String: DomainDevices] {
        try await perform(.runningDomains, "") { s in s.domains.filter(\.value.running).mapValues(\.live) }
    }

    public func attach(_ device: Device, to domain: String, _ scopes: Set<DeviceScope>) async throws {
        try await perform(.attach, domain, Self.describe(device, scopes)) { s in
            var d = try Self.defined(domain, in: s, host: self.name)
            if scopes.contains(.live) {
                guard d.running else { throw PlatformError(.conflict, nil, "domain '\(domain)' is not running: no live attach") }
                guard !d.live.has(device) else { throw PlatformError(.conflict, nil, "\(device) is already attached to running \(domain)") }
            }
            if scopes.contains(.config), d.config.has(device) {
                throw PlatformError(.conflict, nil, "\(device) is already in the definition of \(domain)")
            }
            if scopes.contains(.live) { d.live.add(device) }
            if scopes.contains(.config) { d.config.add(device) }
            s.domains[domain] = d
        }
    }

    public func detach(_ device: Device, from domain: String, _ scopes: Set<DeviceScope>) async throws {
        try await perform(.detach, domain, Self.describe(device, scopes)) { s in
            var d = try Self.defined(domain, in: s, host: self.name)
            if scopes.contains(.live), !d.running || !d.live.has(device) {
                throw PlatformError(.notFound, nil, "\(device) is not attached to running \(domain)")
            }
            if scopes.contains(.config), !d.config.has(device) {
                throw PlatformError(.notFound, nil, "\(device) is not in the definition of \(domain)")
            }
            if scopes.contains(.live) { d.live.remove(device) }
            if scopes.contains(.config) { d.config.remove(device) }
            s.domains[domain] = d
        }
    }

    public func start(_ domain: String) async throws {
        try await perform(.start, domain) { s in
            var d = try Self.defined(domain, in: s, host: self.name)
            guard !d.running else { throw PlatformError(.conflict, nil, "domain '\(domain)' is already running") }
            s.nextPid += 1
            d.running = true; d.ran = true; d.pid = s.nextPid; d.live = d.config
            s.domains[domain] = d
        }
    }

    public func destroy(_ domain: String) async throws {
        try await perform(.destroy, domain) { s in
            var d = try Self.defined(domain, in: s, host: self.name)
            guard d.running else { throw PlatformError(.conflict, nil, "domain '\(domain)' is not running") }
            d.running = false; d.live = DomainDevices()
            s.domains[domain] = d
        }
    }

    public func setMetadata(_ metadata: MetadataSpec, of domain: String, live: Bool) async throws {
        let attributes = Dictionary(metadata.element.attributes, uniquingKeysWith: { a, _ in a })
        try await perform(.setMetadata, domain, "personality=\(attributes["personality"] ?? "none")") { s in
            var d = try Self.defined(domain, in: s, host: self.name)
            d.owner = attributes
            s.domains[domain] = d
        }
    }

    public func announce(_ domain: String) async throws {
        try await perform(.announce, domain) { s in
            guard try Self.defined(domain, in: s, host: self.name).running else {
                throw PlatformError(.conflict, nil, "domain '\(domain)' is not running: nothing to announce")
            }
        }
    }

    public func volumePath(pool: String, volume: String) async -> String? {
        (try? await perform(.volumePath, "\(pool)/\(volume)") { _ in "/fake/\(pool)/\(volume)" }) ?? nil
    }

    public func process(of domain: String) -> QEMUProcess.State {
        guard isLocal, let d = self.domain(domain) else { return .notRunning }
        return d.running ? .running(d.pid) : d.ran ? .exited(d.pid) : .notRunning
    }

    /// Off at once unless a fault says otherwise (`error`: unconfirmed).
    public func fence(_ domain: String, planned: Bool) async -> FenceOutcome {
        do {
            return try await perform(.fence, domain, planned ? "planned" : "") { s in
                guard var d = s.domains[domain] else { return .off("not defined on \(self.name)") }
                guard d.running else { return .off("already off") }
                d.running = false; d.live = DomainDevices()
                s.domains[domain] = d
                return .off("QEMU process \(d.pid) killed (fake)")
            }
        } catch {
            return .unconfirmed("\(error)")
        }
    }

    public func events() async throws -> AsyncStream<ConnectionEvent> {
        try await perform(.events, "") { _ in }
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
        state.withLock { $0.events.append(continuation) }
        return stream
    }

    // MARK: Machinery

    /// Records the call, applies an injected fault, runs `body` on the state, checks the invariants.
    private func perform<T: Sendable>(_ operation: Operation, _ domain: String, _ detail: String = "",
                                      _ body: @Sendable (inout State) throws -> T) async throws -> T {
        let call = Call(operation: operation, domain: domain, detail: detail)
        let failure = state.withLock { s -> Failure? in
            s.calls.append(call)
            guard let i = s.faults.firstIndex(where: { $0.operation == operation && ($0.domain == nil || $0.domain == domain) })
            else { return nil }
            let failure = s.faults[i].failure
            if failure != .hangAfter { s.calls[s.calls.count - 1].injected = true }
            s.faults[i].times -= 1
            if s.faults[i].times <= 0 { s.faults.remove(at: i) }
            return failure
        }
        switch failure {
        case .error: throw PlatformError(.unavailable, nil, "injected failure of \(call)")
        case .hang: try await hang(call)
        case .hangAfter, nil: break
        }
        let result = try state.withLock { try body(&$0) }
        if operation.changes { fleet.check(after: "\(call) on \(name)") }
        if failure == .hangAfter { try await hang(call) }
        return result
    }

    private func hang(_ call: Call) async throws {
        let release = released.load(ordering: .relaxed)
        state.withLock { $0.hanging += 1 }
        defer { state.withLock { $0.hanging -= 1 } }
        while released.load(ordering: .relaxed) == release {
            try Task.checkCancellation()
            try? await Task.sleep(for: .milliseconds(5))
        }
        throw PlatformError(.unavailable, nil, "\(call) hung and was released")
    }

    private static func defined(_ domain: String, in s: State, host: String) throws -> FakeDomain {
        guard let d = s.domains[domain] else { throw PlatformError(.notFound, nil, "domain '\(domain)' is not defined on host \(host)") }
        return d
    }

    private static func describe(_ device: Device, _ scopes: Set<DeviceScope>) -> String {
        "\(device) [\(scopes.map(\.rawValue).sorted().joined(separator: ","))]"
    }
}

/// One simulated domain.
public struct FakeDomain: Sendable, Equatable {
    public var running: Bool
    /// Its persistent definition's devices.
    public var config: DomainDevices
    /// What the running domain holds (nothing when off).
    public var live: DomainDevices
    public var pid: pid_t
    /// It was started at least once: its QEMU process has exited since.
    public var ran: Bool
    /// Its owner metadata's attributes (platform, personality).
    public var owner: [String: String] = [:]
    public var personality: String? { owner["personality"] }
}

extension DomainDevices {
    mutating func add(_ device: Device) {
        switch device {
        case .nic(let nic): nics.append(NIC(mac: nic.mac, network: nic.network))
        case .disk(let disk): disks.append(Disk(target: disk.target, source: Disk.source(of: disk), format: disk.format))
        }
    }

    mutating func remove(_ device: Device) {
        switch device {
        case .nic(let nic): nics.removeAll { $0.mac == nic.mac.lowercased() }
        case .disk(let disk): disks.removeAll { $0.target == disk.target }
        }
    }
}
