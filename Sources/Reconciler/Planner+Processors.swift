import LibvirtXML
import PlatformRender

extension Planner {
    /// A wanted processor: created when missing, redefined when its hardware differs, else its
    /// devices hot-plugged; then started or stopped as its role wants. nil when it is as wanted.
    static func planProcessor(_ proc: DesiredState.Processor, host: String, have: ActualState.Domain?) -> Change? {
        let spec = proc.spec
        let want = DomainFacts(spec: spec)
        guard let have else {
            let role = proc.personality.map { "carries \($0)" } ?? proc.role.rawValue
            var actions: [Action] = [.defineDomain(spec)]
            if proc.running { actions.append(.startDomain(spec.name)) }
            return Change(verb: .create, host: host, object: "processor \(spec.name)",
                          reasons: ["\(role), \(spec.interfaces.count) NICs, \(spec.disks.count) disks"], actions: actions, phase: 1)
        }
        var reasons: [String] = []
        var actions: [Action] = []
        if have.definition.hardware != want.hardware {
            reasons.append(describeHardware(have.definition, want))
            actions.append(.defineDomain(spec))
            if have.active { reasons.append("restart needed"); actions += [.stopDomain(spec.name)] }
        } else {
            planDevices(spec, want: want, have: have, reasons: &reasons, actions: &actions)
        }
        planPower(proc, have: have, reasons: &reasons, actions: &actions)
        guard !actions.isEmpty else { return nil }
        return Change(verb: .update, host: host, object: "processor \(spec.name)", reasons: reasons, actions: actions, phase: 1)
    }

    /// NICs and disks hot-plugged into a running processor (and its definition): the unwanted
    /// detached, the missing attached.
    private static func planDevices(_ spec: DomainSpec, want: DomainFacts, have: ActualState.Domain,
                                    reasons: inout [String], actions: inout [Action]) {
        let live = have.active
        for nic in have.definition.nics.subtracting(want.nics).sorted() {
            reasons.append("interface \(nic.mac) on \(nic.network) is not wanted")
            actions.append(.detachDevice(domain: spec.name, xml: InterfaceSpec(network: nic.network, mac: nic.mac).render(), live: live))
        }
        for nic in spec.interfaces where !have.definition.nics.contains(.init(mac: nic.mac.lowercased(), network: nic.network)) {
            reasons.append("interface \(nic.mac) on \(nic.network) is missing")
            actions.append(.attachDevice(domain: spec.name, xml: nic.render(), live: live))
        }
        for disk in have.definition.disks.subtracting(want.disks).sorted() {
            reasons.append("disk \(disk.target) (\(disk.source), \(disk.format)) is not wanted")
            let parts = disk.source.split(separator: "/", maxSplits: 1).map(String.init)
            let source: DiskSpec.Source = parts.count == 2 && !disk.source.hasPrefix("/")
                ? .volume(pool: parts[0], volume: parts[1]) : .file(path: disk.source)
            let xml = DiskSpec(source: source, target: disk.target, format: disk.format).render()
            actions.append(.detachDevice(domain: spec.name, xml: xml, live: live))
        }
        for disk in spec.disks {
            let facts = DomainFacts(spec: DomainSpec(name: "", type: "", memoryMiB: 0, kernel: "", initrd: nil, cmdline: "", disks: [disk])).disks.first!
            if !have.definition.disks.contains(facts) {
                reasons.append("disk \(disk.target) (\(facts.source), \(facts.format)) is missing")
                actions.append(.attachDevice(domain: spec.name, xml: disk.render(), live: live))
            }
        }
    }

    /// Started when it should run and will not (a redefinition may have stopped it); stopped when
    /// it is failed or a cold standby.
    private static func planPower(_ proc: DesiredState.Processor, have: ActualState.Domain,
                                  reasons: inout [String], actions: inout [Action]) {
        let willRun = have.active && !actions.contains { if case .stopDomain = $0 { return true }; return false }
        if proc.running && !willRun {
            if !have.active { reasons.append("not running") }
            actions.append(.startDomain(proc.spec.name))
        } else if !proc.running && have.active {
            reasons.append(proc.role == .failed ? "failed: kept off until repaired" : "running but should be a cold standby")
            actions.append(.stopDomain(proc.spec.name))
        }
    }
}
