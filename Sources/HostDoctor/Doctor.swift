import Foundation
import Libvirt
import ProcessorImage
import SystemSupport

/// One line of `vpctl doctor`.
public struct DoctorCheck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case ok, warning, failed }
    public var name: String
    public var status: Status
    public var detail: String
    /// What to do about it, when it is not ok.
    public var fix: String?

    public init(_ name: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.name = name; self.status = status; self.detail = detail; self.fix = fix
    }
}

public struct DoctorReport: Codable, Sendable {
    public var uri: String
    public var checks: [DoctorCheck]
    public var domainTypes: [DomainTypeProbe.Result]
    public var chosenDomainType: String?
    /// False when something the platform needs is missing.
    public var healthy: Bool { !checks.contains { $0.status == .failed } }
}

/// Checks that a host can run the platform: libvirt reachable, a domain type that really boots,
/// port security enforceable on NICs, nftables usable, the processor image built.
public struct Doctor: Sendable {
    public let uri: String
    public let image: ProcessorImage
    public let cache: DomainTypeCache
    public let bootstrapHint = "run: sudo scripts/bootstrap-host.sh"

    public init(uri: String, image: ProcessorImage = ProcessorImage(), cache: DomainTypeCache = DomainTypeCache()) {
        self.uri = uri; self.image = image; self.cache = cache
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) async -> DoctorReport {
        var report = DoctorReport(uri: uri, checks: [], domainTypes: [], chosenDomainType: nil)

        progress("connecting to \(uri)")
        let connection: Connection
        do {
            connection = try Connection(uri: uri)
            report.checks.append(DoctorCheck("libvirt", .ok, "connected to \(uri)"))
        } catch {
            report.checks.append(DoctorCheck("libvirt", .failed, "\(error)", fix: bootstrapHint))
            report.checks.append(nftablesCheck())
            report.checks.append(imageCheck())
            return report
        }
        defer { connection.close() }

        report.checks.append(versionsCheck(connection))
        report.checks.append(PortSecurity.check(uri: uri))

        progress("probing which domain types boot a guest (up to 15 s)")
        do {
            let kernel = try probeKernel()
            let results = try await DomainTypeProbe(kernel: kernel).run(connection)
            report.domainTypes = results
            report.chosenDomainType = DomainTypeProbe.choose(results)
            if let chosen = report.chosenDomainType {
                try? cache.store(chosen, for: uri)
                let others = results.filter { $0.type != chosen }
                    .map { "\($0.type): \($0.boots ? "boots" : $0.detail)" }
                report.checks.append(DoctorCheck("domain type", .ok,
                    (["'\(chosen)' boots a guest"] + others).joined(separator: "; ")))
            } else {
                report.checks.append(DoctorCheck("domain type", .failed,
                    results.map { "\($0.type): \($0.detail)" }.joined(separator: "; "),
                    fix: "install qemu-system-x86 (\(bootstrapHint))"))
            }
        } catch {
            report.checks.append(DoctorCheck("domain type", .failed, "\(error)", fix: bootstrapHint))
        }

        report.checks.append(nftablesCheck())
        report.checks.append(imageCheck())
        if LibvirtURI.isThisMachinesQEMU(uri) {
            report.checks.append(ProcessorCPUWeight.checkLocalHost())
            report.checks.append(ProcessExitEvents.check())
        }
        return report
    }

    private func versionsCheck(_ connection: Connection) -> DoctorCheck {
        do {
            let library = try LibvirtVersion.library()
            let daemon = try connection.daemonVersion()
            let hypervisor = try connection.hypervisorVersion()
            return DoctorCheck("versions", .ok, "library \(library), daemon \(daemon), hypervisor \(hypervisor)")
        } catch {
            return DoctorCheck("versions", .failed, "\(error)", fix: bootstrapHint)
        }
    }

    private func nftablesCheck() -> DoctorCheck {
        guard let nft = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first(where: FileManager.default.isExecutableFile)
        else {
            return DoctorCheck("nftables", .failed, "nft not found", fix: "apt-get install nftables (\(bootstrapHint))")
        }
        let version = run(nft, ["--version"])
        let list = run(nft, ["list", "tables"])
        guard list.status == 0 else {
            return DoctorCheck("nftables", .failed, "nft cannot talk to the kernel: \(list.output)",
                               fix: "load the nf_tables kernel module and run as root")
        }
        return DoctorCheck("nftables", .ok, version.output)
    }

    private func imageCheck() -> DoctorCheck {
        do {
            let manifest = try image.load()
            return DoctorCheck("processor image", .ok,
                "\(image.directory): kernel \(manifest.kernelVersion), initrd \(manifest.initrdBytes / 1_048_576) MiB, built \(manifest.buildTime)")
        } catch {
            return DoctorCheck("processor image", .failed, "\(error)", fix: "run: sudo scripts/build-image.sh")
        }
    }

    /// The image's kernel when built; otherwise the newest Debian kernel, copied out of /boot
    /// because libvirt relabels the files it boots.
    private func probeKernel() throws -> String {
        if FileManager.default.fileExists(atPath: image.kernelPath) { return image.kernelPath }
        let kernels = (try? FileManager.default.contentsOfDirectory(atPath: "/boot"))?
            .filter { $0.hasPrefix("vmlinuz-") }.sorted { $0.compare($1, options: .numeric) == .orderedAscending } ?? []
        guard let newest = kernels.last else {
            throw PlatformError(.unavailable, "guest kernel", "neither \(image.kernelPath) nor /boot/vmlinuz-* exists (apt-get install linux-image-amd64)")
        }
        let directory = "/var/lib/virtualplatform/probe"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copy = "\(directory)/vmlinuz"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: "/boot/\(newest)", toPath: copy)
        return copy
    }

    private func run(_ program: String, _ arguments: [String]) -> (status: Int32, output: String) {
        do {
            let ran = try ProgramRunner.runForStatus(program, arguments)
            return (ran.status.exitCode ?? -1, ran.output.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            return (-1, "\(error)")
        }
    }
}
