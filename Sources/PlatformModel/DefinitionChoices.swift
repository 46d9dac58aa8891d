/// A field of the definition that takes one of a few words. The YAML keeps the word as written
/// (so the validator can say, with file:line, which word is wrong); after validation the code
/// reads the field through its enum and never compares the word itself.
public protocol DefinitionChoice: RawRepresentable<String>, CaseIterable, Sendable, Hashable {}

extension DefinitionChoice {
    /// The words the field accepts, for messages: "hot, cold".
    public static var words: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Why `word` is not accepted, as the validator says it; nil when it is one of the words.
    public static func problem(with word: String) -> String? {
        Self(rawValue: word) == nil ? "'\(word)' is not one of \(words)" : nil
    }
}

/// How a host's processors run: "auto" probes for the first type that really boots.
public enum DomainTypeChoice: String, DefinitionChoice { case auto, qemu, kvm }

/// The host's virtual switch; Open vSwitch gets 802.1Q tags rendered.
public enum SwitchType: String, DefinitionChoice {
    case linuxBridge = "linux-bridge"
    case openvswitch
}

/// Whether a VLAN's members reach only each other or are routed by the host.
public enum VLANMode: String, DefinitionChoice { case isolated, routed }

/// A standby booted with no personality, or defined and off.
public enum StandbyMode: String, DefinitionChoice { case hot, cold }

/// The transport of a service IP.
public enum ServiceProtocol: String, DefinitionChoice { case tcp, udp }

/// What a service's health check asks of a member.
public enum HealthCheckType: String, DefinitionChoice { case tcp, http }
