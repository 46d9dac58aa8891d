/// How the agent prepares a data disk's filesystem before it mounts it, and what it reports.
///
/// A disk can arrive from a processor that was killed while it had the filesystem mounted (a
/// failover fences with SIGKILL). Blank disks are formatted as ext4, whose journal makes a killed
/// writer's metadata consistent again on replay; and every disk is checked with `e2fsck -p` before
/// the agent mounts it, which replays the journal (ext3/4) or checks the whole filesystem when it
/// was not unmounted cleanly (ext2, as formatted by images before ext4). A filesystem that the
/// check cannot repair without a person is not mounted.
public enum FilesystemPreparation {
    /// The formatter and checker inside the image (from the host's e2fsprogs, not busybox:
    /// busybox's mke2fs writes ext2 only and busybox has no e2fsck).
    public static let mke2fsPath = "/sbin/mke2fs"
    public static let e2fsckPath = "/sbin/e2fsck"

    /// ext4 with its journal; no reserved blocks, the label names the platform's disks. Inode tables
    /// and the journal are zeroed now (not lazily after mount), so a replay can never meet stale
    /// blocks from the disk's earlier life.
    public static func formatCommand(device: String) -> [String] {
        [mke2fsPath, "-q", "-t", "ext4", "-m", "0", "-L", "vp-data",
         "-E", "lazy_itable_init=0,lazy_journal_init=0", device]
    }

    /// Preen mode: replays the journal, fixes what is safe to fix without asking, and exits 4 when
    /// a person must decide. Not forced: a clean ext4 is checked in milliseconds.
    public static func checkCommand(device: String) -> [String] {
        [e2fsckPath, "-p", device]
    }

    /// e2fsck's exit status (a bit mask, e2fsck(8)): 0 clean, 1 errors corrected, 2 corrected and
    /// the system should reboot (only meaningful for a mounted root), 4 errors left uncorrected,
    /// 8 operational error, 16 usage error, 32 cancelled, 128 shared-library error.
    public static func result(ofCheckExitStatus status: Int32) -> FilesystemCheck.Result {
        switch status {
        case 0: return .clean
        case 1, 2, 3: return .repaired
        default: return .failed
        }
    }

    /// Only a filesystem that the check left consistent is mounted (fail closed: a check that could
    /// not run, or left errors, keeps the disk unmounted, and its marker unreported).
    public static func mayMount(after result: FilesystemCheck.Result) -> Bool {
        result != .failed
    }
}

/// What the agent found and did about a disk's filesystem (`AgentReport.Disk.check`).
public struct FilesystemCheck: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable {
        /// Consistent as found (after a journal replay, if one was needed).
        case clean
        /// The check corrected errors; the filesystem is consistent now.
        case repaired
        /// The check could not run, or left errors: the filesystem is not mounted.
        case failed
    }
    /// The command that ran, e.g. "e2fsck -p".
    public var tool: String
    /// The superblock said the journal held transactions not yet written home (the last writer was
    /// stopped while it had the filesystem mounted); the check replayed them.
    public var journalRecovery: Bool
    /// The superblock said the filesystem was not unmounted cleanly, or had recorded errors.
    public var uncleanBefore: Bool
    /// e2fsck's exit status, nil when it could not be run.
    public var exitStatus: Int32?
    public var result: Result
    /// The checker's output (trimmed, at most a few lines), or why it could not run.
    public var detail: String

    public init(tool: String, journalRecovery: Bool, uncleanBefore: Bool, exitStatus: Int32?, result: Result, detail: String) {
        self.tool = tool; self.journalRecovery = journalRecovery; self.uncleanBefore = uncleanBefore
        self.exitStatus = exitStatus; self.result = result; self.detail = detail
    }
}
