import SystemSupport

/// The kind of the error `body` throws (what vpctl's exit code and the API's status follow), or
/// nil when it throws nothing.
public func kindThrown<T>(_ body: () throws -> T) -> ErrorKind? {
    do { _ = try body(); return nil } catch { return ErrorKind(of: error) }
}

public func kindThrown<T>(_ body: () async throws -> T) async -> ErrorKind? {
    do { _ = try await body(); return nil } catch { return ErrorKind(of: error) }
}
