import Foundation
import Libvirt
import LibvirtXML
import SystemSupport

/// Finds out which libvirt domain types really boot a guest on a host.
///
/// libvirt may advertise `kvm` where nested KVM hangs the guest kernel right after decompression,
/// so advertising proves nothing: each advertised type boots the kernel once, in a transient
/// auto-destroyed domain with its serial console in a file, and counts as booting when the
/// kernel's banner ("Linux version") appears there.
public struct DomainTypeProbe: Sendable {
    public struct Result: Codable, Sendable, Equatable {
        public var type: String
        public var advertised: Bool
        public var boots: Bool
        /// Seconds from start to the kernel banner, or until giving up.
        public var seconds: Double
        public var detail: String
    }

    /// Preference order: the fastest type that boots wins.
    public static let preference = ["kvm", "qemu"]

    public let kernel: String
    public let workDirectory: String
    public let timeout: Duration

    public init(kernel: String, workDirectory: String = "/var/lib/virtualplatform/probe",
                timeout: Duration = .seconds(15)) {
        self.kernel = kernel; self.workDirectory = workDirectory; self.timeout = timeout
    }

    /// The x86_64 domain types libvirt advertises on the connection.
    public static func advertisedTypes(_ connection: Connection) throws -> [String] {
        try advertisedTypes(capabilities: try connection.capabilities())
    }

    /// The x86_64 domain types in libvirt's capabilities XML, first appearance first
    /// (`/capabilities/guest[os_type='hvm']/arch[@name='x86_64']/domain/@type`).
    public static func advertisedTypes(capabilities xml: String) throws -> [String] {
        let root = try XMLTree.parse(xml)
        guard root.name == "capabilities" else { return [] }
        var seen: [String] = []
        for guest in root.children("guest") where guest.children("os_type").contains(where: { $0.text == "hvm" }) {
            for arch in guest.children("arch") where arch[attribute: "name"] == "x86_64" {
                for value in arch.children("domain").compactMap({ $0[attribute: "type"] }) where !seen.contains(value) {
                    seen.append(value)
                }
            }
        }
        return seen
    }

    /// Probes every advertised type (in parallel) and returns the results in preference order.
    public func run(_ connection: Connection) async throws -> [Result] {
        let advertised = try Self.advertisedTypes(connection)
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let types = Self.preference + advertised.filter { !Self.preference.contains($0) }
        return try await withThrowingTaskGroup(of: Result.self) { group in
            for type in types {
                guard advertised.contains(type) else { continue }
                group.addTask { try await self.probe(type, connection) }
            }
            var results: [Result] = []
            for try await r in group { results.append(r) }
            for type in types where !advertised.contains(type) {
                results.append(Result(type: type, advertised: false, boots: false, seconds: 0,
                                      detail: "not advertised by libvirt"))
            }
            return results.sorted { types.firstIndex(of: $0.type)! < types.firstIndex(of: $1.type)! }
        }
    }

    /// The type to use: the first one in preference order that booted.
    public static func choose(_ results: [Result]) -> String? { results.first { $0.boots }?.type }

    private func probe(_ type: String, _ connection: Connection) async throws -> Result {
        let log = "\(workDirectory)/probe-\(type).log"
        try? FileManager.default.removeItem(atPath: log)
        var spec = DomainSpec(name: "vp-probe-\(type)-\(UUID().uuidString.prefix(8).lowercased())", type: type,
                              memoryMiB: 128, kernel: kernel, initrd: nil,
                              cmdline: "console=ttyS0 panic=-1", serialLog: log)
        spec.onReboot = "destroy"
        let start = ContinuousClock.now
        let domain: Domain
        do {
            domain = try connection.createTransientDomain(xml: spec.render(), autoDestroy: true)
        } catch let error as LibvirtError {
            return Result(type: type, advertised: true, boots: false, seconds: 0,
                          detail: "does not start: \(error.message)")
        }
        defer { try? domain.destroy() }
        while ContinuousClock.now - start < timeout {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("Linux version") {
                let seconds = (ContinuousClock.now - start) / .seconds(1)
                return Result(type: type, advertised: true, boots: true, seconds: seconds,
                              detail: "kernel banner after \(String(format: "%.1f", seconds)) s")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let seconds = timeout / .seconds(1)
        return Result(type: type, advertised: true, boots: false, seconds: seconds,
                      detail: "guest kernel printed nothing in \(Int(seconds)) s (hangs)")
    }
}

/// Remembers the probe's choice per host URI, so commands that create processors do not probe again.
public struct DomainTypeCache: Sendable {
    public static let defaultPath = "/var/lib/virtualplatform/domain-types.json"
    public let path: String
    public init(path: String = DomainTypeCache.defaultPath) { self.path = path }

    public struct Entry: Codable, Sendable, Equatable {
        public var type: String
        public var probedAt: Date
    }

    public func load() -> [String: Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        return (try? JSONDecoder().decode([String: Entry].self, from: data)) ?? [:]
    }

    public func type(for uri: String) -> String? { load()[uri]?.type }

    public func store(_ type: String, for uri: String) throws {
        var all = load()
        all[uri] = Entry(type: type, probedAt: Date())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try encoder.encode(all).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

extension DomainTypeProbe {
    /// The domain type for new processors on `connection`: the remembered probe result, or a
    /// fresh probe (remembered afterwards) when this host was never probed.
    public static func resolve(_ connection: Connection, kernel: String,
                               cache: DomainTypeCache = DomainTypeCache()) async throws -> String {
        if let known = cache.type(for: connection.uri) { return known }
        let results = try await DomainTypeProbe(kernel: kernel).run(connection)
        guard let chosen = choose(results) else {
            throw PlatformError(.unavailable, "host \(connection.uri)", "no domain type boots a guest on it: "
                + results.map { "\($0.type): \($0.detail)" }.joined(separator: "; "))
        }
        try cache.store(chosen, for: connection.uri)
        return chosen
    }
}
