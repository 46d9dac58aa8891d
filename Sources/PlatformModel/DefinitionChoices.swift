/// A value that is one of a few words, decoded strictly: a word that is not one of the enum's is a
/// problem naming the field, the word and the words it accepts. From a definition the loader
/// reports it with file:line beside unknown keys (see `StrictDecoder`); from any other decoder (a
/// store's rows, JSON) it is a `DecodingError` carrying the field's path and that message.
public protocol StrictWords: RawRepresentable<String>, CaseIterable, Codable {}

extension StrictWords {
    /// The words the field accepts, for messages: "hot, cold".
    public static var words: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Why `word` is not accepted.
    static func problem(with word: String) -> String { "'\(word)' is not one of \(words)" }

    public init(from decoder: any Decoder) throws {
        if let strict = decoder as? StrictDecoder {
            self = strict.decodeChoice(Self.self)
            return
        }
        let word = try decoder.singleValueContainer().decode(String.self)
        guard let choice = Self(rawValue: word) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: Self.problem(with: word)))
        }
        self = choice
    }
}

/// A field of the definition that takes one of a few words. In code it is the enum, never the
/// word; interpolated, it reads as the word of the file.
public protocol DefinitionChoice: StrictWords, Sendable, Hashable, CustomStringConvertible {}

extension DefinitionChoice {
    public var description: String { rawValue }
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

/// Where a storage pool keeps its volumes: a directory on the host.
public enum StoragePoolType: String, DefinitionChoice { case dir }

/// The format of a volume's file.
public enum VolumeFormat: String, DefinitionChoice { case raw, qcow2 }

/// A standby booted with no personality, or defined and off.
public enum StandbyMode: String, DefinitionChoice { case hot, cold }

/// The transport of a service IP.
public enum ServiceProtocol: String, DefinitionChoice { case tcp, udp }

/// What a service's health check asks of a member.
public enum HealthCheckType: String, DefinitionChoice { case tcp, http }
