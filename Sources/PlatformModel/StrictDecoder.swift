import Yams

/// Decodes the model from a composed YAML tree, and learns from the model which keys exist.
///
/// The model's `init(from:)` (synthesized from its CodingKeys) asks for every key it knows, present
/// or not. This decoder records each key asked at each mapping, so a key in the file that nobody
/// asked for is unknown: the set of known keys follows the types, never a hand-written list, and a
/// field added to the model is accepted without touching the loader.
///
/// It does not stop at the first problem: a missing or mistyped value is recorded and decoding goes
/// on with a placeholder (decoding from "nothing"), so every problem is reported at once. A result
/// with any recorded problem is discarded by the loader.
final class DecodingRecorder {
    struct Problem { var field: String; var message: String }
    private(set) var problems: [Problem] = []
    /// Every mapping and sequence decoded, in order, for the line table (`FieldLines`).
    private(set) var decoded: [FieldLines.Decoded] = []
    /// Every mapping decoded, with the keys the model asked of it.
    private var mappings: [(path: String, mapping: Node.Mapping, asked: Set<String>)] = []

    func problem(_ field: String, _ message: String) { problems.append(Problem(field: field, message: message)) }

    /// `mapping` is the number `register` gave the mapping.
    func ask(_ key: String, of mapping: Int) { mappings[mapping].asked.insert(key) }

    /// Notes the mapping for the line table; returns its number, for `ask`.
    func register(_ mapping: Node.Mapping, at base: String) -> Int {
        decoded.append(.mapping(base, mapping))
        mappings.append((base, mapping, []))
        return mappings.count - 1
    }

    func register(_ sequence: Node.Sequence, at base: String) { decoded.append(.sequence(base, sequence)) }

    /// Keys of decoded mappings that the model never asked for (at that path, in any decoding of it).
    func unknownKeys() -> [Problem] {
        // Nearly always each key was asked of its own mapping: only then are the others at its path looked at.
        let suspects = mappings.filter { m in m.mapping.contains { key, _ in !(key.scalar.map { m.asked.contains($0.string) } ?? false) } }
        guard !suspects.isEmpty else { return [] }
        var askedAt: [String: Set<String>] = [:]
        for m in mappings { askedAt[m.path, default: []].formUnion(m.asked) }
        return suspects.flatMap { base, mapping, _ in
            let known = askedAt[base] ?? []
            return mapping.compactMap { key, _ -> Problem? in
                guard let name = key.scalar?.string else { return Problem(field: base, message: "a key must be a plain word") }
                guard !known.contains(name) else { return nil }
                return Problem(field: join(base, name), message: KeySuggestion.unknownKeyMessage(name, known: known))
            }
        }
    }

}

/// "vlans[0]" + "id" → "vlans[0].id".
func join(_ base: String, _ name: String) -> String { base.isEmpty ? name : base + "." + name }

func fieldPath<Path: Sequence<any CodingKey>>(_ codingPath: Path) -> String {
    codingPath.reduce("") { appending($1, to: $0) }
}

/// "vlans" + 0 → "vlans[0]", "vlans[0]" + "id" → "vlans[0].id".
private func appending(_ key: any CodingKey, to path: String) -> String {
    if let i = key.intValue { return path + "[" + String(i) + "]" }
    return path.isEmpty ? key.stringValue : path + "." + key.stringValue
}

struct StrictDecoder: Decoder {
    /// nil: the value is missing or unusable (already reported); decode placeholders, report nothing.
    let node: Node?
    let codingPath: [any CodingKey]
    let recorder: DecodingRecorder
    /// The parent's field path ("vlans[0]"): this decoder's own is made from it when needed, not
    /// rebuilt from the whole coding path for every key asked.
    private let parentPath: String
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: Node?, codingPath: [any CodingKey], recorder: DecodingRecorder) {
        self.init(node: node, codingPath: codingPath, recorder: recorder, parentPath: fieldPath(codingPath.dropLast()))
    }

    private init(node: Node?, codingPath: [any CodingKey], recorder: DecodingRecorder, parentPath: String) {
        self.node = node; self.codingPath = codingPath; self.recorder = recorder; self.parentPath = parentPath
    }

    /// Where this value is, e.g. "personalities[1].nics[0]".
    var path: String { codingPath.last.map { appending($0, to: parentPath) } ?? "" }

    func child(_ node: Node?, _ key: any CodingKey) -> StrictDecoder {
        StrictDecoder(node: node, codingPath: codingPath + [key], recorder: recorder, parentPath: path)
    }

    func problem(_ message: String) { recorder.problem(path, message) }

    /// Records that the node is not the kind expected; nil means "go on with a placeholder".
    private func expect<T>(_ what: String, _ pick: (Node) -> T?) -> T? {
        guard let node else { return nil }
        if let value = pick(node) { return value }
        if case .scalar(let s) = node, YAMLScalar.isNull(s) { problem("expected \(what), found nothing") }
        else { problem("expected \(what)") }
        return nil
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let mapping = expect("a mapping") { $0.mapping }
        let path = self.path
        let number = mapping.map { recorder.register($0, at: path) }
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, path: path, mapping: mapping, number: number))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let sequence = expect("a list") { $0.sequence }
        if let sequence { recorder.register(sequence, at: path) }
        return UnkeyedContainer(decoder: self, elements: sequence ?? [])
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueContainer(decoder: self) }
}

