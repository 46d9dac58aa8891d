import Failover
import PlatformEngine
import PlatformModel
import Synchronization

/// The definition the API acts on. Under `vpctl serve` it follows the failover service: whatever
/// the service puts in force (SIGHUP, `POST /v1/reload`, an apply through the API) is in force
/// here too, so the API and the watchers never disagree about which processors exist.
final class DefinitionInForce: Sendable {
    private struct Engines { var platform: PlatformEngine; var failover: FailoverEngine }
    private let engines: Mutex<Engines>
    /// nil: a fixed definition (the API without `vpctl serve`, as in tests and benches), which
    /// only an apply through the API changes.
    let service: FailoverService?

    init(platform: PlatformEngine, failover: FailoverEngine, service: FailoverService?) {
        engines = Mutex(Engines(platform: platform, failover: failover))
        self.service = service
        service?.followDefinition { [weak self] loaded in self?.follow(loaded) }
    }

    var platform: PlatformEngine { engines.withLock { $0.platform } }
    var failover: FailoverEngine { engines.withLock { $0.failover } }

    /// Throws `ConfigErrors` for what the running service could not take: checked before an
    /// apply touches libvirt, so a refused definition changes nothing.
    func check(_ loaded: LoadedPlatform) throws { try service?.check(loaded) }

    /// `engine`'s definition (`text` as sent) has just been applied: it is the one in force now,
    /// and the service's definition file says so.
    func adopt(_ engine: PlatformEngine, text: String) throws {
        if let service {
            try service.adopt(engine.loaded, text: text, from: "apply through the admin API")
        } else {
            let failover = try engine.failoverEngine(metrics: self.failover.metrics)
            engines.withLock { $0 = Engines(platform: engine, failover: failover) }
        }
    }

    /// What SIGHUP does: the service reads its file again.
    func reload() throws -> DefinitionChange {
        guard let service else {
            throw APIError(.conflict, "reload", "this admin API runs without vpctl serve's definition file: there is nothing to read again")
        }
        return try service.reload()
    }

    private func follow(_ loaded: LoadedPlatform) {
        guard let service else { return }
        engines.withLock { engines in
            // The platform engine opens its own connections: if a host cannot be reached now, the
            // API keeps the one it had until the next reload (the service's engine is new either way).
            if let platform = try? PlatformEngine(loaded: loaded, store: engines.platform.store) { engines.platform = platform }
            engines.failover = service.engine
        }
    }
}
