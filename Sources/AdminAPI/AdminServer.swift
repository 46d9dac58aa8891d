import Hummingbird
import Logging
import ServiceLifecycle

/// The admin API on its socket: a Unix domain socket by default, TCP with a bearer token when
/// asked. Everything that can stop it from starting is checked by `init`, before `vpctl serve`
/// starts anything else.
public struct AdminServer: Service {
    public enum Listen: Sendable, Equatable {
        case unixSocket(path: String)
        case tcp(host: String, port: Int)

        /// `/run/virtualplatform/<platform>.sock`.
        public static func defaultSocket(platform: String) -> Listen { .unixSocket(path: UnixSocketFile.defaultPath(platform: platform)) }

        /// `ADDR:PORT`, or `[ADDR]:PORT` for IPv6.
        public static func tcp(_ text: String) throws -> Listen {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
                throw AdminServerError(object: "listen address '\(text)'", cause: "expected ADDR:PORT (for example 127.0.0.1:7780)")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw AdminServerError(object: "listen address '\(text)'", cause: "no address before the port") }
            return .tcp(host: host, port: port)
        }
    }

    let api: AdminAPI
    public let listen: Listen
    let token: BearerToken?
    let logger: Logger

    /// TCP needs `tokenFile`; a Unix socket is guarded by its mode and takes none.
    public init(api: AdminAPI, listen: Listen, tokenFile: String? = nil, logger: Logger = Logger(label: "vpctl.api")) throws {
        self.api = api
        self.listen = listen
        self.logger = logger
        switch listen {
        case .unixSocket(let path):
            guard tokenFile == nil else {
                throw AdminServerError(object: "--token-file", cause: "a token is for TCP (--listen); the Unix socket is guarded by its mode 0600")
            }
            try UnixSocketFile.prepare(path)
            token = nil
        case .tcp:
            guard let tokenFile else {
                throw AdminServerError(object: "--listen", cause: "TCP needs --token-file: every request must carry its bearer token")
            }
            token = try BearerToken(file: tokenFile)
        }
    }

    /// As a service of `vpctl serve`'s group: on graceful shutdown it stops accepting, lets the
    /// requests in flight finish (event streams end) and returns.
    public func run() async throws { try await run(onRunning: { _ in }) }

    /// Serves until the task is cancelled or shut down gracefully. `onRunning` is called once requests are accepted, with
    /// the TCP port bound (useful with port 0), nil on a Unix socket.
    public func run(onRunning: @escaping @Sendable (Int?) async -> Void = { _ in }) async throws {
        let address: BindAddress
        switch listen {
        case .unixSocket(let path): address = .unixDomainSocket(path: path)
        case .tcp(let host, let port): address = .hostname(host, port: port)
        }
        let listen = self.listen, logger = self.logger
        let app = Application(router: api.router(token: token), configuration: .init(address: address, serverName: nil),
                              onServerRunning: { channel in
                                  if case .unixSocket(let path) = listen {
                                      do { try UnixSocketFile.restrict(path) } catch {
                                          // A socket others may use is no admin API: stop rather than serve it.
                                          logger.critical("\(error); the admin API stops")
                                          channel.close(promise: nil)
                                          return
                                      }
                                  }
                                  logger.info("admin API listening", metadata: ["address": "\(listen)"])
                                  await onRunning(channel.localAddress?.port)
                              },
                              logger: logger)
        defer { if case .unixSocket(let path) = listen { UnixSocketFile.remove(path) } }
        try await app.run()
    }
}
