import ArgumentParser
import CommandOutput
import Foundation
import PlatformEngine
import PlatformModel
import ServiceControl
import SystemSupport

struct ServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Service IPs: members, health, shares of the lookup table, per-client address lists.",
        discussion: """
            A service IP's connections and datagrams are sent by the host kernel (nftables) to one healthy member, \
            chosen from the source by a Maglev lookup table. `vpctl serve` keeps the table in step with failures and moves.
            """,
        subcommands: [ServiceList.self, ServiceShow.self, ServiceAddresses.self])
}

func serviceTable(_ services: [ServiceReport]) -> Table {
    var table = Table("NAME", "ENDPOINT", "VLAN", "MEMBERS", "HEALTHY", "IN KERNEL")
    for s in services {
        table.add(s.name, s.endpoint, s.vlan, s.members.map(\.personality).joined(separator: ","),
                  "\(s.members.filter(\.healthy).count)/\(s.members.count)",
                  s.installed.map { $0 ? "yes" : "no" } ?? "?")
    }
    return table
}

struct ServiceList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every service IP of the platform.",
                                                    discussion: daemonDiscussion)
    @OptionGroup var platform: PlatformOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        print(try Self.text(try await platform.access(daemon).services(), format: output.format))
    }

    static func text(_ services: [ServiceReport], format: OutputFormat) throws -> String {
        if format == .json { return try JSONOutput.text(services) }
        if services.isEmpty { return "the platform defines no service IPs" }
        return ([serviceTable(services).render()] + services.compactMap { s in s.note.map { "\(s.name): \($0)" } }).joined(separator: "\n")
    }
}

struct ServiceShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "One service: each member's processor, backend address, health and share of the table.",
        discussion: daemonDiscussion)
    @OptionGroup var platform: PlatformOptions
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "Service name.") var service: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        print(try Self.text(try await platform.access(daemon).services(), service: service, format: output.format))
    }

    static func text(_ services: [ServiceReport], service: String, format: OutputFormat) throws -> String {
        guard let s = services.first(where: { $0.name == service }) else {
            throw PlatformError(.notFound, "service '\(service)'", "not in the platform (services: \(services.map(\.name).joined(separator: ", ")))")
        }
        if format == .json { return try JSONOutput.text(s) }
        var out = ["\(s.name): \(s.endpoint), members reached on VLAN \(s.vlan); source \(s.hashSourcePort ? "address and port" : "address") hashed into \(s.tableSize) slots"]
        if let check = s.healthCheck { out.append("health check: \(check)") }
        if let note = s.note { out.append("note: \(note)") }
        var table = Table("MEMBER", "PROCESSOR", "BACKEND", "WEIGHT", "HEALTH", "SLOTS", "SHARE")
        for m in s.members {
            table.add(m.personality, m.processor ?? "-", m.backend, String(m.weight), m.healthy ? "healthy" : (m.reason ?? "unhealthy"),
                      String(m.slots), String(format: "%.1f%%", m.share * 100))
        }
        out.append(table.render())
        return out.joined(separator: "\n")
    }
}

struct ServiceAddresses: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addresses",
        abstract: "A service's addresses in the order one processor should try them (reference 003).",
        discussion: "Its own addresses first; then by the service's networkPriority (highest first) when set, else by hop distance; equally good addresses are sorted and rotated by the processor's node number so clients spread over them.\n\n" + daemonDiscussion)
    @OptionGroup var platform: PlatformOptions
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "Service name.") var service: String
    @Option(name: .customLong("for"), help: "The client processor.") var processor: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let definition = try PlatformLoader.load(path: platform.file).definition
        guard definition.services?.contains(where: { $0.name == service }) == true else {
            throw PlatformError(.notFound, "service '\(service)'", "not in the platform")
        }
        guard definition.processors.members.contains(where: { $0.name == processor }) else {
            throw PlatformError(.notFound, "processor '\(processor)'", "not in the platform")
        }
        let text = try Self.text(try await platform.access(daemon).addressLists(), service: service, processor: processor, format: output.format)
        if let text { print(text) }
    }

    /// Nil when the lists have none of `service` for `processor` (the definition in force may differ from the file's).
    static func text(_ lists: [AddressList], service: String, processor: String, format: OutputFormat) throws -> String? {
        guard let list = lists.first(where: { $0.service == service && $0.client == processor }) else { return nil }
        if format == .json { return try JSONOutput.text(list) }
        var out = ["\(service) for \(processor) (node \(list.node)):"]
        var table = Table("#", "ADDRESS", "VLAN", "MEMBER", "PROCESSOR", "WHY HERE")
        for (i, a) in list.addresses.enumerated() {
            let why = a.local ? "local" : a.priority.map { "network priority \($0)" } ?? "\(a.hops) hop\(a.hops == 1 ? "" : "s")"
            table.add(String(i + 1), a.address, a.vlan, a.personality, a.processor ?? "-", why)
        }
        out.append(table.render())
        for (address, why) in list.excluded.sorted(by: { $0.key < $1.key }) { out.append("left out \(address): \(why)") }
        return out.joined(separator: "\n")
    }
}
