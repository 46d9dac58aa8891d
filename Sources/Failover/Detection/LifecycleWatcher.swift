import Foundation
import Libvirt

/// The second, independent detector: libvirt's own view. A processor that crashed, stopped, or
/// paused on an I/O error is reported at once; a closed host connection makes its processors
/// suspect (the heartbeats then decide).
public enum LifecycleWatcher {
    /// Reads a host's events until the task is cancelled or the connection closes.
    public static func watch(host: String, events: AsyncStream<ConnectionEvent>, sink: @Sendable (Detection) -> Void) async {
        for await event in events {
            switch event {
            case .domain(let e):
                if let kind = detection(e) { sink(Detection(subject: e.domainName, kind: kind, source: .libvirt, at: e.receivedAt)) }
            case .closed(let reason):
                sink(Detection(subject: host, kind: .hostLost(reason: "libvirt connection closed (\(reason))"), source: .libvirt))
                return
            }
        }
    }

    /// Which lifecycle events mean "this processor no longer runs". Whether it should run is for
    /// the service to judge (it knows which processors carry personalities).
    static func detection(_ e: DomainEvent) -> Detection.Kind? {
        if e.isUnexpectedStop { return .processorFailed(reason: "libvirt: \(e.kind.rawValue) (\(e.detail))") }
        if e.kind == .stopped { return .processorFailed(reason: "libvirt: stopped (\(e.detail)) while it should run") }
        return nil
    }
}
