import ArgumentParser

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Build and inspect the processor image."
    )
}
