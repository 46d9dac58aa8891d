/// The one conversion of a `Duration` into the plain numbers that C calls, Foundation and reports
/// take. `Duration / Duration` is exact to the attosecond; no caller adds components by hand.
extension Duration {
    /// The duration in milliseconds, fractions kept.
    public var milliseconds: Double { self / .milliseconds(1) }

    /// The duration in seconds, for Foundation's `TimeInterval` (Thread.sleep, Date).
    public var seconds: Double { self / .seconds(1) }

    /// A poll(2) timeout: whole milliseconds rounded up (a wait is never cut short), 0 for a
    /// duration that is over, at most `Int32.max`.
    public var pollTimeout: Int32 {
        let rounded = milliseconds.rounded(.up)
        return rounded <= 0 ? 0 : Int32(min(rounded, Double(Int32.max)))
    }
}
