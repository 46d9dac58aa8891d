import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

public enum NFTablesError: KindedError, Equatable {
    /// libnftables is not on this host.
    case notInstalled(String)
    /// The kernel or nftables refused a batch; nothing of it was applied (batches are atomic).
    case refused(String)

    public var description: String {
        switch self {
        case .notInstalled(let why):
            "nftables is not installed on this host (\(why)); install the Debian packages 'nftables' and 'libnftables1' (scripts/bootstrap-host.sh does)"
        case .refused(let message):
            "nftables refused the change, nothing was applied: \(message)"
        }
    }

    /// A host without nftables is unavailable for service IPs; a refused batch of the controller's
    /// own rules is its fault.
    public var kind: ErrorKind {
        switch self {
        case .notInstalled: .unavailable
        case .refused: .internal
        }
    }
}

/// The host's nftables through libnftables' JSON interface, loaded when first needed so that a host
/// without nftables gets a clear error from the commands that need it rather than a binary that
/// does not start.
public final class NFTables: @unchecked Sendable {
    private typealias CtxNew = @convention(c) (UInt32) -> OpaquePointer?
    private typealias CtxFree = @convention(c) (OpaquePointer?) -> Void
    private typealias CtxInt = @convention(c) (OpaquePointer?) -> Int32
    private typealias CtxString = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?
    private typealias SetFlags = @convention(c) (OpaquePointer?, UInt32) -> Void
    private typealias RunBuffer = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32

    private static let outputJSON: UInt32 = 1 << 4  // NFT_CTX_OUTPUT_JSON

    private let ctx: OpaquePointer
    private let free: CtxFree
    private let run: RunBuffer
    private let outputBuffer: CtxString
    private let errorBuffer: CtxString
    /// libnftables contexts are not thread-safe.
    private let lock = NSLock()

    public init() throws {
        guard let lib = dlopen("libnftables.so.1", RTLD_NOW) else {
            throw NFTablesError.notInstalled(dlerror().map { String(cString: $0) } ?? "libnftables.so.1 not found")
        }
        func symbol<T>(_ name: String, as: T.Type) throws -> T {
            guard let p = dlsym(lib, name) else { throw NFTablesError.notInstalled("libnftables has no \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        let new = try symbol("nft_ctx_new", as: CtxNew.self)
        free = try symbol("nft_ctx_free", as: CtxFree.self)
        run = try symbol("nft_run_cmd_from_buffer", as: RunBuffer.self)
        outputBuffer = try symbol("nft_ctx_get_output_buffer", as: CtxString.self)
        errorBuffer = try symbol("nft_ctx_get_error_buffer", as: CtxString.self)
        let bufferOutput = try symbol("nft_ctx_buffer_output", as: CtxInt.self)
        let bufferError = try symbol("nft_ctx_buffer_error", as: CtxInt.self)
        let setFlags = try symbol("nft_ctx_output_set_flags", as: SetFlags.self)
        guard let ctx = new(0) else { throw NFTablesError.notInstalled("nft_ctx_new failed") }
        self.ctx = ctx
        _ = bufferOutput(ctx)
        _ = bufferError(ctx)
        // JSON output also makes libnftables parse its input as JSON.
        setFlags(ctx, Self.outputJSON)
    }

    deinit { free(ctx) }

    /// Runs the commands as one transaction: all of them take effect, or none.
    public func apply(_ commands: [JSONValue]) throws {
        _ = try execute(commands)
    }

    /// Runs read commands (`list …`) and returns nftables' JSON answer.
    public func query(_ commands: [JSONValue]) throws -> Data {
        Data(try execute(commands).utf8)
    }

    /// Whether the table exists.
    public func hasTable(family: String, name: String) throws -> Bool {
        do {
            _ = try execute([["list": ["table": ["family": .string(family), "name": .string(name)]]]])
            return true
        } catch NFTablesError.refused(let message) where message.contains("No such file or directory") {
            return false
        }
    }

    private func execute(_ commands: [JSONValue]) throws -> String {
        let text = JSONValue.object([("nftables", .array(commands))]).serialized()
        lock.lock()
        defer { lock.unlock() }
        let rc = run(ctx, text)
        let output = outputBuffer(ctx).map { String(cString: $0) } ?? ""
        let errors = errorBuffer(ctx).map { String(cString: $0) } ?? ""
        guard rc == 0 else {
            let message = errors.split(separator: "\n").map { $0.replacingOccurrences(of: "internal:0:0-0: ", with: "") }
                .filter { !$0.isEmpty }.joined(separator: "; ")
            throw NFTablesError.refused(message.isEmpty ? "error \(rc)" : message)
        }
        return output
    }
}
