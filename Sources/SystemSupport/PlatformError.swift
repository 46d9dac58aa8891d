/// An error of the platform: its kind, the object it is about, the field where it applies and the
/// cause. `description` reads as a sentence for a person:
/// "processor 'p3': not in the platform definition",
/// "service 'web', field 'members': they share no VLAN".
public struct PlatformError: KindedError, Sendable, Equatable {
    public var kind: ErrorKind
    public var object: String?
    public var field: String?
    public var cause: String

    public init(_ kind: ErrorKind, _ object: String?, field: String? = nil, _ cause: String) {
        self.kind = kind; self.object = object; self.field = field; self.cause = cause
    }

    public var description: String {
        switch (object, field) {
        case let (object?, field?): return "\(object), field '\(field)': \(cause)"
        case let (object?, nil): return "\(object): \(cause)"
        case let (nil, field?): return "field '\(field)': \(cause)"
        case (nil, nil): return cause
        }
    }

    public static func invalidInput(_ object: String?, field: String? = nil, _ cause: String) -> PlatformError {
        PlatformError(.invalidInput, object, field: field, cause)
    }
    public static func notFound(_ object: String?, _ cause: String) -> PlatformError { PlatformError(.notFound, object, cause) }
    public static func conflict(_ object: String?, _ cause: String) -> PlatformError { PlatformError(.conflict, object, cause) }
    public static func unavailable(_ object: String?, _ cause: String) -> PlatformError { PlatformError(.unavailable, object, cause) }
    public static func `internal`(_ object: String?, _ cause: String) -> PlatformError { PlatformError(.internal, object, cause) }
}
