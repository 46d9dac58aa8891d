/// The hysteresis of a health check (keepalived, HAProxy): `fall` failures in a row take a
/// member down, `rise` successes in a row bring it back, so one lost check does not move
/// clients and one lucky check does not bring back a member that is mostly failing.
public struct RiseFall: Sendable, Equatable {
    public let rise: Int
    public let fall: Int
    public private(set) var up: Bool
    /// Consecutive results against the current state.
    private var streak = 0
    /// Nothing known yet (no earlier finding): the first result decides at once.
    private var unconfirmed: Bool

    /// - Parameter initially: the last saved state (nil: none; then the member counts as up,
    ///   HAProxy's default, and a first failure takes it down at once).
    public init(rise: Int, fall: Int, initially: Bool?) {
        self.rise = max(1, rise); self.fall = max(1, fall)
        up = initially ?? true
        unconfirmed = initially == nil
    }

    /// Returns whether the state changed.
    public mutating func record(_ success: Bool) -> Bool {
        if unconfirmed {
            unconfirmed = false
            if !success { up = false; return true }
            return false
        }
        guard success != up else { streak = 0; return false }
        streak += 1
        guard streak >= (up ? fall : rise) else { return false }
        up = success
        streak = 0
        return true
    }
}
