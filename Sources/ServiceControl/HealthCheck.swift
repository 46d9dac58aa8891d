import Foundation
import PlatformModel
import StateStore
import SystemSupport

/// A service's health check with the definition's defaults filled in (`ServiceHealthCheckDef`).
public struct HealthCheckSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case tcp
        case http(path: String, expectStatus: Int)
    }
    public var kind: Kind
    public var port: UInt16
    public var interval: Duration
    public var timeout: Duration
    public var rise: Int
    public var fall: Int

    /// `check` must have passed the validator.
    public init(_ check: ServiceHealthCheckDef, servicePort: Int) {
        kind = check.type == .http
            ? .http(path: check.path ?? ServiceHealthCheckDef.defaultPath,
                    expectStatus: check.expectStatus ?? ServiceHealthCheckDef.defaultExpectStatus)
            : .tcp
        port = UInt16(clamping: check.port ?? servicePort)
        interval = .milliseconds(check.intervalMs ?? ServiceHealthCheckDef.defaultIntervalMs)
        timeout = .milliseconds(check.timeoutMs ?? ServiceHealthCheckDef.defaultTimeoutMs)
        rise = check.rise ?? ServiceHealthCheckDef.defaultRise
        fall = check.fall ?? ServiceHealthCheckDef.defaultFall
    }

    /// The check as a whole, for people.
    public var summary: String {
        let what = switch kind {
        case .tcp: "TCP connect to port \(port)"
        case .http(let path, let status): "GET \(path) on port \(port), expecting \(status)"
        }
        return "\(what), every \(Int(interval.milliseconds)) ms (timeout \(Int(timeout.milliseconds)) ms), rise \(rise), fall \(fall)"
    }

    /// What is checked at `address`, for people.
    public func describe(_ address: String) -> String {
        switch kind {
        case .tcp: "TCP connect \(address):\(port)"
        case .http(let path, _): "GET http://\(address):\(port)\(path)"
        }
    }
}

public enum HealthProbeResult: Sendable, Equatable {
    case passed
    case failed(String)
}

/// One check of one address; returns within the spec's timeout (plus scheduling). The I/O of
/// the health checker, apart so that its loop can be tested with a fake.
public protocol HealthProbe: Sendable {
    func probe(_ spec: HealthCheckSpec, address: String) -> HealthProbeResult
}

/// One member of one service under check: its results through rise/fall, turned into the row
/// the service health reads whenever the state changes.
public struct MemberCheck: Sendable {
    public let service: String
    public let member: String
    public let address: String
    public let spec: HealthCheckSpec
    private var machine: RiseFall
    /// Consecutive results equal to the last one (for the reason).
    private var run = 0
    private var last: Bool?

    /// - Parameter saved: the row a previous `serve` left, if any: its state is where this starts.
    public init(service: String, member: String, address: String, spec: HealthCheckSpec, saved: BackendHealthRecord?) {
        self.service = service; self.member = member; self.address = address; self.spec = spec
        machine = RiseFall(rise: spec.rise, fall: spec.fall, initially: saved?.up)
    }

    public var subject: String { BackendHealthRecord.checkSubject(service: service, member: member) }

    /// The new row when this result changes the member's state, else nil.
    public mutating func record(_ result: HealthProbeResult, at now: Date) -> BackendHealthRecord? {
        let success = result == .passed
        run = last == success ? run + 1 : 1
        last = success
        guard machine.record(success) else { return nil }
        let what: String
        switch result {
        case .passed: what = "passed"
        case .failed(let why): what = why
        }
        return BackendHealthRecord(probe: .check, subject: subject, up: machine.up,
                                   reason: "\(spec.describe(address)): \(what) (\(run) in a row)", since: now)
    }
}

/// Runs each member's check on a thread of its own, every `interval`, so that a slow or hung
/// backend delays only its own checks, and neither the heartbeats (threads of their own) nor the
/// controller's tasks wait for it. Reports each change of state to `report`.
public final class HealthCheckRunner: @unchecked Sendable {
    private let probe: any HealthProbe
    private let report: @Sendable (BackendHealthRecord) -> Void
    private let condition = NSCondition()
    private var stopped = false

    public init(probe: any HealthProbe, report: @escaping @Sendable (BackendHealthRecord) -> Void) {
        self.probe = probe; self.report = report
    }

    deinit { stop() }

    public func start(_ checks: [MemberCheck]) {
        for check in checks {
            let thread = Thread { [self] in loop(check) }
            thread.name = "health check \(check.subject)"
            thread.start()
        }
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop(_ initial: MemberCheck) {
        var check = initial
        while true {
            let started = Date()
            let result = probe.probe(check.spec, address: check.address)
            condition.lock()
            let stop = stopped
            condition.unlock()
            if stop { return }
            if let row = check.record(result, at: Date()) { report(row) }
            let next = started.addingTimeInterval(check.spec.interval.seconds)
            condition.lock()
            while !stopped, Date() < next { _ = condition.wait(until: next) }
            let done = stopped
            condition.unlock()
            if done { return }
        }
    }
}
