// The request and response bodies and problem details are shared with the client: users of the
// server see them too.
@_exported import AdminProtocol
import Failover
import Foundation
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import PlatformEngine
import StateStore
import SystemSupport

/// The admin API of `vpctl serve`: the operations of openapi.yaml, whose types, routes and
/// request decoding swift-openapi-generator makes at build time (`APIProtocol`). Each handler
/// calls the library function the matching `vpctl` command calls; this type only translates
/// between the generated types and those calls.
public struct AdminAPI: APIProtocol, Sendable {
    let inForce: DefinitionInForce
    /// The platform and failover engine of the definition in force.
    public var platform: PlatformEngine { inForce.platform }
    public var failover: FailoverEngine { inForce.failover }
    /// The Prometheus text exposition served at /metrics.
    let metrics: @Sendable () -> String
    let document = OpenAPIDocument.bundled
    /// Who acted, in the journal and in events.
    let actor = "admin API"
    /// Every follower of the event stream reads from this one reader of the store's events.
    let eventFeed: EventFeed
    /// How often the event feed looks for new events while anyone follows: one store read for all
    /// followers, so it can look often (an event reaches them within about this long).
    static let eventPoll: Duration = .milliseconds(10)

    /// A fixed definition: only an apply through the API changes it, and there is no file to reload.
    public init(platform: PlatformEngine, failover: FailoverEngine, metrics: @escaping @Sendable () -> String = { "" }) {
        inForce = DefinitionInForce(platform: platform, failover: failover, service: nil)
        eventFeed = EventFeed(store: platform.store, poll: Self.eventPoll)
        self.metrics = metrics
    }

    /// Under `vpctl serve`: the API follows every definition `service` puts in force, reloads its
    /// file on `POST /v1/reload`, and puts a definition applied through the API in force there.
    public init(platform: PlatformEngine, service: FailoverService, metrics: @escaping @Sendable () -> String = { "" }) {
        inForce = DefinitionInForce(platform: platform, failover: service.engine, service: service)
        eventFeed = EventFeed(store: platform.store, poll: Self.eventPoll)
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
        router.add(middleware: JSONContentTypeMiddleware())
        router.add(middleware: RequestBodyLimitMiddleware())
        let routes = RouteRecorder(router: router)
        do {
            try registerHandlers(on: routes, configuration: Self.encoding, middlewares: [ParameterCheck(document: document), StatusKeeper(inForce: inForce)])
        } catch {
            // Only a server URL that is not a URL makes this throw; ours is the default "/".
            preconditionFailure("registering the admin API's routes: \(error)")
        }
        return router
    }

    /// Every route `router` serves, as "METHOD /path" with the document's `{parameter}` names.
    public func servedRoutes() -> [String] {
        let routes = RouteRecorder(router: Router())
        try? registerHandlers(on: routes, configuration: Self.encoding)
        return routes.registered
    }

    /// JSON as `vpctl -o json` writes it: sorted keys, unescaped slashes, ISO 8601 dates with
    /// milliseconds (`WireJSON`'s, which the client reads: an event's time prints the same either way).
    static let encoding = Configuration(dateTranscoder: WireDates(),
                                        jsonEncodingOptions: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .textPlainVersion_0_0_4(HTTPBody(metrics()))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(document.text))))
    }
}

/// The generated server's dates as `WireJSON` writes them.
struct WireDates: DateTranscoder {
    func encode(_ date: Date) throws -> String { WireJSON.text(of: date) }
    func decode(_ text: String) throws -> Date {
        guard let date = WireJSON.date(from: text) else {
            throw PlatformError(.invalidInput, "date '\(text)'", "not an ISO 8601 date")
        }
        return date
    }
}
