import Libvirt
import Testing

/// Which daemon a host's URI names decides the port filter, the QEMU process watch, keepalive
/// and the host facts: one answer for every caller.
struct LibvirtURITests {
    @Test(arguments: ["qemu:///system", "qemu+unix:///system", "qemu://localhost/system", "qemu+ssh://root@localhost/system",
                      "qemu+tcp://localhost:16509/system", "qemu+tcp://[::1]:16509/system", "lxc:///"])
    func thisMachine(uri: String) {
        #expect(LibvirtURI.isThisMachine(uri) && !LibvirtURI.isAnotherMachine(uri) && !LibvirtURI.isMock(uri))
    }

    @Test(arguments: ["qemu+ssh://root@host2/system", "qemu+tcp://10.0.0.2/system", "qemu+tcp://10.0.0.2:16509/system?keepalive=1",
                      "qemu+tls://[fd00::2]/system"])
    func anotherMachine(uri: String) {
        #expect(LibvirtURI.isAnotherMachine(uri) && !LibvirtURI.isThisMachine(uri) && !LibvirtURI.isThisMachinesQEMU(uri))
    }

    @Test func theMockDriverIsNeither() {
        #expect(LibvirtURI.isMock("test:///default"))
        #expect(!LibvirtURI.isThisMachine("test:///default") && !LibvirtURI.isAnotherMachine("test:///default"))
        #expect(!LibvirtURI.isThisMachine("not a uri") && !LibvirtURI.isAnotherMachine("not a uri"))
    }

    @Test func onlyQEMUHasItsProcessesHere() {
        #expect(LibvirtURI.isThisMachinesQEMU("qemu:///system") && !LibvirtURI.isThisMachinesQEMU("lxc:///"))
    }
}
