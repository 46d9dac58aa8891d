import AdminAPI
import AdminClient
import ArgumentParser

/// Where the admin API is: where `vpctl serve` offers it, and where the other commands look for it.
struct AdminAPIOptions: ParsableArguments {
    @Option(help: "The admin API's Unix socket (default /run/virtualplatform/<platform>.sock, mode 0600).")
    var socket: String?

    @Option(help: ArgumentHelp("The admin API over TCP instead, on ADDR:PORT; needs --token-file.", valueName: "addr:port"))
    var listen: String?

    @Option(help: "File holding the bearer token of the TCP admin API (mode 0600 or stricter).")
    var tokenFile: String?

    func validate() throws {
        if socket != nil && listen != nil { throw ValidationError("--socket and --listen cannot be used together") }
        if listen != nil && tokenFile == nil { throw ValidationError("--listen needs --token-file: every TCP request must carry a bearer token") }
        if listen == nil && tokenFile != nil { throw ValidationError("--token-file is for --listen; the Unix socket is guarded by its mode") }
    }

    func address(platform: String) throws -> AdminServer.Listen {
        if let listen { return try .tcp(listen) }
        return socket.map { .unixSocket(path: $0) } ?? .defaultSocket(platform: platform)
    }
}

/// What the commands that can go through the daemon take: where it is, or `--direct`.
struct DaemonOptions: ParsableArguments {
    @OptionGroup var api: AdminAPIOptions

    @Flag(help: "Work directly on the state store and libvirt, even when vpctl serve runs (scripts that must not depend on it).")
    var direct = false

    func validate() throws {
        if direct && (api.socket != nil || api.listen != nil) { throw ValidationError("--direct does not use the daemon: leave out --socket and --listen") }
    }

    /// The one decision, by `DaemonRoute`'s rules.
    func route(platform: String) throws -> DaemonRoute {
        switch try api.address(platform: platform) {
        case .unixSocket(let path): return try DaemonRoute.choose(forceDirect: direct, socket: path, tcp: nil)
        case .tcp(let host, let port):
            let token = try DaemonRoute.token(file: api.tokenFile ?? "")
            return try DaemonRoute.choose(forceDirect: direct, socket: "", tcp: .tcp(host: host, port: port, token: token))
        }
    }
}
