extension Validator {
    /// Class of service names defined VLANs; heartbeat and timeouts within their ranges.
    static func checkFailover(_ c: ValidationContext) {
        guard let failover = c.p.failover else { return }
        let vlanNames = c.vlanNames
        for (i, vlan) in (failover.classOfService ?? []).enumerated() where !vlanNames.contains(vlan) {
            c.issue("failover.classOfService[\(i)]", "VLAN '\(vlan)' is not defined")
        }
        if let hb = failover.heartbeat {
            if let v = hb.intervalMs, !(10...10_000).contains(v) { c.issue("failover.heartbeat.intervalMs", "\(v) is outside 10…10000") }
            if let v = hb.timeoutMs, !(1...5_000).contains(v) { c.issue("failover.heartbeat.timeoutMs", "\(v) is outside 1…5000") }
            if let v = hb.threshold, !(1...100).contains(v) { c.issue("failover.heartbeat.threshold", "\(v) is outside 1…100") }
            if let t = hb.timeoutMs, let i = hb.intervalMs, t >= i {
                c.issue("failover.heartbeat.timeoutMs", "\(t) ms must be shorter than the interval (\(i) ms)")
            }
        }
        if let v = failover.confirmTimeoutSeconds, !(1...86_400).contains(v) {
            c.issue("failover.confirmTimeoutSeconds", "must be between 1 and 86400 (a day)")
        }
        if let v = failover.drainTimeoutSeconds, !(0...3600).contains(v) { c.issue("failover.drainTimeoutSeconds", "must be between 0 and 3600") }
    }

    /// A known mode, and no more standbys than processors without a personality.
    static func checkStandby(_ c: ValidationContext) {
        guard let standby = c.p.standby else { return }
        if let count = standby.count {
            let spare = c.p.processors.members.count - c.p.personalities.count
            if count < 0 { c.issue("standby.count", "must not be negative") }
            else if count > spare { c.issue("standby.count", "\(count) standbys wanted but only \(max(spare, 0)) processors carry no personality") }
        }
    }
}
