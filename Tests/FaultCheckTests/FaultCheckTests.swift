import FaultCheck
import Testing

/// The fault matrix's checker, fed scripted samples as its sampler would read them.
struct CarrierCheckerTests {
    let web = DomainReading.running(macs: ["02:56:50:00:00:01", "02:56:50:00:00:02"], volumes: ["fm-data/web-data"])
    let db = DomainReading.running(macs: ["02:56:50:00:00:03"], volumes: ["fm-data/db-data"])

    @Test func aMoveThatHandsOverCleanlyShowsNoDoubleCarrier() {
        var checker = CarrierChecker()
        // web on p1; p1 killed (not running); web on p3.
        checker.add(CarrierSample(at: 0, domains: ["p1": web, "p2": db, "p3": .running(macs: [], volumes: [])]))
        checker.add(CarrierSample(at: 0.05, domains: ["p1": .notRunning, "p2": db, "p3": .running(macs: [], volumes: [])]))
        checker.add(CarrierSample(at: 0.10, domains: ["p1": .notRunning, "p2": db, "p3": web]))
        #expect(checker.samples == 3)
        #expect(checker.uncheckedSamples == 0)
        #expect(checker.doubles.isEmpty)
    }

    @Test func aMACOnTwoRunningDomainsIsReported() {
        var checker = CarrierChecker()
        // The old carrier still runs (not fenced) when the new one gets web's front MAC.
        let found = checker.add(CarrierSample(at: 1.5, domains: [
            "p1": web, "p2": db, "p3": .running(macs: ["02:56:50:00:00:01"], volumes: []),
        ]))
        #expect(found == [DoubleCarrier(kind: .mac, value: "02:56:50:00:00:01", domains: ["p3", "p1"])])
        checker.add(CarrierSample(at: 1.55, domains: ["p1": web, "p2": db, "p3": .running(macs: ["02:56:50:00:00:01"], volumes: [])]))
        let seen = checker.doubles[DoubleCarrier(kind: .mac, value: "02:56:50:00:00:01", domains: ["p1", "p3"])]
        #expect(seen == CarrierChecker.Seen(firstAt: 1.5, samples: 2))
        #expect(checker.doubles.count == 1)
        #expect("\(found[0])" == "MAC 02:56:50:00:00:01 on p1 and p3")
    }

    @Test func aSamplerThatNeverSawTheWatchedDevicesIsCaught() {
        var checker = CarrierChecker()
        checker.add(CarrierSample(at: 0, domains: ["p1": .notRunning, "p2": db]))
        // web's MACs and volume were never seen running: no double among them proves nothing.
        #expect(checker.neverSeen(macs: ["02:56:50:00:00:01", "02:56:50:00:00:03"], volumes: ["fm-data/web-data"])
                == ["02:56:50:00:00:01", "fm-data/web-data"])
        checker.add(CarrierSample(at: 0.05, domains: ["p1": web, "p2": db]))
        #expect(checker.neverSeen(macs: ["02:56:50:00:00:01", "02:56:50:00:00:03"], volumes: ["fm-data/web-data"]).isEmpty)
    }

    @Test func macsAreComparedWhateverTheirCase() {
        let sample = CarrierSample(at: 0, domains: [
            "p1": .running(macs: ["02:AB:00:00:00:01"], volumes: []), "p2": .running(macs: ["02:ab:00:00:00:01"], volumes: []),
        ])
        #expect(CarrierChecker.doubles(in: sample).map(\.value) == ["02:ab:00:00:00:01"])
    }

    @Test func aVolumeOpenInTwoRunningDomainsIsReported() {
        let sample = CarrierSample(at: 2, domains: ["p1": web, "p4": .running(macs: [], volumes: ["fm-data/web-data"])])
        #expect(CarrierChecker.doubles(in: sample) == [DoubleCarrier(kind: .volume, value: "fm-data/web-data", domains: ["p1", "p4"])])
    }

    @Test func aStoppedDomainHoldsNothing() {
        // A domain whose QEMU is gone no longer carries what its definition still names.
        let sample = CarrierSample(at: 0, domains: ["p1": .notRunning, "p3": web])
        #expect(CarrierChecker.doubles(in: sample).isEmpty)
    }

    @Test func anUnreadableSampleIsUncheckedNotFine() {
        var checker = CarrierChecker()
        checker.add(CarrierSample(at: 0, domains: ["p1": .unreadable("status file of p1: No such file"), "p2": db, "p3": web]))
        #expect(checker.samples == 1)
        #expect(checker.uncheckedSamples == 1)
        #expect(checker.unreadable == ["status file of p1: No such file": 1])
        // The domains that were read are still checked.
        let found = checker.add(CarrierSample(at: 0.05, domains: ["p1": .unreadable("x"), "p2": web, "p3": web]))
        #expect(found.count == 3, "two MACs and a volume on p2 and p3")
        #expect(checker.uncheckedSamples == 2)
    }
}

