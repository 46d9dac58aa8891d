import SystemSupport
/// Why a Maglev table could not be built.
public enum MaglevError: KindedError, Sendable, Equatable {
    /// Every case is a table asked for with parameters it cannot have.
    public var kind: ErrorKind { .invalidInput }
    /// The table size is not a prime number.
    case sizeNotPrime(size: Int)
    /// The table has fewer slots than there are backends.
    case sizeSmallerThanBackendCount(size: Int, backendCount: Int)
    /// A backend's weight is below 1.
    case weightBelowOne(backend: String, weight: Int)
    /// Two backends have the same name.
    case duplicateBackendName(String)

    public var description: String {
        switch self {
        case .sizeNotPrime(let size):
            return "Maglev table size \(size) is not a prime number "
                + "(a prime size makes every backend's preference list visit every slot; the default is 65537)"
        case .sizeSmallerThanBackendCount(let size, let backendCount):
            return "Maglev table size \(size) is smaller than the number of backends (\(backendCount)); "
                + "every backend needs at least one slot, and the size should be far larger (about 100 × backends) for an even spread"
        case .weightBelowOne(let backend, let weight):
            return "Maglev backend '\(backend)' has weight \(weight); weights must be at least 1"
        case .duplicateBackendName(let name):
            return "Maglev backend name '\(name)' appears more than once; backend names must be unique"
        }
    }
}
