/// What the validator's rules share while checking one definition: the issues found so far, the
/// checks every rule uses, and the facts later rules read from earlier ones.
final class ValidationContext {
    let loaded: LoadedPlatform
    var p: PlatformDefinition { loaded.definition }
    private(set) var issues: [ConfigIssue] = []

    /// Host names (`checkHosts`).
    var hostNames: Set<String> = []
    /// Each valid VLAN subnet by VLAN name, and in definition order (`checkVLANs`).
    var subnets: [String: IPv4Subnet] = [:]
    var subnetsInOrder: [(vlan: String, subnet: IPv4Subnet)] = []
    /// Addresses taken so far, with the field that took each (gateways, then NICs).
    private var usedIPs: [IPv4Address: String] = [:]
    /// "pool/volume" of every defined volume (`checkStorage`).
    var volumes: Set<String> = []

    init(_ loaded: LoadedPlatform) { self.loaded = loaded }

    /// Read for every NIC: made once.
    private(set) lazy var vlanNames: Set<String> = Set(p.vlans.map(\.name))

    func issue(_ field: String, _ message: String) { issues.append(loaded.issue(field, message)) }

    func checkName(_ field: String, _ name: String, _ what: String) {
        if !Validator.isValidName(name) {
            issue(field, "\(what) name '\(name)' is not valid: use letters, digits, '-', '_' or '.', starting with a letter or digit, at most 64 characters")
        }
    }

    func checkUnique(_ names: [String], _ field: (Int) -> String, _ what: String) {
        var seen: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            if let first = seen[name] { issue(field(i), "\(what) '\(name)' is defined twice (first at \(field(first)))") }
            else { seen[name] = i }
        }
    }

    func claimIP(_ ip: IPv4Address, _ field: String) {
        if let other = usedIPs[ip] { issue(field, "address \(ip) is already used by \(other)") } else { usedIPs[ip] = field }
    }
}