extension StrictDecoder {
    /// One of the choice's words; any other is recorded (naming the words it accepts) and a
    /// placeholder returned, as for every other problem.
    func decodeChoice<Choice: StrictWords>(_ type: Choice.Type) -> Choice {
        let placeholder = Choice.allCases.first!
        let before = recorder.problems.count
        let word = SingleValueContainer(decoder: self).decode(String.self)
        guard node != nil, recorder.problems.count == before else { return placeholder }   // missing or not a string: reported
        guard let choice = Choice(rawValue: word) else {
            problem(Choice.problem(with: word))
            return placeholder
        }
        return choice
    }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: StrictDecoder
    /// The mapping's field path, made once for all its keys.
    let path: String
    let mapping: Node.Mapping?
    /// The mapping's number in the recorder (nil: there is no mapping).
    let number: Int?
    /// The values by key: one pass over the mapping, not a search with a new key `Node` per field.
    let values: [String: Node]
    var codingPath: [any CodingKey] { decoder.codingPath }

    init(decoder: StrictDecoder, path: String, mapping: Node.Mapping?, number: Int?) {
        self.decoder = decoder; self.path = path; self.mapping = mapping; self.number = number
        values = mapping.map(Self.values) ?? [:]
    }

    /// What Yams' `mapping[key]` gives: the value of the last key that is this string (a key
    /// tagged as anything but a string is another key).
    private static func values(of mapping: Node.Mapping) -> [String: Node] {
        var values: [String: Node] = [:]
        values.reserveCapacity(mapping.count)
        for (key, value) in mapping {
            guard case .scalar(let s) = key, YAMLScalar.explicitTag(s.tag).map({ $0 == Tag.Name.str.rawValue }) ?? true else { continue }
            values[s.string] = value
        }
        return values
    }

    var allKeys: [Key] {
        (mapping.map { Array($0.keys) } ?? []).compactMap { node in
            guard let name = node.scalar?.string else { return nil }
            if let number { decoder.recorder.ask(name, of: number) }
            return Key(stringValue: name)
        }
    }

    func value(_ key: Key) -> Node? {
        guard let number else { return nil }
        decoder.recorder.ask(key.stringValue, of: number)
        return values[key.stringValue]
    }

    func contains(_ key: Key) -> Bool { value(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let node = value(key) else { return true }
        if case .scalar(let s) = node { return YAMLScalar.isNull(s) }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let node = value(key)
        if node == nil, mapping != nil { decoder.recorder.problem(appending(key, to: path), "required field is missing") }
        return try T(from: decoder.child(node, key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(value(key), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(value(key), key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder.child(value(key), key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: StrictDecoder
    /// The sequence itself (its indices start at 0), not a copy of its nodes.
    let elements: Node.Sequence
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(decoder: StrictDecoder, elements: Node.Sequence) { self.decoder = decoder; self.elements = elements }

    mutating func next() -> StrictDecoder {
        defer { currentIndex += 1 }
        return decoder.child(isAtEnd ? nil : elements[currentIndex], IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .scalar(let s) = elements[currentIndex], YAMLScalar.isNull(s) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: next()) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { next() }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: StrictDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        guard let node = decoder.node else { return true }
        if case .scalar(let s) = node { return YAMLScalar.isNull(s) }
        return false
    }

    /// Reads the scalar with `read`; on a problem, records it and returns `placeholder`.
    private func scalar<T>(_ what: String, _ placeholder: T, _ read: (Node.Scalar) throws(YAMLScalar.Problem) -> T) -> T {
        guard let node = decoder.node else { return placeholder }
        guard case .scalar(let s) = node else { decoder.problem("expected \(what)"); return placeholder }
        if YAMLScalar.isNull(s) { decoder.problem("expected \(what), found nothing"); return placeholder }
        do { return try read(s) } catch {
            guard case .message(let message) = error else { return placeholder }
            decoder.problem(message)
            return placeholder
        }
    }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) -> T {
        scalar("an integer", 0) { s throws(YAMLScalar.Problem) in try YAMLScalar.integer(s, as: T.self) }
    }

    func decode(_ type: Bool.Type) -> Bool { scalar("true or false", false, YAMLScalar.bool) }
    func decode(_ type: String.Type) -> String { scalar("a string", "", YAMLScalar.string) }
    func decode(_ type: Double.Type) -> Double { scalar("a number", 0, YAMLScalar.double) }
    func decode(_ type: Float.Type) -> Float { Float(decode(Double.self)) }
    func decode(_ type: Int.Type) -> Int { integer(type) }
    func decode(_ type: Int8.Type) -> Int8 { integer(type) }
    func decode(_ type: Int16.Type) -> Int16 { integer(type) }
    func decode(_ type: Int32.Type) -> Int32 { integer(type) }
    func decode(_ type: Int64.Type) -> Int64 { integer(type) }
    func decode(_ type: UInt.Type) -> UInt { integer(type) }
    func decode(_ type: UInt8.Type) -> UInt8 { integer(type) }
    func decode(_ type: UInt16.Type) -> UInt16 { integer(type) }
    func decode(_ type: UInt32.Type) -> UInt32 { integer(type) }
    func decode(_ type: UInt64.Type) -> UInt64 { integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
}
