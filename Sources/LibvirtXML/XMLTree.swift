/// A small value-type description of an XML element. Markup is only ever made from these values
/// by `render()` (XMLTree+Rendering.swift), which escapes every value: nothing is pasted into markup.
public struct XMLTree: Sendable, Equatable {
    public var name: String
    /// Attributes in the order they are rendered (deterministic output).
    public var attributes: [(String, String)]
    public var text: String?
    public var children: [XMLTree]

    public init(_ name: String, _ attributes: KeyValuePairs<String, String> = [:],
                text: String? = nil, children: [XMLTree] = []) {
        self.name = name
        self.attributes = attributes.map { ($0.key, $0.value) }
        self.text = text
        self.children = children
    }

    public init(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], @XMLBuilder children: () -> [XMLTree]) {
        self.init(name, attributes, children: children())
    }

    public static func == (a: XMLTree, b: XMLTree) -> Bool {
        a.name == b.name && a.text == b.text && a.children == b.children
            && a.attributes.map { [$0.0, $0.1] } == b.attributes.map { [$0.0, $0.1] }
    }

    /// Adds an attribute only when the value is present.
    public func attribute(_ key: String, _ value: String?) -> XMLTree {
        guard let value else { return self }
        var copy = self
        copy.attributes.append((key, value))
        return copy
    }

}

@resultBuilder
public enum XMLBuilder {
    public static func buildExpression(_ tree: XMLTree) -> [XMLTree] { [tree] }
    public static func buildExpression(_ trees: [XMLTree]) -> [XMLTree] { trees }
    public static func buildBlock(_ parts: [XMLTree]...) -> [XMLTree] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [XMLTree]?) -> [XMLTree] { part ?? [] }
    public static func buildEither(first: [XMLTree]) -> [XMLTree] { first }
    public static func buildEither(second: [XMLTree]) -> [XMLTree] { second }
    public static func buildArray(_ parts: [[XMLTree]]) -> [XMLTree] { parts.flatMap { $0 } }
}
