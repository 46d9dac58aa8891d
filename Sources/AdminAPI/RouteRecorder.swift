import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Synchronization

/// Registers the generated handlers on a Hummingbird router and remembers each route, so that a
/// test can hold the routes served to the document (and a route added by hand would show).
final class RouteRecorder: ServerTransport {
    let router: Router<BasicRequestContext>
    private let routes = Mutex<[String]>([])

    init(router: Router<BasicRequestContext>) { self.router = router }

    var registered: [String] { routes.withLock { $0 } }

    func register(_ handler: @escaping @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
                  method: HTTPRequest.Method, path: String) throws {
        routes.withLock { $0.append("\(method.rawValue) \(path)") }
        router.register(handler, method: method, path: path)
    }
}
