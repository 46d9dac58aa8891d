import ServiceControl
import Testing

/// keepalived/HAProxy hysteresis: `fall` failures in a row take a member down, `rise` successes
/// in a row bring it back; a result against the current state that is not repeated is forgotten.
struct RiseFallTests {
    /// Feeds `results` and returns, after each, whether the state changed and the state.
    func run(_ machine: inout RiseFall, _ results: [Bool]) -> [String] {
        results.map { r in
            let changed = machine.record(r)
            return "\(changed ? "changed" : "kept"):\(machine.up ? "up" : "down")"
        }
    }

    @Test func fallFailuresInARowTakeItDownAndRiseSuccessesBringItBack() {
        var machine = RiseFall(rise: 2, fall: 3, initially: true)
        #expect(run(&machine, [false, false, false]) == ["kept:up", "kept:up", "changed:down"])
        #expect(run(&machine, [true, true]) == ["kept:down", "changed:up"])
    }

    @Test func aResultThatIsNotRepeatedIsForgotten() {
        var machine = RiseFall(rise: 2, fall: 2, initially: true)
        let flapping = run(&machine, Array(repeating: [false, true], count: 10).flatMap { $0 })
        #expect(flapping.allSatisfy { $0 == "kept:up" }, "flapping every other check never reaches fall")
        #expect(run(&machine, [false, false]).last == "changed:down")
        let back = run(&machine, Array(repeating: [true, false], count: 10).flatMap { $0 })
        #expect(back.allSatisfy { $0 == "kept:down" }, "nor rise")
    }

    @Test func unknownAtStartTheFirstResultDecides() {
        var failing = RiseFall(rise: 3, fall: 3, initially: nil)
        #expect(failing.up, "up until a check says otherwise (HAProxy's default init-state)")
        #expect(run(&failing, [false]) == ["changed:down"], "one failure is enough when nothing is known yet")
        var passing = RiseFall(rise: 3, fall: 3, initially: nil)
        #expect(run(&passing, [true, false, false, false]) == ["kept:up", "kept:up", "kept:up", "changed:down"],
                "once confirmed, fall counts")
    }

    @Test func downAtStartNeedsRiseSuccesses() {
        var machine = RiseFall(rise: 2, fall: 1, initially: false)
        #expect(!machine.up)
        #expect(run(&machine, [true, true, false]) == ["kept:down", "changed:up", "changed:down"], "fall 1: one failure")
    }
}
