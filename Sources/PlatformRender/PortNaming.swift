import PlatformModel

extension Naming {
    /// The tap device of a personality NIC: "vp" and the MAC's 12 hex digits (14 characters, within
    /// IFNAMSIZ, and not a prefix libvirt keeps for names it makes up). One MAC lives on one running
    /// processor, so the name is unique on its host, and it moves with the personality.
    public static func tap(mac: String) -> String {
        "vp" + mac.lowercased().filter { $0 != ":" }
    }
}
