/// Names of the libvirt objects a platform creates, derived from the definition.
public enum Naming {
    /// libvirt network of a VLAN.
    public static func network(platform: String, vlan: String) -> String { "\(platform)-\(vlan)" }

    /// Linux bridge of a VLAN: the one given, or "vp" + 4 hex digits of the platform name + the
    /// 802.1Q id, which fits the 15-character limit and differs between platforms.
    public static func bridge(platform: String, vlan: VLANDef) -> String {
        vlan.bridge ?? "vp\(stableHex(platform, digits: 4))-\(vlan.id)"
    }

    /// FNV-1a (`StableHash.fnv1a`): the same input gives the same digits on every machine and every run.
    public static func stableHash(_ text: String) -> UInt64 { StableHash.fnv1a(text) }

    static func stableHex(_ text: String, digits: Int) -> String {
        let hex = String(stableHash(text), radix: 16)
        return String(String(repeating: "0", count: max(0, 16 - hex.count)) + hex).suffix(digits).description
    }
}
