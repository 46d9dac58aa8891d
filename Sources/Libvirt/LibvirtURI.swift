/// Where a libvirt URI's daemon runs, decided in this one place (the port filter, the host
/// facts, the console logs, the QEMU process watch and keepalive all ask).
public enum LibvirtURI {
    /// libvirt's mock driver (`test:///default`): in-process, no daemon, no guests.
    public static func isMock(_ uri: String) -> Bool { uri.hasPrefix("test:") }

    /// The daemon of this machine: no host part (`qemu:///system`, `qemu+unix:///system`) or
    /// `localhost`, with or without a user or port.
    public static func isThisMachine(_ uri: String) -> Bool {
        guard !isMock(uri), let host = host(of: uri) else { return false }
        return host.isEmpty || host == "localhost" || host == "::1"
    }

    /// A daemon on another machine: `qemu+ssh://root@host2/system`, `qemu+tcp://10.0.0.2/system`
    /// (even when that is a network namespace of this machine, as in the lab).
    public static func isAnotherMachine(_ uri: String) -> Bool {
        !isMock(uri) && host(of: uri) != nil && !isThisMachine(uri)
    }

    /// This machine's QEMU driver: its guests' processes are visible in /proc here.
    public static func isThisMachinesQEMU(_ uri: String) -> Bool { uri.hasPrefix("qemu") && isThisMachine(uri) }

    /// The host part of the URI's authority, without user or port ("" for none); nil if it is no URI.
    private static func host(of uri: String) -> Substring? {
        guard let range = uri.range(of: "://") else { return nil }
        var authority = uri[range.upperBound...].prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") { // [fd00::2]:16509
            return authority[authority.index(after: authority.startIndex)..<close]
        }
        if let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
        return authority
    }
}
