import Foundation

/// Whether repeated trials get slower: the least-squares slope of time over the trial index,
/// and the first trial against the last.
struct TrialGrowth: Encodable, Equatable {
    /// Seconds added per trial (least squares); 0 for fewer than two trials.
    var slopeSecondsPerTrial: Double
    var first: Double
    var last: Double

    init(_ samples: [Double]) {
        first = samples.first ?? 0
        last = samples.last ?? 0
        let n = Double(samples.count)
        guard samples.count > 1 else { slopeSecondsPerTrial = 0; return }
        let meanX = (n - 1) / 2, meanY = samples.reduce(0, +) / n
        var covariance = 0.0, variance = 0.0
        for (i, y) in samples.enumerated() {
            covariance += (Double(i) - meanX) * (y - meanY)
            variance += (Double(i) - meanX) * (Double(i) - meanX)
        }
        slopeSecondsPerTrial = covariance / variance
    }

    /// How much the fitted line rises over the run, as a fraction of the median (0.1: 10 % slower
    /// at the end than at the start).
    func riseOverRun(trials: Int, median: Double) -> Double {
        median > 0 ? slopeSecondsPerTrial * Double(max(trials - 1, 0)) / median : 0
    }
}
