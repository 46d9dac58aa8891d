import PlatformModel

extension Renderer {
    /// Each processor's role and personality, in definition order: what `render` gives the
    /// processors, without building their devices (status needs no more than this).
    public static func roles(_ p: PlatformDefinition, bindings: [String: String], failed: Set<String>)
        -> [(processor: ProcessorDef, personality: PersonalityDef?, role: DesiredState.Processor.Role)] {
        let personalityOf = Dictionary(bindings.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        let personalities = Dictionary(p.personalities.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var hotLeft = p.standbyMode == .hot ? (p.standby?.count ?? Int.max) : 0
        return p.processors.members.map { proc in
            let isFailed = failed.contains(proc.name)
            let person = isFailed ? nil : personalityOf[proc.name].flatMap { personalities[$0] }
            let role: DesiredState.Processor.Role
            if isFailed { role = .failed }
            else if person != nil { role = .active }
            else if hotLeft > 0 { role = .hotStandby; hotLeft -= 1 }
            else { role = .coldStandby }
            return (proc, person, role)
        }
    }
}
