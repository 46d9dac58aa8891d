import CLibvirt
import SystemSupport

/// libvirt's error numbers as kinds: the one place where a libvirt failure becomes "not found",
/// "conflict", "unavailable" or "invalid input" for vpctl's exit code and the API's status.
/// Any number not listed is internal.
extension LibvirtError {
    public var kind: ErrorKind { Self.kinds[code] ?? .internal }

    static let kinds: [Int32: ErrorKind] = {
        let table: [(ErrorKind, [virErrorNumber])] = [
            // The object looked up does not exist.
            (.notFound, [VIR_ERR_NO_DOMAIN, VIR_ERR_NO_NETWORK, VIR_ERR_NO_STORAGE_POOL, VIR_ERR_NO_STORAGE_VOL,
                         VIR_ERR_NO_DOMAIN_METADATA, VIR_ERR_NO_INTERFACE, VIR_ERR_NO_NODE_DEVICE, VIR_ERR_NO_SECRET,
                         VIR_ERR_NO_NWFILTER, VIR_ERR_NO_NETWORK_PORT, VIR_ERR_DEVICE_MISSING]),
            // The object's state forbids it now: not running, already exists, busy.
            (.conflict, [VIR_ERR_OPERATION_INVALID, VIR_ERR_DOM_EXIST, VIR_ERR_NETWORK_EXIST, VIR_ERR_STORAGE_VOL_EXIST,
                         VIR_ERR_NETWORK_PORT_EXIST, VIR_ERR_RESOURCE_BUSY, VIR_ERR_BLOCK_COPY_ACTIVE, VIR_ERR_MULTIPLE_DOMAINS]),
            // The daemon or the guest does not answer, or the connection could not be made.
            (.unavailable, [VIR_ERR_NO_CONNECT, VIR_ERR_INVALID_CONN, VIR_ERR_SYSTEM_ERROR, VIR_ERR_RPC, VIR_ERR_AUTH_FAILED,
                            VIR_ERR_AUTH_UNAVAILABLE, VIR_ERR_AUTH_CANCELLED, VIR_ERR_UNKNOWN_HOST, VIR_ERR_OPERATION_TIMEOUT,
                            VIR_ERR_AGENT_UNRESPONSIVE, VIR_ERR_AGENT_UNSYNCED, VIR_ERR_NO_SERVER]),
            // What was asked of libvirt is not something this host can be given.
            (.invalidInput, [VIR_ERR_INVALID_ARG, VIR_ERR_CONFIG_UNSUPPORTED, VIR_ERR_ARGUMENT_UNSUPPORTED,
                             VIR_ERR_INVALID_MAC, VIR_ERR_CPU_INCOMPATIBLE]),
        ]
        var kinds: [Int32: ErrorKind] = [:]
        for (kind, codes) in table { for code in codes { kinds[Int32(code.rawValue)] = kind } }
        return kinds
    }()
}
