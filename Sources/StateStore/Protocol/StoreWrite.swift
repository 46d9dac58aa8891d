/// A write that goes with others into one transaction (`PlatformStore.write(_:)`): what an apply
/// records as it goes, a line per change and a record per volume, thousands for a large platform.
public enum StoreWrite: Sendable, Equatable {
    case journal(JournalEntry)
    case createdVolume(host: String, pool: String, name: String)
    case forgottenVolume(host: String, pool: String, name: String)
}
