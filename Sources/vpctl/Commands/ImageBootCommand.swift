import AgentProtocol
import ArgumentParser
import CommandOutput
import Foundation
import Libvirt
import ProcessorImage
import TrialProcessor

struct ImageBootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot one processor from the image on its own network and show what its agent reports.",
        discussion: """
            Defines an isolated libvirt network and a processor domain, boots it, and waits until \
            its agent answers with a DHCP address. The processor keeps running; remove it with \
            `vpctl image boot --remove`.
            """
    )

    @Option(help: "libvirt URI of the host.")
    var uri = "qemu:///system"

    @Option(help: "Name of the processor domain (also names its network).")
    var name = "vp-try"

    @Option(help: "Directory of the processor image.")
    var image = ProcessorImage.defaultDirectory

    @Option(help: "Seconds to wait for the agent.")
    var timeout = 60

    @Flag(help: "Remove the processor and its network instead of booting.")
    var remove = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let trial = TrialProcessor(name: name, network: name, image: ProcessorImage(directory: image))
        let connection = try Connection(uri: uri)
        defer { connection.close() }
        if remove {
            try trial.remove(connection)
            print("removed processor '\(name)' and network '\(name)'")
            return
        }
        let booted = try await trial.boot(connection, timeout: .seconds(timeout), progress: Progress.say)
        switch output.format {
        case .json:
            try JSONOutput.print(BootResult(processor: name, address: booted.address, domainType: booted.domainType,
                                            bootSeconds: booted.bootSeconds, report: booted.report))
        case .table:
            print("processor '\(name)' is up: agent answered after \(String(format: "%.1f", booted.bootSeconds)) s (domain type \(booted.domainType))")
            print("report: curl http://\(booted.address):\(AgentPorts.http)/v1/report\n")
            var table = Table("INTERFACE", "MAC", "ADDRESSES")
            for nic in booted.report.interfaces { table.add(nic.name, nic.mac, nic.addresses.joined(separator: ", ")) }
            print(table.render())
            print("\nremove with: vpctl image boot --remove --name \(name)")
        }
    }

    struct BootResult: Encodable {
        var processor: String
        var address: String
        var domainType: String
        var bootSeconds: Double
        var report: AgentReport
    }
}
