import Logging
import ServiceLifecycle
import UnixSignals

extension FailoverService: Service {}

extension FailoverService {
    /// `vpctl serve` as a daemon: this service, the SIGHUP reloader, then `alongside` (the admin
    /// API), in one group. SIGTERM and SIGINT shut the group down gracefully: the services stop
    /// in reverse order, the failover service last, letting its in-flight steps finish. The group
    /// ends when any of its services does. SIGHUP is trapped before this returns, so a hang-up
    /// sent once the service has started never ends the process.
    public func serviceGroup(alongside others: [any Service] = [], logger: Logger) async -> ServiceGroup {
        let reloader = ReloadOnHangup(service: self, hangups: await UnixSignalsSequence(trapping: .sighup))
        return ServiceGroup(configuration: ServiceGroupConfiguration(
            services: ([self, reloader] + others).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    }
}

/// Reloads the definition on each SIGHUP; a bad file is logged by `reload` and changes nothing.
struct ReloadOnHangup: Service {
    let service: FailoverService
    let hangups: UnixSignalsSequence

    func run() async {
        await cancelWhenGracefulShutdown {
            for await _ in hangups { _ = try? service.reload() }
        }
    }
}
