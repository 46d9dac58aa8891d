import Libvirt
import SystemSupport
import TestSupport
import Testing

@Suite struct ConnectionTests {
    @Test func opensTestDriverAndReportsVersions() throws {
        let conn = try openTest()
        #expect(conn.isOpen)
        #expect(try LibvirtVersion.library() >= LibvirtVersion(major: 9, minor: 0, release: 0))
        #expect(try conn.daemonVersion() == LibvirtVersion.library())
        #expect(try conn.hypervisorVersion().major >= 0)
        #expect(try !conn.hostname().isEmpty)
        #expect(try conn.capabilities().contains("<capabilities>"))
    }

    @Test func invalidURIIsAClearError() {
        #expect {
            _ = try Connection(uri: "nosuchdriver:///x")
        } throws: { error in
            let e = error as! LibvirtError
            return e.operation == "connecting to libvirt at 'nosuchdriver:///x'" && !e.message.isEmpty
                && e.description.hasPrefix("connecting to libvirt at 'nosuchdriver:///x': ")
        }
    }

    @Test func noDaemonIsAClearError() {
        // A socket path where no daemon listens.
        let uri = "qemu:///system?socket=/nonexistent/libvirt-sock"
        #expect {
            _ = try Connection(uri: uri)
        } throws: { error in
            let e = error as! LibvirtError
            return e.isConnectionFailure && e.description.contains("/nonexistent/libvirt-sock")
        }
    }

    @Test func closedConnectionThrowsInsteadOfCrashing() throws {
        let conn = try openTest()
        conn.close()
        conn.close() // idempotent
        #expect(!conn.isOpen)
        #expect(kindThrown { _ = try conn.domains() } == .unavailable, "a closed connection")
    }

    @Test func keepaliveIsUnsupportedOnTheTestDriver() throws {
        let conn = try openTest()
        #expect { try conn.setKeepAlive(interval: 5, count: 3) } throws: { ($0 as! LibvirtError).isUnsupported }
    }
}
