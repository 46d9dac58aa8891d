import Foundation
import PlatformModel
import StateStore
import SystemSupport

extension FailoverService {
    /// Reads and validates the definition file again and, if it is good, puts it in force: the
    /// engine is replaced and the watched processors follow at once (a processor added by
    /// `vpctl apply` is watched from now on). A file with problems throws `ConfigErrors` (every
    /// problem, with file:line) and changes nothing: the definition in force stays.
    /// Called on SIGHUP (`serviceGroup`) and by the admin API.
    @discardableResult
    public func reload() throws -> DefinitionChange {
        try reloading.withLock { _ in
            do {
                let change = try replaceDefinition()
                engine.metrics.reloaded("ok")
                logger.notice("definition reloaded", metadata: ["file": "\(definitionFile ?? "-")", "change": "\(change.summary)"])
                try? store.record(PlatformEvent(kind: .service, detail: "definition reloaded from \(definitionFile ?? "-"): \(change.summary)"))
                return change
            } catch {
                engine.metrics.reloaded(error is ConfigErrors ? "invalid" : "failed")
                logger.error("definition not reloaded; the one in force stays", metadata: ["file": "\(definitionFile ?? "-")", "error": "\(error)"])
                try? store.record(PlatformEvent(kind: .service, detail: "definition not reloaded from \(definitionFile ?? "-"), the one in force stays: \(error)"))
                throw error
            }
        }
    }

    private func replaceDefinition() throws -> DefinitionChange {
        guard let definitionFile else {
            throw PlatformError(.conflict, "failover service", "cannot reload: it was given a definition, not a file")
        }
        let running = engine
        let loaded = try PlatformLoader.load(path: definitionFile)
        let carriers = Set(try store.bindings().values)
            .union(try store.unfinishedFailovers().flatMap { [$0.source] + ($0.target.map { [$0] } ?? []) })
        let issues = Validator.validate(loaded) + ReloadRules.refusals(running: running.definition, loaded: loaded, carriers: carriers)
        if !issues.isEmpty { throw ConfigErrors(issues: issues) }
        let replacement = try running.with(definition: loaded.definition)
        let change = DefinitionChange(from: running.definition, to: loaded.definition)
        current.withLock { $0 = replacement }
        watchesStale.store(true, ordering: .relaxed)
        return change
    }
}
