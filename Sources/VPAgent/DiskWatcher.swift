import AgentProtocol
import Dispatch
import FoundationEssentials
import Glibc
import Synchronization

/// Notices data disks as they appear (polls /sys/block every 250 ms for vd* and sd*): mounts an
/// ext2/3/4 filesystem at /mnt/<name> and reads its `vp-marker` file. Writes markers on request,
/// formatting a blank disk first, and makes them durable before answering.
///
/// Every operation runs on the serial `queue` (they block on mount/mke2fs/fsync), so a marker
/// write can never race a mount of the same disk. `snapshot` is what reports read.
final class DiskWatcher: @unchecked Sendable {
    enum Failure: Error, CustomStringConvertible {
        case unknownDisk(String)
        case foreignData(String)
        case failed(String)
        var description: String {
            switch self {
            case .unknownDisk(let name): return "no disk \(name)"
            case .foreignData(let name):
                return "disk \(name) holds data that is not an ext2/3/4 filesystem; refusing to format it"
            case .failed(let message): return message
            }
        }
    }

    static let markerFile = "vp-marker"
    private let queue = DispatchQueue(label: "vp-agent.disks")
    private var timer: DispatchSourceTimer?
    /// Disk → mount point, for the disks that are mounted (queue only).
    private var mounted: [String: String] = [:]
    /// Disk → marker (nil: none), for every disk seen.
    private let snapshot = Mutex<[String: String?]>([:])

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
        return current.keys.sorted().map { name in
            AgentReport.Disk(name: name, serial: Self.serial(of: name), sizeBytes: Self.size(of: name),
                             marker: current[name] ?? nil)
        }
    }

    /// Writes `marker` to the disk's marker file (formatting and mounting the disk if it is blank),
    /// durably, and returns the disk's report.
    func setMarker(_ marker: String, on name: String) async throws -> AgentReport.Disk {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    try self.writeMarker(marker, on: name)
                    return AgentReport.Disk(name: name, serial: Self.serial(of: name), sizeBytes: Self.size(of: name), marker: marker)
                })
            }
        }
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
        for name in present.subtracting(known).sorted() { attach(name) }
        for name in known.subtracting(present).sorted() { detach(name) }
    }

    private func attach(_ name: String) {
        let device = "/dev/\(name)"
        guard FileManager.default.fileExists(atPath: device) else { return }   // next scan
        var marker: String?
        switch Self.probe(device) {
        case .ext:
            do {
                marker = try mount(name)
                log("disk \(name) appeared (\(Self.size(of: name)) bytes), mounted at /mnt/\(name), marker "
                    + (marker.map { "\"\($0.prefix(60))\"" } ?? "none"))
            } catch {
                log("disk \(name) appeared (\(Self.size(of: name)) bytes), cannot mount: \(error)")
            }
        case .blank:
            log("disk \(name) appeared (\(Self.size(of: name)) bytes), blank")
        case .other:
            log("disk \(name) appeared (\(Self.size(of: name)) bytes), not ext2/3/4: left alone")
        case .unreadable(let cause):
            log("disk \(name) appeared (\(Self.size(of: name)) bytes), unreadable: \(cause)")
        }
        snapshot.withLock { $0[name] = .some(marker) }
    }

    private func detach(_ name: String) {
        log("disk \(name) removed")
        if let mountPoint = mounted.removeValue(forKey: name) {
            _ = try? Command.run("/bin/umount", ["-l", mountPoint])
        }
        _ = snapshot.withLock { $0.removeValue(forKey: name) }
    }

    /// Mounts the disk (if not yet) and returns its marker.
    private func mount(_ name: String) throws -> String? {
        let mountPoint = "/mnt/\(name)"
        if mounted[name] == nil {
            // Mounted already by a previous agent (init restarts us): adopt that mount.
            let mounts = KernelFiles.read("/proc/mounts") ?? ""
            if !mounts.split(separator: "\n").contains(where: { $0.hasPrefix("/dev/\(name) \(mountPoint) ") }) {
                try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
                try Command.run("/bin/mount", ["-t", "ext4", "/dev/\(name)", mountPoint])
            }
            mounted[name] = mountPoint
        }
        return KernelFiles.readExact(mountPoint + "/" + Self.markerFile)
    }

    private func writeMarker(_ marker: String, on name: String) throws {
        guard snapshot.withLock({ $0[name] != nil }),
              FileManager.default.fileExists(atPath: "/sys/block/\(name)") else {
            throw Failure.unknownDisk(name)
        }
        if mounted[name] == nil {
            switch Self.probe("/dev/\(name)") {
            case .ext: break
            case .blank:
                log("disk \(name): formatting (ext2)")
                do { try Command.run("/bin/mke2fs", ["-q", "-m", "0", "-L", "vp-data", "/dev/\(name)"]) } catch {
                    throw Failure.failed("cannot format \(name): \(error)")
                }
            case .other: throw Failure.foreignData(name)
            case .unreadable(let cause): throw Failure.failed("cannot read /dev/\(name): \(cause)")
            }
            do { _ = try mount(name) } catch { throw Failure.failed("cannot mount \(name): \(error)") }
        }
        try Self.writeDurably(Data(marker.utf8), directory: mounted[name]!, file: Self.markerFile)
        snapshot.withLock { $0[name] = .some(marker) }
        log("disk \(name): marker written (\(marker.utf8.count) bytes)")
    }

    // MARK: - Disk contents

    enum Content: Equatable { case ext, blank, other, unreadable(String) }

    /// ext2/3/4 superblock magic 0xEF53 at byte 1080; "blank" means the first MiB is all zeros.
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
        if count >= 1082, head[1080] == 0x53, head[1081] == 0xEF { return .ext }
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
