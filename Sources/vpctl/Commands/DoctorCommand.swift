import ArgumentParser
import CommandOutput
import HostDoctor
import ProcessorImage

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that this host can run the platform.",
        discussion: """
            Checks that libvirt answers at the URI, reports the versions, boots the guest kernel once \
            per advertised domain type to find the types that really boot (nested KVM may be advertised \
            and still hang), checks nftables and the processor image. Exits non-zero when something \
            the platform needs is missing, with the fix in the message.
            """
    )

    @Option(help: "libvirt URI of the host to check.")
    var uri = "qemu:///system"

    @Option(help: "Directory of the processor image.")
    var image = ProcessorImage.defaultDirectory

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let report = await Doctor(uri: uri, image: ProcessorImage(directory: image)).run(progress: Progress.say)
        switch output.format {
        case .json:
            try JSONOutput.print(report)
        case .table:
            var table = Table("CHECK", "STATUS", "DETAIL")
            for check in report.checks {
                table.add(check.name, check.status.rawValue, check.detail)
                if let fix = check.fix, check.status != .ok { table.add("", "", "fix: \(fix)") }
            }
            print(table.render())
            if let chosen = report.chosenDomainType { print("\nprocessors on \(uri) will use domain type '\(chosen)'") }
        }
        if !report.healthy { throw ExitCode.failure }
    }
}
