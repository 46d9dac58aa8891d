import Hosts
import Testing

/// What `vpctl serve` reads from a domain's XML: the definition, the live XML, libvirt's status file.
struct DomainDevicesTests {
    static let devices = """
        <devices>
          <disk type='volume' device='disk'>
            <driver name='qemu' type='qcow2'/>
            <source pool='default' volume='web-root'/>
            <target dev='vda' bus='virtio'/>
          </disk>
          <disk type='file' device='disk'>
            <source file='/var/lib/vp/seed.img'/>
            <target dev='vdb' bus='virtio'/>
          </disk>
          <disk type='file' device='cdrom'>
            <target dev='hdc' bus='ide'/>
          </disk>
          <interface type='network'>
            <mac address='52:54:00:AB:CD:EF'/>
            <source network='vp-vlan10' portid='0b6c'/>
            <model type='virtio'/>
          </interface>
          <interface type='network'>
            <mac address='52:54:00:00:00:02'/>
          </interface>
        </devices>
        """
    static let expected = DomainDevices(
        nics: [.init(mac: "52:54:00:ab:cd:ef", network: "vp-vlan10"), .init(mac: "52:54:00:00:00:02", network: "")],
        disks: [.init(target: "vda", source: "default/web-root", format: "qcow2"),
                .init(target: "vdb", source: "/var/lib/vp/seed.img", format: "raw")])

    @Test func aDefinitionsNICsAndDisksWithoutSourcelessDisks() throws {
        let xml = "<?xml version='1.0'?>\n<domain type='qemu'><name>web</name>\(Self.devices)</domain>"
        #expect(try DomainDevices(xml: xml) == Self.expected)
    }

    @Test func aStatusFileIsReadThroughItsDomain() throws {
        let xml = """
            <!--
            WARNING: THIS IS AN AUTO-GENERATED FILE.
            -->
            <domstatus state='running' reason='booted' pid='4242'>
              <monitor path='/var/lib/libvirt/qemu/domain-1-web/monitor.sock' type='unix'/>
              <domain type='qemu' id='1' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
                <name>web</name>
                \(Self.devices)
                <qemu:commandline><qemu:arg value='-no-user-config'/></qemu:commandline>
              </domain>
            </domstatus>
            """
        #expect(try DomainDevices(xml: xml) == Self.expected)
    }

    @Test func aDomainWithoutDevicesHasNone() throws {
        #expect(try DomainDevices(xml: "<domain><name>x</name></domain>") == DomainDevices())
    }

    @Test func brokenXMLIsAnError() {
        #expect(throws: (any Error).self) { try DomainDevices(xml: "<domstatus><domain>") }
    }
}
