import ArgumentParser

@main
struct VPCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpctl",
        abstract: "Controller for VirtualPlatform: processors, virtual LANs, storage, failover, service IPs.",
        discussion: ExitCodes.table,
        subcommands: [
            PlanCommand.self, ApplyCommand.self, StatusCommand.self, DestroyCommand.self,
            ServiceCommand.self, ServeCommand.self, FailoverCommand.self, FenceCommand.self, RepairCommand.self, EventsCommand.self,
            DoctorCommand.self, ImageCommand.self,
        ]
    )
}
