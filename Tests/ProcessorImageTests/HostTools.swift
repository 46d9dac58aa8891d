import Foundation
import ProcessorImage

/// What these tests need from the host. A test whose tool is missing is reported as skipped, with
/// the reason, never as passed (`@Test(.enabled(if:))`).
enum HostTools {
    static func has(_ executable: String) -> Bool { FileManager.default.isExecutableFile(atPath: executable) }
    static var hasDebianKernel: Bool { !ProcessorImageBuilder.kernelVersions().isEmpty }
}