struct RunChecksTests {
    @Test func aMarkerIsKeptOnlyWhenItReadsBackExactly() {
        let written = ["web": "fm run 1 web", "db": "fm run 1 db", "app": "fm run 1 app", "log": "fm run 1 log"]
        let lost = MarkerCheck.lost(written: written, read: [
            "web": .found("fm run 1 web"), "db": .found("fm run 0 db"), "app": .found(nil), "log": .unreadable("HTTP 409"),
        ])
        #expect(lost == ["app: no marker on the disk", "db: marker is \"fm run 0 db\", not \"fm run 1 db\"",
                         "log: marker not readable (HTTP 409)"])
        #expect(MarkerCheck.lost(written: ["web": "m"], read: [:]) == ["web: marker not read"])
        #expect(MarkerCheck.lost(written: ["web": "m"], read: ["web": .found("m")]).isEmpty)
    }

    @Test func aDeclarationOfAProcessorTheBenchDidNotFaultIsFalse() {
        let declared = [Declaration(processor: "p1", personality: "web", planned: false),
                        Declaration(processor: "p3", personality: "web", planned: false),
                        Declaration(processor: "p2", personality: "db", planned: true)]
        // p1 was killed; its replacement p3 declared in turn is a cascade; p2's planned move is no declaration.
        #expect(DeclarationCheck.falseDeclarations(declared, mayDeclare: ["p1"]).map(\.processor) == ["p3"])
        // One adapter down may not bring down even the processor it was done to.
        #expect(DeclarationCheck.falseDeclarations(declared, mayDeclare: []).map(\.processor) == ["p1", "p3"])
    }

    @Test func theLongestSilenceCountsTheEdgesOfTheWindow() {
        let probes = [Probe(at: 0.2, answered: true), Probe(at: 0.4, answered: false), Probe(at: 0.6, answered: false),
                      Probe(at: 1.5, answered: true), Probe(at: 1.7, answered: true), Probe(at: 9, answered: true)]
        #expect(abs(ServiceWatch.longestSilence(probes, from: 0, to: 2) - 1.3) < 1e-9)
        #expect(abs(ServiceWatch.longestSilence(probes, from: 0, to: 4) - 2.3) < 1e-9, "silent from the last answer to the end")
        #expect(ServiceWatch.longestSilence([Probe(at: 1, answered: false)], from: 0, to: 3) == 3, "nothing answered")
    }

    @Test func aRunSurvivesOnlyWhenEveryCheckWasMadeAndPassed() {
        let clean = RunVerdict(doubleCarriers: [], lostMarkers: [], falseDeclarations: [], uncheckedSamples: 0, samples: 40, problems: [])
        #expect(clean.survived)
        var v = clean; v.uncheckedSamples = 1
        #expect(!v.survived, "an unchecked sample is not proof")
        v = clean; v.samples = 0
        #expect(!v.survived, "no sample, no proof")
        v = clean; v.doubleCarriers = ["MAC x on p1 and p3"]
        #expect(!v.survived)
        v = clean; v.lostMarkers = ["web: no marker on the disk"]
        #expect(!v.survived)
        v = clean; v.falseDeclarations = ["p3"]
        #expect(!v.survived)
        v = clean; v.problems = ["web was not moved within 60 s"]
        #expect(!v.survived)
    }
}
