/// The fault matrix's safety check, pure: one MAC and one volume live on at most one running
/// domain. A sampler reads every domain of the platform (every 50 ms during a fault) and feeds
/// each read here; nothing in this file touches libvirt, so it is tested with scripted samples.

/// What one read of one domain showed.
public enum DomainReading: Sendable, Equatable {
    /// Its QEMU runs (or is stopped, but alive): it holds these MACs and volumes.
    case running(macs: Set<String>, volumes: Set<String>)
    /// No QEMU runs for it: it holds nothing.
    case notRunning
    /// The sampler could not tell. Never taken for "fine": the sample counts as unchecked.
    case unreadable(String)
}

/// Every domain of the platform, read at one moment.
public struct CarrierSample: Sendable, Equatable {
    /// Seconds on the sampler's clock.
    public var at: Double
    public var domains: [String: DomainReading]
    public init(at: Double, domains: [String: DomainReading]) { self.at = at; self.domains = domains }
}

/// A MAC or a volume held by more than one running domain at once.
public struct DoubleCarrier: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable { case mac = "MAC", volume }
    public var kind: Kind
    public var value: String
    /// The running domains that hold it, sorted.
    public var domains: [String]
    public init(kind: Kind, value: String, domains: [String]) { self.kind = kind; self.value = value; self.domains = domains.sorted() }
    public var description: String { "\(kind.rawValue) \(value) on \(domains.joined(separator: " and "))" }
}

/// Accumulates samples: how many were taken, how many could not be checked (and why), and every
/// double carrier seen, with when it was first seen and in how many samples.
public struct CarrierChecker: Sendable {
    public struct Seen: Sendable, Equatable {
        public var firstAt: Double
        public var samples: Int
        public init(firstAt: Double, samples: Int) { self.firstAt = firstAt; self.samples = samples }
    }
    public private(set) var samples = 0
    public private(set) var uncheckedSamples = 0
    /// Why samples could not be checked: reason → how many domain reads failed that way.
    public private(set) var unreadable: [String: Int] = [:]
    public private(set) var doubles: [DoubleCarrier: Seen] = [:]
    /// Every MAC and volume seen held by a running domain: a watched MAC never seen means the
    /// sampler did not see what it checks, and its "no double" proves nothing.
    public private(set) var held: Set<String> = []

    public init() {}

    /// Adds one sample; returns the double carriers it shows.
    @discardableResult
    public mutating func add(_ sample: CarrierSample) -> [DoubleCarrier] {
        samples += 1
        let failed = sample.domains.values.compactMap { reading -> String? in
            if case .unreadable(let why) = reading { return why }
            return nil
        }
        if !failed.isEmpty {
            uncheckedSamples += 1
            for why in failed { unreadable[why, default: 0] += 1 }
        }
        for case .running(let macs, let volumes) in sample.domains.values {
            held.formUnion(macs.map { $0.lowercased() })
            held.formUnion(volumes)
        }
        // The domains that could be read are still checked: a double among them is real.
        let found = Self.doubles(in: sample)
        for d in found {
            doubles[d, default: Seen(firstAt: sample.at, samples: 0)].samples += 1
        }
        return found
    }

    /// Those of the watched MACs and volumes never seen on a running domain.
    public func neverSeen(macs: Set<String>, volumes: Set<String>) -> [String] {
        (macs.map { $0.lowercased() } + volumes).filter { !held.contains($0) }.sorted()
    }

    /// The MACs and volumes that more than one running domain of `sample` holds.
    public static func doubles(in sample: CarrierSample) -> [DoubleCarrier] {
        var macs: [String: [String]] = [:], volumes: [String: [String]] = [:]
        for (name, reading) in sample.domains {
            guard case .running(let m, let v) = reading else { continue }
            for mac in Set(m.map { $0.lowercased() }) { macs[mac, default: []].append(name) }
            for volume in v { volumes[volume, default: []].append(name) }
        }
        let found = macs.filter { $0.value.count > 1 }.map { DoubleCarrier(kind: .mac, value: $0.key, domains: $0.value) }
            + volumes.filter { $0.value.count > 1 }.map { DoubleCarrier(kind: .volume, value: $0.key, domains: $0.value) }
        return found.sorted { ($0.kind.rawValue, $0.value) < ($1.kind.rawValue, $1.value) }
    }
}
