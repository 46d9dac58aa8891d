import Foundation
import Libvirt
import LibvirtXML
import SystemSupport

/// Performs reconciler actions on libvirt hosts; each one reads what it replaces first, so it
/// can say how to undo itself.
public struct LibvirtPerformer: ActionPerformer {
    public let platform: String
    public let connections: [String: Connection]
    /// How long a running guest gets to release a device unplugged from it.
    public var releaseDeadline: Duration

    public init(platform: String, connections: [String: Connection], releaseDeadline: Duration = .seconds(10)) {
        self.platform = platform; self.connections = connections; self.releaseDeadline = releaseDeadline
    }

    public func perform(_ action: Action, on host: String) throws -> Undo {
        guard let conn = connections[host] else { throw PlatformError(.unavailable, "host '\(host)'", "no connection to it") }
        switch action {
        case .defineNetwork, .startNetwork, .addDHCPHost, .removeDHCPHost, .removeNetwork, .recreateNetwork:
            return try NetworkActions(conn: conn).perform(action)
        case .definePool, .startPool, .claimPool, .createVolume, .deleteVolume, .removePool:
            return try StorageActions(conn: conn, platform: platform, host: host).perform(action)
        case .defineDomain, .attachDevice, .detachDevice, .startDomain, .stopDomain, .removeDomain:
            return try DomainActions(conn: conn, releaseDeadline: releaseDeadline).perform(action)
        }
    }
}

private struct NetworkActions {
    let conn: Connection

    func perform(_ action: Action) throws -> Undo {
        switch action {
        case .defineNetwork(let spec):
            let before = try conn.networkIfPresent(named: spec.name).map(ActualState.persistentXML)
            _ = try conn.defineNetwork(xml: spec.render())
            if let before { return Undo("restore the definition of network \(spec.name)") { _ = try conn.defineNetwork(xml: before) } }
            return Undo("undefine network \(spec.name)") { try remove(spec.name) }
        case .startNetwork(let name):
            let net = try conn.network(named: name)
            guard try !net.isActive() else { return .nothing }
            try net.start()
            return Undo("stop network \(name)") { try conn.network(named: name).destroy() }
        case .addDHCPHost(let name, let dhcp):
            let live = try conn.network(named: name).isActive()
            try conn.network(named: name).updateDHCPHost(.add, hostXML: dhcp.render(), live: live, config: true)
            return Undo("remove DHCP host \(dhcp.mac) from network \(name)") {
                try conn.network(named: name).updateDHCPHost(.delete, hostXML: dhcp.render(), live: live, config: true)
            }
        case .removeDHCPHost(let name, let dhcp):
            let live = try conn.network(named: name).isActive()
            try conn.network(named: name).updateDHCPHost(.delete, hostXML: dhcp.render(), live: live, config: true)
            return Undo("add DHCP host \(dhcp.mac) to network \(name) again") {
                try conn.network(named: name).updateDHCPHost(.add, hostXML: dhcp.render(), live: live, config: true)
            }
        case .removeNetwork(let name):
            guard let saved = try save(name) else { return .nothing }
            try remove(name)
            return Undo("define network \(name) again") { try restore(saved) }
        case .recreateNetwork(let spec):
            let saved = try save(spec.name)
            try remove(spec.name)
            do { try conn.defineNetwork(xml: spec.render()).start() } catch {
                try? remove(spec.name)
                if let saved { try? restore(saved) }
                throw error
            }
            return Undo("put network \(spec.name) back as it was") {
                try remove(spec.name)
                if let saved { try restore(saved) }
            }
        default:
            preconditionFailure("not a network action: \(action)")
        }
    }

    private func save(_ name: String) throws -> (xml: String, active: Bool)? {
        guard let net = try conn.networkIfPresent(named: name) else { return nil }
        return (try ActualState.persistentXML(net), try net.isActive())
    }

    private func restore(_ saved: (xml: String, active: Bool)) throws {
        let net = try conn.defineNetwork(xml: saved.xml)
        if saved.active { try net.start() }
    }

    /// Stops and undefines the network; started again if the undefine fails.
    private func remove(_ name: String) throws {
        guard let net = try conn.networkIfPresent(named: name) else { return }
        let active = try net.isActive()
        if active { try net.destroy() }
        do { try net.undefine() } catch {
            if active { try? net.start() }
            throw error
        }
    }
}

private struct StorageActions {
    let conn: Connection
    let platform: String
    let host: String

