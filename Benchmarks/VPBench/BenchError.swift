/// A benchmark could not do what it measures (not a measured failure: those are in its report).
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
