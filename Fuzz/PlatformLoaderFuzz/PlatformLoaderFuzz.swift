import Foundation
import PlatformModel

/// One input through the loader and the validator. Whatever the bytes, the only acceptable outcomes
/// are a loaded definition with its issues or `ConfigErrors`; a crash, a trap, another error or a
/// hang (libFuzzer's -timeout, see scripts/fuzz.sh) is what the fuzzer hunts.
func check(_ bytes: Data) {
    do {
        _ = Validator.validate(try PlatformLoader.parse(bytes, file: "fuzz.yaml"))
    } catch is ConfigErrors {
    } catch {
        fatalError("the loader threw something else than ConfigErrors: \(error)")
    }
}

/// libFuzzer's entry point (built with -sanitize=fuzzer by scripts/fuzz.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(data.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

#if !FUZZING
/// Without libFuzzer (a plain `swift build`), replays the files it is given, e.g. a crash the fuzzer
/// saved: `swift run PlatformLoaderFuzz .build-fuzz/artifacts/crash-…`.
@main enum Replay {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            check(try Data(contentsOf: URL(fileURLWithPath: path)))
            print("handled \(path)")
        }
    }
}
#endif
