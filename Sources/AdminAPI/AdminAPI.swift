// The request and response bodies and problem details are shared with the client: users of the
// server see them too.
@_exported import AdminProtocol
import Failover
import Hummingbird
import PlatformEngine
import StateStore

/// The routes of `vpctl serve`'s admin API. Each handler calls the library function the matching
/// `vpctl` command calls; this type only translates HTTP to those calls and back.
public struct AdminAPI: Sendable {
    public let platform: PlatformEngine
    public let failover: FailoverEngine
    /// The Prometheus text exposition served at /metrics.
    let metrics: @Sendable () -> String
    /// Who acted, in the journal and in events.
    let actor = "admin API"
    /// How often an event stream looks for new events.
    let eventPoll: Duration = .milliseconds(100)

    public init(platform: PlatformEngine, failover: FailoverEngine, metrics: @escaping @Sendable () -> String = { "" }) {
        self.platform = platform
        self.failover = failover
        self.metrics = metrics
    }

    var store: any PlatformStore { platform.store }
    var administration: Administration { Administration(engine: failover) }

    /// The router, with problem details for every error and, when `token` is set, a bearer token
    /// required on every request.
    public func router(token: BearerToken? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        if let token { router.add(middleware: BearerAuthMiddleware(token: token)) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics())))
        }
        let v1 = router.group("/v1")
        addPlatformRoutes(v1)
        addFailoverRoutes(v1)
        addEventRoutes(v1)
        return router
    }
}
