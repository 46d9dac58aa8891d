import AgentProtocol
import Dispatch
import FoundationEssentials
import Glibc
import SystemSupport
import Synchronization

/// Notices data disks as they appear (polls /sys/block every 250 ms for vd* and sd*): checks an
/// ext2/3/4 filesystem with e2fsck (replaying its journal: the disk may come from a processor that
/// was killed with it mounted), mounts it at /mnt/<name> when the check leaves it consistent, and
/// reads its `vp-marker` file. Writes markers on request, formatting a blank disk as ext4 first,
/// and makes them durable before answering. `FilesystemPreparation` holds the rules.
///
/// Every operation runs on the serial `queue` (they block on mount/mke2fs/fsync), so a marker
/// write can never race a mount of the same disk. `snapshot` is what reports read.
final class DiskWatcher: @unchecked Sendable {
    enum Failure: Error, CustomStringConvertible {
        case unknownDisk(String)
        case foreignData(String)
        case checkFailed(String, FilesystemCheck)
        case failed(String)
        var description: String {
            switch self {
            case .unknownDisk(let name): return "no disk \(name)"
            case .foreignData(let name):
                return "disk \(name) holds data that is not an ext2/3/4 filesystem; refusing to format it"
            case .checkFailed(let name, let check):
                return "disk \(name): \(check.tool) left the filesystem inconsistent (\(check.detail)); not mounting it"
            case .failed(let message): return message
            }
        }
    }

