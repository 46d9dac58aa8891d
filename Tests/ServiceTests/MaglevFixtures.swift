import ServiceBalancing

/// `count` backends named `backend-0`, `backend-1`, … of weight 1.
func equalBackends(_ count: Int) -> [MaglevBackend] {
    (0..<count).map { MaglevBackend(name: "backend-\($0)") }
}
