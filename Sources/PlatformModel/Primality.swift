/// Whether `n` is a prime number (trial division by 6k ± 1; table sizes are small enough for that).
///
/// Why Maglev needs it: with a prime table size every skip in 1..<size is coprime to the size,
/// so each backend's preference list visits every slot exactly once.
public func isPrime(_ n: Int) -> Bool {
    if n < 2 { return false }
    if n < 4 { return true }
    if n % 2 == 0 || n % 3 == 0 { return false }
    var divisor = 5
    while divisor <= n / divisor {
        if n % divisor == 0 || n % (divisor + 2) == 0 { return false }
        divisor += 6
    }
    return true
}
