import Libvirt
import LibvirtXML
import SystemSupport
import TestSupport
import Testing

/// libvirt's error numbers become kinds in one table (LibvirtError+Kind.swift): what vpctl's exit
/// code and the API's status follow. Checked on errors libvirt really raises, then on the table.
@Suite struct LibvirtErrorKindTests {
    @Test func aLookupOfNothingIsNotFound() throws {
        let conn = try openTest()
        defer { conn.close() }
        #expect(kindThrown { try conn.domain(named: "no-such-domain") } == .notFound)
        #expect(kindThrown { try conn.network(named: "no-such-network") } == .notFound)
        #expect(kindThrown { try conn.storagePool(named: "no-such-pool") } == .notFound)
    }

    @Test func stoppingADomainThatIsOffIsAConflict() throws {
        let conn = try openTest()
        defer { conn.close() }
        let domain = try conn.defineDomain(xml: testDomainSpec(uniqueName("kind-off")).render())
        defer { try? domain.undefine() }
        #expect(kindThrown { try domain.destroy() } == .conflict, "libvirt: operation invalid, the domain is not running")
    }

    @Test func aDaemonThatDoesNotAnswerIsUnavailable() {
        // Nothing listens on port 1 of loopback: the connection is refused at once.
        #expect(kindThrown { try Connection(uri: "qemu+tcp://127.0.0.1:1/system") } == .unavailable)
        #expect(kindThrown { try Connection(uri: "qemu:///system?socket=/nonexistent/libvirt-sock") } == .unavailable)
    }

    @Test func theTableNamesEachKindAndAnythingElseIsInternal() {
        func kind(_ code: Int32) -> ErrorKind { LibvirtError(code: code, domain: 0, message: "m", operation: "o").kind }
        // libvirt's virErrorNumber values (virterror.h).
        #expect(kind(42) == .notFound, "VIR_ERR_NO_DOMAIN")
        #expect(kind(50) == .notFound, "VIR_ERR_NO_STORAGE_VOL")
        #expect(kind(55) == .conflict, "VIR_ERR_OPERATION_INVALID")
        #expect(kind(28) == .conflict, "VIR_ERR_DOM_EXIST")
        #expect(kind(38) == .unavailable, "VIR_ERR_SYSTEM_ERROR")
        #expect(kind(5) == .unavailable, "VIR_ERR_NO_CONNECT")
        #expect(kind(68) == .unavailable, "VIR_ERR_OPERATION_TIMEOUT")
        #expect(kind(67) == .invalidInput, "VIR_ERR_CONFIG_UNSUPPORTED")
        #expect(kind(1) == .internal, "VIR_ERR_INTERNAL_ERROR")
        #expect(kind(-1) == .internal, "no libvirt error at all")
        let error = LibvirtError(code: 45, domain: 0, message: "m", operation: "o")
        #expect(error.isConnectionFailure && error.kind == .unavailable, "VIR_ERR_AUTH_FAILED: a connection failure is unavailable")
    }
}
