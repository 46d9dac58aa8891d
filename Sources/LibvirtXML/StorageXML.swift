/// A directory-backed storage pool.
public struct StoragePoolSpec: Sendable, Equatable {
    public var name: String
    public var uuid: String?
    public var path: String
    public init(name: String, uuid: String? = nil, path: String) { self.name = name; self.uuid = uuid; self.path = path }

    public var tree: XMLTree {
        XMLTree("pool", ["type": "dir"]) {
            XMLTree("name", text: name)
            if let uuid { XMLTree("uuid", text: uuid) }
            XMLTree("target") { XMLTree("path", text: path) }
        }
    }
    public func render() -> String { tree.render() }
}

/// A volume in a pool.
public struct VolumeSpec: Sendable, Equatable {
    public var name: String
    public var capacityBytes: UInt64
    public var format: String
    public init(name: String, capacityBytes: UInt64, format: String = "raw") {
        self.name = name; self.capacityBytes = capacityBytes; self.format = format
    }

    public var tree: XMLTree {
        XMLTree("volume") {
            XMLTree("name", text: name)
            XMLTree("capacity", ["unit": "bytes"], text: String(capacityBytes))
            XMLTree("target") { XMLTree("format", ["type": format]) }
        }
    }
    public func render() -> String { tree.render() }
}