    static let markerFile = "vp-marker"
    private let queue = DispatchQueue(label: "vp-agent.disks")
    private var timer: DispatchSourceTimer?
    /// Disk → mount point, for the disks that are mounted (queue only).
    private var mounted: [String: String] = [:]
    /// What the agent knows of one disk's contents.
    struct Contents: Sendable {
        var marker: String?
        var filesystem: ExtSuperblock.Kind?
        var check: FilesystemCheck?
        /// Why the disk could not be looked at yet (its device unreadable, its mount failed):
        /// looked at again at every scan. Seen on TCG guests: a hot-plugged disk's device
        /// answered ENXIO at first; with one look only, a moved disk was never mounted.
        var notYet: String?
    }
    /// Every disk seen, by kernel name.
    private let snapshot = Mutex<[String: Contents]>([:])

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now(), repeating: .milliseconds(250))
        timer.setEventHandler { [unowned self] in scan() }
        self.timer = timer
        timer.resume()
    }

    /// The disks as last seen, with their current size.
    func disks() -> [AgentReport.Disk] {
        let current = snapshot.withLock { $0 }
        return current.keys.sorted().map { name in Self.report(name, current[name] ?? Contents()) }
    }

    /// Writes `marker` to the disk's marker file (formatting and mounting the disk if it is blank),
    /// durably, and returns the disk's report.
    func setMarker(_ marker: String, on name: String) async throws -> AgentReport.Disk {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { Self.report(name, try self.writeMarker(marker, on: name)) })
            }
        }
    }

    private static func report(_ name: String, _ contents: Contents) -> AgentReport.Disk {
        AgentReport.Disk(name: name, serial: serial(of: name), sizeBytes: size(of: name), marker: contents.marker,
                         filesystem: contents.filesystem, check: contents.check)
    }

    // MARK: - Watching (on queue)

    /// Whole disks we manage: virtio (vd*) and SCSI (sd*). Partitions are not in /sys/block.
    static func diskNames() -> [String] {
        KernelFiles.list("/sys/block").filter { $0.hasPrefix("vd") || $0.hasPrefix("sd") }
    }

    /// virtio-blk serial (the controller sets it to the libvirt target); nil when there is none.
    static func serial(of name: String) -> String? {
        KernelFiles.read("/sys/block/\(name)/serial").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The kernel name of the disk whose serial or name is `id`.
    func kernelName(for id: String) -> String? {
        disks().first { $0.serial == id }?.name ?? disks().first { $0.name == id }?.name
    }

    static func size(of name: String) -> UInt64 {
        (KernelFiles.read("/sys/block/\(name)/size").flatMap { UInt64($0) } ?? 0) * 512
    }

    private func scan() {
        let present = Set(Self.diskNames())
        let known = snapshot.withLock { Set($0.keys) }
        let retry = snapshot.withLock { $0.filter { $0.value.notYet != nil }.keys }
        for name in present.subtracting(known).union(present.intersection(retry)).sorted() { attach(name) }
        for name in known.subtracting(present).sorted() { detach(name) }
    }

    private func attach(_ name: String) {
        let device = "/dev/\(name)"
        guard FileManager.default.fileExists(atPath: device) else { return }   // next scan
        let before = snapshot.withLock { $0[name]?.notYet }
        var contents = Contents()
        /// A disk looked at again says so only when what it says changes.
        func log(_ line: String) { if line != before { VPAgent.log(line) } }
        switch Self.probe(device) {
        case .ext(let superblock):
            contents.filesystem = superblock.kind
            do {
                contents.check = try checkAndMount(name, superblock)
                contents.marker = KernelFiles.readExact("/mnt/\(name)/" + Self.markerFile)
                log("disk \(name) appeared (\(Self.size(of: name)) bytes, \(superblock.kind.rawValue)), mounted at /mnt/\(name), "
                    + "marker " + (contents.marker.map { "\"\($0.prefix(60))\"" } ?? "none"))
            } catch Failure.checkFailed(_, let check) {
                contents.check = check
                log("disk \(name) appeared (\(Self.size(of: name)) bytes): \(Failure.checkFailed(name, check))")
            } catch {
                contents.notYet = "disk \(name) appeared (\(Self.size(of: name)) bytes), cannot mount: \(error); trying again"
                log(contents.notYet!)
            }
        case .blank:
            log("disk \(name) appeared (\(Self.size(of: name)) bytes), blank")
        case .other:
            log("disk \(name) appeared (\(Self.size(of: name)) bytes), not ext2/3/4: left alone")
        case .unreadable(let cause):
            contents.notYet = "disk \(name) appeared (\(Self.size(of: name)) bytes), unreadable: \(cause); trying again"
            log(contents.notYet!)
        }
        snapshot.withLock { $0[name] = contents }
    }

    private func detach(_ name: String) {
        log("disk \(name) removed")
        if let mountPoint = mounted.removeValue(forKey: name) {
            _ = try? ProgramRunner.run("/bin/umount", ["-l", mountPoint])
        }
        _ = snapshot.withLock { $0.removeValue(forKey: name) }
    }

    /// Checks the filesystem (unless a previous agent already mounted it: init restarts us, and
    /// e2fsck must never run on a mounted filesystem) and mounts it. Returns the check that ran;
    /// throws `checkFailed` without mounting when the check left errors or could not run.
    private func checkAndMount(_ name: String, _ superblock: ExtSuperblock) throws -> FilesystemCheck? {
        let mountPoint = "/mnt/\(name)"
        if mounted[name] != nil { return nil }
        let mounts = KernelFiles.read("/proc/mounts") ?? ""
        if mounts.split(separator: "\n").contains(where: { $0.hasPrefix("/dev/\(name) \(mountPoint) ") }) {
            mounted[name] = mountPoint
            return nil
        }
        let check = Self.check("/dev/\(name)", superblock)
        log("disk \(name): \(check.tool): \(check.result.rawValue)" + (check.journalRecovery ? " (journal replayed)" : "")
            + (check.detail.isEmpty ? "" : ": \(check.detail)"))
        guard FilesystemPreparation.mayMount(after: check.result) else { throw Failure.checkFailed(name, check) }
        try mount(name)
        return check
    }

    private func mount(_ name: String) throws {
        let mountPoint = "/mnt/\(name)"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try ProgramRunner.run("/bin/mount", ["-t", "ext4", "/dev/\(name)", mountPoint])
        mounted[name] = mountPoint
    }

    /// Runs e2fsck in preen mode and records what it said.
    static func check(_ device: String, _ superblock: ExtSuperblock) -> FilesystemCheck {
        let command = FilesystemPreparation.checkCommand(device: device)
        let tool = ([command[0].split(separator: "/").last.map(String.init) ?? command[0]] + command.dropFirst().dropLast())
            .joined(separator: " ")
        func outcome(_ status: Int32?, _ result: FilesystemCheck.Result, _ detail: String) -> FilesystemCheck {
            FilesystemCheck(tool: tool, journalRecovery: superblock.needsRecovery, uncleanBefore: superblock.unclean,
                            exitStatus: status, result: result, detail: detail)
        }
        do {
            // Niced: on the guest's one vCPU the check must not starve the heartbeat responder
            // (a processor that just took over a personality would look dead).
            let ran = try ProgramRunner.runForStatus(command[0], Array(command.dropFirst()), niceness: 19)
            let summary = trimmed(ran.output.split(separator: "\n").suffix(3).joined(separator: "; "))
            guard let code = ran.status.exitCode else {
                return outcome(nil, .failed, ran.status.description + (summary.isEmpty ? "" : ": " + summary))
            }
            return outcome(code, FilesystemPreparation.result(ofCheckExitStatus: code), summary)
        } catch {
            return outcome(nil, .failed, "cannot run \(command[0]): \(error)")
        }
    }

    /// Writes the marker and returns the disk's contents as they are now.
    private func writeMarker(_ marker: String, on name: String) throws -> Contents {
        guard var contents = snapshot.withLock({ $0[name] }),
              FileManager.default.fileExists(atPath: "/sys/block/\(name)") else {
            throw Failure.unknownDisk(name)
        }
        if mounted[name] == nil {
            switch Self.probe("/dev/\(name)") {
            case .ext(let superblock):
                contents.filesystem = superblock.kind
                do { contents.check = try checkAndMount(name, superblock) } catch Failure.checkFailed(let disk, let check) {
                    snapshot.withLock { $0[name]?.check = check }
                    throw Failure.checkFailed(disk, check)
                } catch {
                    throw Failure.failed("cannot mount \(name): \(error)")
                }
            case .blank:
                log("disk \(name): formatting (ext4)")
                let format = FilesystemPreparation.formatCommand(device: "/dev/\(name)")
                do { try ProgramRunner.run(format[0], Array(format.dropFirst())) } catch {
                    throw Failure.failed("cannot format \(name): \(error)")
                }
                contents.filesystem = .ext4
                contents.check = nil   // formatted here: nothing to check
                do { try mount(name) } catch { throw Failure.failed("cannot mount \(name): \(error)") }
            case .other: throw Failure.foreignData(name)
            case .unreadable(let cause): throw Failure.failed("cannot read /dev/\(name): \(cause)")
            }
        }
        try Self.writeDurably(Data(marker.utf8), directory: mounted[name]!, file: Self.markerFile)
        contents.marker = marker
        snapshot.withLock { $0[name] = contents }
        log("disk \(name): marker written (\(marker.utf8.count) bytes)")
        return contents
    }

    // MARK: - Disk contents

    enum Content: Equatable { case ext(ExtSuperblock), blank, other, unreadable(String) }

    /// An ext2/3/4 superblock (magic 0xEF53 at byte 1080); "blank" means the first MiB is all zeros.
    static func probe(_ device: String) -> Content {
        let fd = open(device, O_RDONLY)
        guard fd >= 0 else { return .unreadable(errnoText()) }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 1 << 20)
        var count = 0
        while count < head.count {
            let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + count, $0.count - count, off_t(count)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .unreadable(errnoText()) }
            if n == 0 { break }
            count += n
        }
        if let superblock = ExtSuperblock(deviceHead: Array(head[..<count])) { return .ext(superblock) }
        return head[..<count].allSatisfy { $0 == 0 } ? .blank : .other
    }

    /// Writes `directory/file` so that it survives the guest being killed right after: a temporary
    /// file, fsync, rename over the old one, fsync the directory, then sync everything.
    static func writeDurably(_ data: Data, directory: String, file: String) throws {
        let temporary = "\(directory)/.\(file).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure.failed("cannot create \(temporary): \(errnoText())") }
        var written = 0
        let ok = data.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let cause = errnoText()
        close(fd)
        guard ok else { throw Failure.failed("cannot write \(temporary): \(cause)") }
        guard rename(temporary, "\(directory)/\(file)") == 0 else {
            throw Failure.failed("cannot rename \(temporary): \(errnoText())")
        }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
        sync()
    }
}
