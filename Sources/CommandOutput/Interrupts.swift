import Dispatch
import Foundation

/// SIGINT and SIGTERM, taken from their default (exit at once) and handed to `handler`, so a
/// long-running command can stop cleanly: cancel its work, remove what it made. Keep the returned
/// sources alive for as long as the handler should run.
public func onInterrupt(_ handler: @escaping @Sendable (Int32) -> Void) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { handler(number) }
        source.resume()
        return source
    }
}
