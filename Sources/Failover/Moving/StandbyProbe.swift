import Foundation
import Hosts
import PlatformRender

/// Whether a spare can take a personality now: what the standby chooser is told about each one.
public protocol StandbyProbe: Sendable {
    func readiness(of processor: String, host: String) async -> StandbyChooser.Readiness
}

/// A spare has no address yet (no personality, no NIC), so no heartbeat can reach it. Its agent
/// says "ready" on the serial console once its heartbeat responder is bound and it watches for
/// new NICs and disks: a running spare counts as a hot standby only from then on. NICs
/// hot-plugged into a guest still booting can be lost, and the move would wait for answers that
/// never come. On a remote host the console cannot be read from here: a running spare counts as
/// ready, and the engine's silence bound (re-plug, then another standby) covers one that was not.
public struct LibvirtStandbyProbe: StandbyProbe {
    public let hosts: PlatformHosts
    public let platform: String
    public static let readyLine = "vp-agent: ready"
    /// The guest's init prints this first at each boot (see GuestScripts): whatever precedes its
    /// last occurrence is an earlier boot's, should libvirt append to the log rather than start afresh.
    public static let bootLine = "init: loading "

    public init(hosts: PlatformHosts, platform: String) { self.hosts = hosts; self.platform = platform }

    public func readiness(of processor: String, host name: String) async -> StandbyChooser.Readiness {
        guard let host = try? hosts.host(name), let status = try? await host.state(of: processor) else { return .unusable }
        switch status.state {
        case .shutoff: return .off
        case .running:
            guard host.isLocal else { return .running }
            let console = Renderer.consoleLog(platform: platform, processor: processor)
            let said = FileManager.default.contents(atPath: console).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return Self.saysReady(said) ? .running : .booting
        default: return .unusable
        }
    }

    /// The console's last boot got as far as the agent being ready.
    public static func saysReady(_ console: String) -> Bool {
        let thisBoot = console.range(of: bootLine, options: .backwards).map { console[$0.lowerBound...] } ?? console[...]
        return thisBoot.contains(readyLine)
    }
}
