import Foundation
import SystemSupport

/// Everything that can go wrong finding, building or reading the processor image. Each case names
/// the path involved and what to do about it.
public enum ProcessorImageError: KindedError, Equatable, LocalizedError {
    case imageNotFound(directory: String, missing: String)
    case unreadable(path: String, cause: String)
    case invalidManifest(path: String, cause: String)
    case writeFailed(path: String, cause: String)
    case busyboxNotFound(path: String)
    case filesystemToolNotFound(path: String)
    case agentNotFound(path: String)
    case kernelNotFound(version: String?, bootDirectory: String, modulesRoot: String)
    case moduleNotFound(name: String, modulesDep: String)
    case compressedModule(path: String)
    case sharedLibraryNotFound(binary: String, library: String)
    case toolFailed(command: [String], status: Int32, output: String)
    case invalidArchivePath(String)

    public var description: String {
        switch self {
        case let .imageNotFound(directory, missing):
            return "processor image not found at \(directory) (missing \(missing)): run scripts/build-image.sh"
        case let .unreadable(path, cause):
            return "cannot read \(path): \(cause)"
        case let .invalidManifest(path, cause):
            return "invalid image manifest \(path): \(cause); rebuild it with scripts/build-image.sh"
        case let .writeFailed(path, cause):
            return "cannot write \(path): \(cause)"
        case let .busyboxNotFound(path):
            return "busybox not found at \(path): apt-get install busybox-static"
        case let .filesystemToolNotFound(path):
            return "\(path) not found (the guest formats disks as ext4 and checks them before mounting): apt-get install e2fsprogs"
        case let .agentNotFound(path):
            return "agent binary not found at \(path): build it with "
                + "`swift build -c release --static-swift-stdlib --product vp-agent` (scripts/build-image.sh does)"
        case let .kernelNotFound(version?, boot, modules):
            return "kernel \(version) not found: need \(boot)/vmlinuz-\(version) and \(modules)/\(version)/modules.dep: "
                + "apt-get install linux-image-\(version)"
        case let .kernelNotFound(nil, boot, modules):
            return "no kernel found with both \(boot)/vmlinuz-<version> and \(modules)/<version>/modules.dep: "
                + "apt-get install linux-image-amd64"
        case let .moduleNotFound(name, dep):
            return "kernel module \(name) not found in \(dep) (is it built in, or missing from this kernel?)"
        case let .compressedModule(path):
            return "kernel module \(path) is compressed; busybox insmod needs plain .ko files"
        case let .sharedLibraryNotFound(binary, library):
            return "\(binary) needs \(library), which ldd cannot find on this host"
        case let .toolFailed(command, status, output):
            let tail = output.split(separator: "\n").suffix(5).joined(separator: "\n")
            return "`\(command.joined(separator: " "))` failed with status \(status)" + (tail.isEmpty ? "" : ": \(tail)")
        case let .invalidArchivePath(path):
            return "invalid path for the initramfs archive: \(path)"
        }
    }

    public var errorDescription: String? { description }

    /// What the image needs and this host lacks (the image not built, a tool or kernel not
    /// installed) is unavailable: install or build it, then retry. The rest is the builder's fault.
    public var kind: ErrorKind {
        switch self {
        case .imageNotFound, .invalidManifest, .busyboxNotFound, .filesystemToolNotFound, .agentNotFound, .kernelNotFound,
             .moduleNotFound, .compressedModule, .sharedLibraryNotFound:
            .unavailable
        case .unreadable, .writeFailed, .toolFailed, .invalidArchivePath:
            .internal
        }
    }
}
