import SystemSupport
import Testing

/// An error reads as a sentence about its object; its kind is what vpctl and the API act on.
@Suite struct PlatformErrorTests {
    @Test func theDescriptionNamesTheObjectThenTheFieldThenTheCause() {
        #expect(PlatformError(.notFound, "processor 'p3'", "not in platform demo").description == "processor 'p3': not in platform demo")
        #expect(PlatformError(.invalidInput, "service 'web'", field: "members", "they share no VLAN").description
                == "service 'web', field 'members': they share no VLAN")
        #expect(PlatformError(.internal, nil, "it broke").description == "it broke")
    }

    @Test func anErrorWithoutAKindIsInternal() {
        struct Plain: Error {}
        #expect(ErrorKind(of: Plain()) == .internal)
        #expect(ErrorKind(of: PlatformError(.conflict, "x", "y")) == .conflict)
    }

    @Test func kindsAreNamedAsTheAPINamesThem() {
        #expect(ErrorKind.allCases.map(\.rawValue) == ["invalid-input", "not-found", "conflict", "unavailable", "internal"])
    }
}
