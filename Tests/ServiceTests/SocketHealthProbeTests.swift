import Foundation
import PlatformModel
import ServiceControl
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real probe against listeners of the test's own on loopback.
struct SocketHealthProbeTests {
    /// Accepts connections on 127.0.0.1 and answers each with `answer` (nil: says nothing and
    /// keeps the connection open until the listener goes).
    final class Listener: @unchecked Sendable {
        final class Held: @unchecked Sendable { var fds: [Int32] = [] }
        let fd: Int32
        let port: UInt16
        private let held = Held()
        init(answer: String?) throws {
            let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, length) } }
            try #require(bound == 0 && listen(listening, 16) == 0)
            withUnsafeMutablePointer(to: &address) {
                _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listening, $0, &length) }
            }
            fd = listening
            port = UInt16(bigEndian: address.sin_port)
            let held = self.held
            Thread {
                while true {
                    let client = accept(listening, nil, nil)
                    guard client >= 0 else { return }
                    guard let answer else { held.fds.append(client); continue }
                    var request = [UInt8](repeating: 0, count: 1024)
                    _ = recv(client, &request, request.count, 0)
                    _ = answer.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                    // As a web server closes: no reset that would discard the answer.
                    shutdown(client, Int32(SHUT_WR))
                    while recv(client, &request, request.count, 0) > 0 {}
                    close(client)
                }
            }.start()
        }
        // Shut down, not closed: the accept thread may not have reached accept(2) yet, and a
        // closed descriptor number could be reused by the next test's listener.
        deinit { shutdown(fd, Int32(SHUT_RDWR)); held.fds.forEach { close($0) } }
    }

    func spec(_ type: HealthCheckType, port: UInt16, path: String? = nil, timeoutMs: Int = 300) -> HealthCheckSpec {
        HealthCheckSpec(ServiceHealthCheckDef(type: type, port: Int(port), path: path, timeoutMs: timeoutMs), servicePort: 1)
    }

    @Test func tcpPassesWhenTheConnectionIsAcceptedAndFailsWhenRefused() throws {
        var port: UInt16 = 0
        do {
            let listener = try Listener(answer: "")
            port = listener.port
            withExtendedLifetime(listener) {
                #expect(SocketHealthProbe().probe(spec(.tcp, port: port), address: "127.0.0.1") == .passed)
            }
        }
        // The listener is gone: nothing listens on its port any more.
        #expect(SocketHealthProbe().probe(spec(.tcp, port: port), address: "127.0.0.1") == .failed("Connection refused"))
    }

    @Test func httpComparesTheStatus() throws {
        let ok = try Listener(answer: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        let unavailable = try Listener(answer: "HTTP/1.1 503 Service Unavailable\r\n\r\n")
        withExtendedLifetime((ok, unavailable)) {
            #expect(SocketHealthProbe().probe(spec(.http, port: ok.port, path: "/healthz"), address: "127.0.0.1") == .passed)
            #expect(SocketHealthProbe().probe(spec(.http, port: unavailable.port), address: "127.0.0.1")
                == .failed("HTTP 503, expected 200"))
        }
    }

    @Test func aSilentOrClosingServerFailsWithinTheTimeout() throws {
        let silent = try Listener(answer: nil)
        let closing = try Listener(answer: "")
        withExtendedLifetime((silent, closing)) {
            let started = ContinuousClock.now
            #expect(SocketHealthProbe().probe(spec(.http, port: silent.port, timeoutMs: 200), address: "127.0.0.1")
                == .failed("no HTTP status line within 0.2 seconds"))
            #expect(ContinuousClock.now - started < .milliseconds(600), "bounded by the timeout")
            #expect(SocketHealthProbe().probe(spec(.http, port: closing.port), address: "127.0.0.1")
                == .failed("the connection was closed without an answer"))
        }
    }
}
