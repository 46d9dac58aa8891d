/// Names of the libvirt objects a platform creates, derived from the definition.
public enum Naming {
    /// libvirt network of a VLAN.
    public static func network(platform: String, vlan: String) -> String { "\(platform)-\(vlan)" }

    /// Linux bridge of a VLAN: the one given, or "vp" + 4 hex digits of the platform name + the
    /// 802.1Q id, which fits the 15-character limit and differs between platforms.
    public static func bridge(platform: String, vlan: VLANDef) -> String {
        vlan.bridge ?? "vp\(stableHex(platform, digits: 4))-\(vlan.id)"
    }

    /// FNV-1a: the same input gives the same digits on every machine and every run.
    public static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    static func stableHex(_ text: String, digits: Int) -> String {
        let hex = String(stableHash(text), radix: 16)
        return String(String(repeating: "0", count: max(0, 16 - hex.count)) + hex).suffix(digits).description
    }
}