    func perform(_ action: Action) throws -> Undo {
        switch action {
        case .definePool(let spec, let build):
            let pool = try conn.defineStoragePool(xml: spec.render())
            if build {
                do { try pool.build() } catch { try? pool.undefine(); throw error }
            }
            return Undo("undefine storage pool \(spec.name)" + (build ? " and remove the directory it made" : "")) {
                let pool = try conn.storagePool(named: spec.name)
                if build { try pool.delete() }
                try pool.undefine()
            }
        case .startPool(let name):
            let pool = try conn.storagePool(named: name)
            guard try !pool.isActive() else { return .nothing }
            try pool.start()
            return Undo("stop storage pool \(name)") { try conn.storagePool(named: name).destroy() }
        case .claimPool(let name, let adopting):
            return try claim(name, adopting: adopting)
        case .createVolume(let poolName, let spec):
            let pool = try conn.storagePool(named: poolName)
            guard try pool.volumeIfPresent(named: spec.name) == nil else { return .nothing }
            _ = try pool.createVolume(xml: spec.render())
            return Undo("delete volume \(spec.name) of storage pool \(poolName)") {
                try conn.storagePool(named: poolName).volume(named: spec.name).delete()
            }
        case .deleteVolume(let poolName, let name):
            guard let volume = try conn.storagePool(named: poolName).volumeIfPresent(named: name) else { return .nothing }
            try volume.delete()
            return .irreversible("volume \(name) of storage pool \(poolName) on \(host) was deleted")
        case .removePool(let name):
            guard let pool = try conn.storagePoolIfPresent(named: name) else { return .nothing }
            let xml = try pool.xml()
            let active = try pool.isActive()
            if active { try pool.destroy() }
            // rmdir: a directory still holding files the platform did not create stays.
            let removedDirectory = (try? pool.delete()) != nil
            do { try pool.undefine() } catch {
                if removedDirectory { try? pool.build() }
                if active { try? pool.start() }
                throw error
            }
            return Undo("define storage pool \(name) again") {
                let pool = try conn.defineStoragePool(xml: xml)
                if removedDirectory { try pool.build() }
                if active { try pool.start() }
            }
        default:
            preconditionFailure("not a storage action: \(action)")
        }
    }

    /// Checked again here, at apply: the directory may have changed since the plan, and an
    /// inactive pool's files are only known once it runs.
    private func claim(_ name: String, adopting: [String]) throws -> Undo {
        let pool = try conn.storagePool(named: name)
        try pool.refresh()
        let files = try pool.volumes().map(\.name).filter { !adopting.contains($0) }.sorted()
        let marker = PoolOwnership.marker(platform: platform)
        guard !files.contains(marker) else { return .nothing }
        let path = (try? ActualState.targetPath(ofPool: try pool.xml())) ?? "?"
        if let refusal = PoolOwnership.refusal(pool: name, path: path, files: files, platform: platform) {
            throw PlatformError(.conflict, "host '\(host)'", refusal)
        }
        _ = try pool.createVolume(xml: VolumeSpec(name: marker, capacityBytes: 0).render())
        return Undo("delete the platform's marker in storage pool \(name)") {
            try conn.storagePool(named: name).volume(named: marker).delete()
        }
    }
}

private struct DomainActions {
    let conn: Connection
    let releaseDeadline: Duration

    func perform(_ action: Action) throws -> Undo {
        switch action {
        case .defineDomain(let spec):
            // The console file is written by this machine's QEMU only; others make their own.
            if let log = spec.serialLog, LibvirtURI.isThisMachine(conn.uri) {
                try FileManager.default.createDirectory(atPath: (log as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
            }
            let before = try conn.domainIfPresent(named: spec.name).map { try $0.xml(inactive: true) }
            _ = try conn.defineDomain(xml: spec.render())
            if let before { return Undo("restore the definition of domain \(spec.name)") { _ = try conn.defineDomain(xml: before) } }
            return Undo("undefine domain \(spec.name)") { try conn.domain(named: spec.name).undefine() }
        case .attachDevice(let name, let xml, let live):
            let flags: DeviceModification = live ? [.live, .config] : .config
            try conn.domain(named: name).attachDevice(xml: xml, flags)
            return Undo("detach the device attached to domain \(name)") { try detach(name, xml, flags) }
        case .detachDevice(let name, let xml, let live):
            let flags: DeviceModification = live ? [.live, .config] : .config
            try detach(name, xml, flags)
            return Undo("attach the device detached from domain \(name) again") {
                try conn.domain(named: name).attachDevice(xml: xml, flags)
            }
        case .startDomain(let name):
            let dom = try conn.domain(named: name)
            guard try !dom.isActive() else { return .nothing }
            try dom.start()
            return Undo("stop domain \(name)") { try conn.domain(named: name).destroy() }
        case .stopDomain(let name):
            let dom = try conn.domain(named: name)
            guard try dom.isActive() else { return .nothing }
            try dom.destroy()
            return Undo("start domain \(name) again") { try conn.domain(named: name).start() }
        case .removeDomain(let name):
            guard let dom = try conn.domainIfPresent(named: name) else { return .nothing }
            let xml = try dom.xml(inactive: true)
            let active = try dom.isActive()
            if active { try dom.destroy() }
            do { try dom.undefine() } catch {
                if active { try? dom.start() }
                throw error
            }
            return Undo("define domain \(name) again") {
                let dom = try conn.defineDomain(xml: xml)
                if active { try dom.start() }
            }
        default:
            preconditionFailure("not a domain action: \(action)")
        }
    }

    /// Detaches and, from a running guest, waits until the guest has released the device. When it
    /// does not in time the definition keeps the device and the action fails (rolled back).
    private func detach(_ name: String, _ xml: String, _ flags: DeviceModification) throws {
        let dom = try conn.domain(named: name)
        try dom.detachDevice(xml: xml, flags)
        guard flags.contains(.live), let device = DeviceRelease.device(in: xml) else { return }
        let gone = try DeviceRelease.waitUntilGone(deadline: releaseDeadline) {
            guard try dom.isActive() else { return false }
            return device.isIn(try DomainFacts(xml: try dom.xml()))
        }
        guard !gone else { return }
        try? dom.attachDevice(xml: xml, .config)
        throw PlatformError(.unavailable, "domain \(name)", "did not release \(device) within \(releaseDeadline) of the unplug request; "
            + "it is not given to another processor")
    }
}
