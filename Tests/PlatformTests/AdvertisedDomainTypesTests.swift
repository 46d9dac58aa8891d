import HostDoctor
import Testing

/// The domain types `vpctl doctor` probes: what libvirt's capabilities advertise for x86_64 HVM guests.
struct AdvertisedDomainTypesTests {
    @Test func x86HVMDomainTypesInOrderOnce() throws {
        let capabilities = """
            <capabilities>
              <host><cpu><arch>x86_64</arch></cpu></host>
              <guest>
                <os_type>hvm</os_type>
                <arch name='i686'><domain type='qemu'/><domain type='tcg'/></arch>
              </guest>
              <guest>
                <os_type>hvm</os_type>
                <arch name='x86_64'>
                  <wordsize>64</wordsize>
                  <domain type='qemu'/>
                  <domain type='kvm'><emulator>/usr/bin/qemu-kvm</emulator></domain>
                </arch>
              </guest>
              <guest>
                <os_type>xen</os_type>
                <arch name='x86_64'><domain type='xen'/></arch>
              </guest>
              <guest>
                <os_type>hvm</os_type>
                <arch name='x86_64'><domain type='kvm'/><domain type='hvf'/></arch>
              </guest>
            </capabilities>
            """
        #expect(try DomainTypeProbe.advertisedTypes(capabilities: capabilities) == ["qemu", "kvm", "hvf"])
    }

    @Test func noGuestsNoTypes() throws {
        #expect(try DomainTypeProbe.advertisedTypes(capabilities: "<capabilities><host/></capabilities>") == [])
    }
}
