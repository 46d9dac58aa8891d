import PlatformModel
import Testing

/// `services[].healthCheck` is checked before anything is touched, with the field and the cause.
struct HealthCheckValidationTests {
    static func yaml(_ check: String, protocolName: String = "tcp") -> String {
        """
        platform: hc
        hosts: [{ name: local, uri: "test:///default" }]
        processors:
          vcpus: 1
          memoryMiB: 128
          members: [{ name: p1, host: local }, { name: p2, host: local }]
        vlans:
          - { name: back, id: 200, subnet: 10.71.2.0/24 }
        personalities:
          - { name: a, nics: [{ vlan: back }] }
          - { name: b, nics: [{ vlan: back }] }
        services:
          - { name: web, address: 10.71.9.1, port: 80, protocol: \(protocolName), members: [a, b], healthCheck: \(check) }
        """
    }

    func issues(_ check: String, protocolName: String = "tcp") throws -> [String] {
        do {
            let loaded = try PlatformLoader.parse(Self.yaml(check, protocolName: protocolName), file: "hc.yaml")
            return Validator.validate(loaded).map { "\($0.field): \($0.message)" }
        } catch let errors as ConfigErrors {   // a wrong word of a choice: refused by the loader
            return errors.issues.map { "\($0.field): \($0.message)" }
        }
    }

    @Test func aWellFormedCheckIsAccepted() throws {
        #expect(try issues("{ type: tcp }").isEmpty)
        #expect(try issues("{ type: http, path: /healthz, expectStatus: 204, port: 7700, intervalMs: 500, timeoutMs: 200, rise: 1, fall: 2 }")
            .isEmpty)
        #expect(try issues("{ type: tcp, port: 80 }", protocolName: "udp").isEmpty)
    }

    @Test func theDefinitionKeepsTheFields() throws {
        let loaded = try PlatformLoader.parse(Self.yaml("{ type: http, path: /x, expectStatus: 204, intervalMs: 700, rise: 3 }"),
                                              file: "hc.yaml")
        let check = try #require(loaded.definition.services?.first?.healthCheck)
        #expect(check == ServiceHealthCheckDef(type: .http, path: "/x", expectStatus: 204, intervalMs: 700, rise: 3))
    }

    @Test(arguments: [
        ("{ type: ping }", "services[0].healthCheck.type: 'ping' is not one of tcp, http"),
        ("{ type: tcp, path: /x }", "services[0].healthCheck.path: only an http check has a path"),
        ("{ type: tcp, expectStatus: 200 }", "services[0].healthCheck.expectStatus: only an http check has an expected status"),
        ("{ type: http, path: healthz }", "services[0].healthCheck.path: 'healthz' must start with '/' and hold no spaces or control characters"),
        ("{ type: http, path: \"/a b\" }", "services[0].healthCheck.path: '/a b' must start with '/' and hold no spaces or control characters"),
        ("{ type: http, expectStatus: 99 }", "services[0].healthCheck.expectStatus: 99 is not an HTTP status (100–599)"),
        ("{ type: tcp, port: 70000 }", "services[0].healthCheck.port: 70000 is outside 1–65535"),
        ("{ type: tcp, intervalMs: 50 }", "services[0].healthCheck.intervalMs: 50 is outside 100–3600000"),
        ("{ type: tcp, timeoutMs: 5 }", "services[0].healthCheck.timeoutMs: 5 is outside 10–1000 (at most intervalMs, 1000)"),
        ("{ type: tcp, intervalMs: 300, timeoutMs: 400 }", "services[0].healthCheck.timeoutMs: 400 is outside 10–300 (at most intervalMs, 300)"),
        ("{ type: tcp, rise: 0 }", "services[0].healthCheck.rise: 0 is outside 1–100"),
        ("{ type: tcp, fall: 101 }", "services[0].healthCheck.fall: 101 is outside 1–100"),
    ])
    func badChecksAreRefusedWithTheFieldAndTheCause(check: String, expected: String) throws {
        #expect(try issues(check) == [expected])
    }

    @Test func aUDPServiceNamesThePortItsCheckConnectsTo() throws {
        #expect(try issues("{ type: tcp }", protocolName: "udp")
            == ["services[0].healthCheck.port: the service is UDP; a tcp or http check needs the TCP port to connect to"])
    }
}
