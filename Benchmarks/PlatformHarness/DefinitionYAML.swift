import PlatformModel

/// The platform definition of a bench or an end-to-end test, in YAML as an administrator writes it
/// (it goes through the product's loader and validator). What they all share is written here once:
/// the platform's name, its one host `local`, and a pool of one-vCPU processors; the rest of each
/// definition (VLANs, storage, personalities, policies) is its own.
public struct DefinitionYAML: Sendable {
    public var platform: String
    public var processors: [String]
    /// The libvirt URI of host `local`.
    public var uri: String
    /// nil: the key is left out (libvirt's test driver needs none).
    public var domainType: DomainTypeChoice?
    /// 160 MiB: the processor image's guest boots in it under TCG with room for the agent.
    public var memoryMiB: Int
    /// Directory of the processor image; nil: the product's default.
    public var image: String?

    public init(platform: String, processors: [String], uri: String = "qemu:///system",
                domainType: DomainTypeChoice? = .auto, memoryMiB: Int = 160, image: String? = nil) {
        self.platform = platform; self.processors = processors; self.uri = uri
        self.domainType = domainType; self.memoryMiB = memoryMiB; self.image = image
    }

    /// The shared part, then `sections`: top-level keys of the definition, as written.
    public func yaml(_ sections: String) -> String {
        var lines = [
            "platform: \(platform)",
            "hosts: [{ name: local, uri: \"\(uri)\"\(domainType.map { ", domainType: \($0)" } ?? "") }]",
            "processors:",
            "  vcpus: 1",
            "  memoryMiB: \(memoryMiB)",
        ]
        if let image { lines.append("  image: \(image)") }
        lines.append("  members:")
        lines += processors.map { "    - { name: \($0), host: local }" }
        return (lines + [sections]).joined(separator: "\n")
    }

    /// VLANs front (802.1Q 100, 10.`net`.1.0/24) and back (200, 10.`net`.2.0/24): the two networks
    /// most benches and tests give their personalities.
    public static func frontAndBack(net: Int) -> String {
        """
        vlans:
          - { name: front, id: 100, subnet: 10.\(net).1.0/24 }
          - { name: back, id: 200, subnet: 10.\(net).2.0/24 }
        """
    }

    /// Storage pool `<platform>-data` on host local, in the platform's directory, with `volumes`
    /// (a YAML list).
    public var poolName: String { "\(platform)-data" }
    public func storage(volumes: String) -> String {
        """
        storage:
          pools:
            - name: \(poolName)
              host: local
              path: /var/lib/virtualplatform/\(platform)/pool
              volumes: \(volumes)
        """
    }
}
