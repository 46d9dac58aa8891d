import PlatformModel
import Testing

struct IPv4AddressTests {
    @Test func parsesDottedQuads() throws {
        let address = try #require(IPv4Address("10.0.1.20"))
        #expect(address.value == 0x0a00_0114)
        #expect(address.description == "10.0.1.20")
        #expect(IPv4Address("255.255.255.255")?.value == .max)
        #expect(IPv4Address("0.0.0.0")?.value == 0)
        #expect(IPv4Address(0xc0a8_0001).description == "192.168.0.1")
    }

    @Test(arguments: ["", "10.0.1", "10.0.1.2.3", "10.0.1.256", "10..1.2", "10.0.1.-1", "10.0.1.+1", "10.0.1.1 ",
                      "a.b.c.d", "010.0.0.1", "1.2.3.0004", "::1"])
    func rejectsOtherText(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func comparesNumerically() throws {
        let two = try #require(IPv4Address("10.0.0.2")), twelve = try #require(IPv4Address("10.0.0.12"))
        #expect(two < twelve)
        #expect(try #require(IPv4Address("9.255.255.255")) < (try #require(IPv4Address("10.0.0.0"))))
    }
}
