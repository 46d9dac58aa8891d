/// A NIC of a domain: a virtio interface on a libvirt network with a given MAC.
public struct InterfaceSpec: Sendable, Equatable {
    public var network: String
    public var mac: String
    public var linkUp: Bool
    /// The host's tap device for the NIC (`<target dev>`); nil lets libvirt name it (vnetN).
    /// Personality NICs have a fixed name, which the host's port-security rules match on.
    public var tap: String?
    public init(network: String, mac: String, linkUp: Bool = true, tap: String? = nil) {
        self.network = network; self.mac = mac; self.linkUp = linkUp; self.tap = tap
    }

    public var tree: XMLTree {
        XMLTree("interface", ["type": "network"]) {
            XMLTree("mac", ["address": mac])
            XMLTree("source", ["network": network])
            XMLTree("model", ["type": "virtio"])
            if let tap { XMLTree("target", ["dev": tap]) }
            if !linkUp { XMLTree("link", ["state": "down"]) }
        }
    }

    /// `<interface>` XML for hot-plug, detach or link updates.
    public func render() -> String { tree.render() }
}

/// A disk of a domain: a file or a pool volume at a guest target such as `vdb` or `sda`.
public struct DiskSpec: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case file(path: String)
        case volume(pool: String, volume: String)
    }
    public enum Bus: String, Sendable { case virtio, scsi }
    public var source: Source
    public var target: String
    public var bus: Bus
    public var format: String
    public var readOnly: Bool

    public init(source: Source, target: String, bus: Bus = .virtio, format: String = "raw", readOnly: Bool = false) {
        self.source = source; self.target = target; self.bus = bus; self.format = format; self.readOnly = readOnly
    }

    public var tree: XMLTree {
        let type: String
        let sourceTree: XMLTree
        switch source {
        case .file(let path):
            type = "file"; sourceTree = XMLTree("source", ["file": path])
        case .volume(let pool, let volume):
            type = "volume"; sourceTree = XMLTree("source", ["pool": pool, "volume": volume])
        }
        return XMLTree("disk", ["type": type, "device": "disk"]) {
            // cache=none + io=native would need O_DIRECT support on the pool's filesystem;
            // writethrough still guarantees that a completed guest write is on the host disk.
            XMLTree("driver", ["name": "qemu", "type": format, "cache": "writethrough"])
            sourceTree
            XMLTree("target", ["dev": target, "bus": bus.rawValue])
            // The guest names disks in discovery order; the serial lets it see the target.
            XMLTree("serial", text: target)
            if readOnly { XMLTree("readonly") }
        }
    }

    public func render() -> String { tree.render() }
}

/// A namespaced metadata element stored in the domain (`<metadata><vp:… xmlns:vp='…'>`).
public struct MetadataSpec: Sendable, Equatable {
    public var namespace: String
    public var prefix: String
    /// The element, without namespace prefix in its name; it is rendered as `prefix:name`.
    public var element: XMLTree
    public init(namespace: String, prefix: String, element: XMLTree) {
        self.namespace = namespace; self.prefix = prefix; self.element = element
    }
}

/// A processor: a direct-kernel-boot guest with virtio NICs and disks.
public struct DomainSpec: Sendable, Equatable {
    public var name: String
    public var uuid: String?
    /// libvirt domain type: "qemu" (TCG) or "kvm".
    public var type: String
    public var vcpus: Int
    public var memoryMiB: Int
    public var kernel: String
    public var initrd: String?
    public var cmdline: String
    public var interfaces: [InterfaceSpec]
    public var disks: [DiskSpec]
    /// Host file receiving the serial console, for boot diagnosis.
    public var serialLog: String?
    public var metadata: MetadataSpec?
    /// What libvirt does when the guest powers itself off / reboots / crashes.
    public var onPoweroff = "destroy", onReboot = "restart", onCrash = "destroy"

    public init(name: String, uuid: String? = nil, type: String, vcpus: Int = 1, memoryMiB: Int,
                kernel: String, initrd: String?, cmdline: String, interfaces: [InterfaceSpec] = [],
                disks: [DiskSpec] = [], serialLog: String? = nil, metadata: MetadataSpec? = nil) {
        self.name = name; self.uuid = uuid; self.type = type; self.vcpus = vcpus; self.memoryMiB = memoryMiB
        self.kernel = kernel; self.initrd = initrd; self.cmdline = cmdline; self.interfaces = interfaces
        self.disks = disks; self.serialLog = serialLog; self.metadata = metadata
    }

    public var tree: XMLTree {
        XMLTree("domain", ["type": type]) {
            XMLTree("name", text: name)
            if let uuid { XMLTree("uuid", text: uuid) }
            if let metadata {
                XMLTree("metadata") {
                    Self.prefixed(metadata.element, prefix: metadata.prefix)
                        .attribute("xmlns:\(metadata.prefix)", metadata.namespace)
                }
            }
            XMLTree("memory", ["unit": "MiB"], text: String(memoryMiB))
            XMLTree("vcpu", text: String(vcpus))
            XMLTree("os") {
                // i440fx: PCI hot-plug through ACPI works without pre-allocated root ports.
                XMLTree("type", ["arch": "x86_64", "machine": "pc"], text: "hvm")
                XMLTree("kernel", text: kernel)
                if let initrd { XMLTree("initrd", text: initrd) }
                XMLTree("cmdline", text: cmdline)
            }
            // ACPI is what lets the guest see hot-plugged PCI devices.
            XMLTree("features") { XMLTree("acpi") }
            XMLTree("on_poweroff", text: onPoweroff)
            XMLTree("on_reboot", text: onReboot)
            XMLTree("on_crash", text: onCrash)
            XMLTree("devices") {
                disks.map(\.tree)
                interfaces.map(\.tree)
                if let serialLog {
                    XMLTree("serial", ["type": "file"]) {
                        XMLTree("source", ["path": serialLog])
                        XMLTree("target", ["port": "0"])
                    }
                }
                XMLTree("memballoon", ["model": "none"])
            }
        }
    }

    public func render() -> String { tree.render() }

    private static func prefixed(_ tree: XMLTree, prefix: String) -> XMLTree {
        var copy = tree
        copy.name = "\(prefix):\(tree.name)"
        copy.children = tree.children.map { prefixed($0, prefix: prefix) }
        return copy
    }
}
