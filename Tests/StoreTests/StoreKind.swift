import Foundation
import StateStore
import Testing
import TestSupport

/// The implementations the contract is checked on. `reopen` gives another handle on the same
/// memory: for SQLite a second open of the file (as a second `vpctl` process would), for the
/// in-memory store the store itself.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, inMemory

    var testDescription: String { rawValue }

    func make() throws -> any PlatformStore {
        switch self {
        case .sqlite:
            try SQLitePlatformStore(path: try ScratchDirectory.make("vp-contract") + "/state.sqlite")
        case .inMemory:
            InMemoryPlatformStore()
        }
    }

    func reopen(_ store: any PlatformStore) throws -> any PlatformStore {
        switch store {
        case let sqlite as SQLitePlatformStore: try SQLitePlatformStore(path: sqlite.path)
        default: store
        }
    }
}
