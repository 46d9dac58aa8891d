#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor that remembers which open file it is (device and inode), so that a
/// descriptor closed behind our back (some library code closes descriptors more than once:
/// Foundation's String(contentsOfFile:) was seen closing three times) is noticed before it is
/// used, and another component's file that reuses the number is never read, written or closed.
struct OwnedDescriptor: Sendable {
    let fd: Int32
    private let device: UInt64
    private let inode: UInt64

    init?(_ fd: Int32) {
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        self.fd = fd
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    /// Still the file this descriptor was opened for.
    var isIntact: Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }

    /// Closes it, unless the number now belongs to someone else.
    func close() {
        if isIntact { _ = Glibc.close(fd) }
    }
}
