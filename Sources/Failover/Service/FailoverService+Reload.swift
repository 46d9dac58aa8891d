import Foundation
import PlatformModel
import StateStore
import SystemSupport

extension FailoverService {
    /// Reads and validates the definition file again and, if it is good, puts it in force: the
    /// engine is replaced and the watched processors follow at once (a processor added by
    /// `vpctl apply` is watched from now on). A file with problems throws `ConfigErrors` (every
    /// problem, with file:line) and changes nothing: the definition in force stays.
    /// Called on SIGHUP (`serviceGroup`) and by the admin API (`POST /v1/reload`).
    @discardableResult
    public func reload() throws -> DefinitionChange {
        try reloading.withLock { _ in
            let source = definitionFile ?? "-"
            do {
                guard let definitionFile else { throw PlatformError(.conflict, "failover service", "cannot reload: it was given a definition, not a file") }
                return try putInForce(try PlatformLoader.load(path: definitionFile), from: source)
            } catch {
                refused(error, from: source)
                throw error
            }
        }
    }

    /// Puts a definition that was just applied (through the admin API) in force, as `reload` does
    /// with the file's: the same checks, the same journal line. `source` says where it came from.
    /// `text`, the definition as it was sent, replaces the service's definition file, so that the
    /// next reload or restart keeps what was applied (a file that cannot be written is an alert:
    /// libvirt has the new definition already).
    @discardableResult
    public func adopt(_ loaded: LoadedPlatform, text: String? = nil, from source: String) throws -> DefinitionChange {
        try reloading.withLock { _ in
            let change: DefinitionChange
            do { change = try putInForce(loaded, from: source) } catch {
                refused(error, from: source)
                throw error
            }
            if let definitionFile, let text {
                do {
                    try DefinitionFile(path: definitionFile).replace(with: text)
                    try? store.record(PlatformEvent(kind: .service, detail: "definition file \(definitionFile) rewritten with the definition applied through \(source)"))
                } catch {
                    alert("the definition applied through \(source) is in force, but \(error); a reload or restart would read the old file", times: 1)
                }
            }
            return change
        }
    }

    /// Throws `ConfigErrors` for what this running service could not take from `loaded` (a
    /// renamed platform, a carrier removed, …): checked before an apply changes libvirt.
    public func check(_ loaded: LoadedPlatform) throws {
        let carriers = Set(try store.bindings().values)
            .union(try store.unfinishedFailovers().flatMap { [$0.source] + ($0.target.map { [$0] } ?? []) })
        let issues = Validator.validate(loaded) + ReloadRules.refusals(running: engine.definition, loaded: loaded, carriers: carriers)
        if !issues.isEmpty { throw ConfigErrors(issues: issues) }
    }

    /// `observer` is called with each definition put in force (the admin API follows it).
    public func followDefinition(_ observer: @escaping @Sendable (LoadedPlatform) -> Void) {
        definitionObservers.withLock { $0.append(observer) }
    }

    private func putInForce(_ loaded: LoadedPlatform, from source: String) throws -> DefinitionChange {
        let running = engine
        try check(loaded)
        let replacement = try running.with(definition: loaded.definition)
        let change = DefinitionChange(from: running.definition, to: loaded.definition)
        current.withLock { $0 = replacement }
        watchesStale.store(true, ordering: .relaxed)
        definitionObservers.withLock { $0 }.forEach { $0(loaded) }
        engine.metrics.reloaded("ok")
        logger.notice("definition reloaded", metadata: ["file": "\(source)", "change": "\(change.summary)"])
        try? store.record(PlatformEvent(kind: .service, detail: "definition reloaded from \(source): \(change.summary)"))
        return change
    }

    private func refused(_ error: any Error, from source: String) {
        engine.metrics.reloaded(error is ConfigErrors ? "invalid" : "failed")
        logger.error("definition not reloaded; the one in force stays", metadata: ["file": "\(source)", "error": "\(error)"])
        try? store.record(PlatformEvent(kind: .service, detail: "definition not reloaded from \(source), the one in force stays: \(error)"))
    }
}
