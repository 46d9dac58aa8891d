import Foundation
import LibvirtXML
import SystemSupport

/// A device unplugged from a running guest is gone only once the guest has let it go (ACPI
/// unplug): until then it must not be given to another processor. libvirt's detach returns
/// before that when the guest is slow.
enum DeviceRelease {
    enum Device: Equatable, CustomStringConvertible {
        case nic(mac: String)
        case disk(target: String)
        var description: String {
            switch self {
            case .nic(let mac): return "interface \(mac)"
            case .disk(let target): return "disk \(target)"
            }
        }
        func isIn(_ facts: DomainFacts) -> Bool {
            switch self {
            case .nic(let mac): return facts.nics.contains { $0.mac == mac }
            case .disk(let target): return facts.disks.contains { $0.target == target }
            }
        }
    }

    /// The device an `<interface>` or `<disk>` element names (by MAC, by target).
    static func device(in xml: String) -> Device? {
        guard let root = try? XMLTree.parse(xml) else { return nil }
        func attribute(_ child: String, _ name: String) -> String? { root.child(child)?[attribute: name] }
        switch root.name {
        case "interface": return attribute("mac", "address").map { .nic(mac: $0.lowercased()) }
        case "disk": return attribute("target", "dev").map { .disk(target: $0) }
        default: return nil
        }
    }

    /// Polls `stillThere` until it says no or `deadline` passes; true when the device is gone.
    static func waitUntilGone(deadline: Duration, every interval: Duration = .milliseconds(20),
                              stillThere: () throws -> Bool) rethrows -> Bool {
        let end = ContinuousClock.now + deadline
        while try stillThere() {
            guard ContinuousClock.now < end else { return false }
            Thread.sleep(forTimeInterval: interval.seconds)
        }
        return true
    }
}
