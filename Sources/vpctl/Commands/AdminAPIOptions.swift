import AdminAPI
import ArgumentParser

/// Where `vpctl serve` offers its admin API.
struct AdminAPIOptions: ParsableArguments {
    @Option(help: "The admin API's Unix socket (default /run/virtualplatform/<platform>.sock, mode 0600).")
    var socket: String?

    @Option(help: ArgumentHelp("Serve the admin API over TCP instead, on ADDR:PORT; needs --token-file.", valueName: "addr:port"))
    var listen: String?

    @Option(help: "File holding the bearer token every TCP request must carry (mode 0600 or stricter).")
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
