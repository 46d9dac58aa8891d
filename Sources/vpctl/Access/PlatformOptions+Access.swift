import AdminClient
import CommandOutput
import PlatformEngine
import PlatformModel

extension PlatformOptions {
    /// The platform through the daemon when one answers, else directly (`DaemonRoute`'s rules).
    func access(_ daemon: DaemonOptions) throws -> any PlatformAccess {
        let loaded = try PlatformLoader.load(path: file)
        switch try daemon.route(platform: loaded.definition.platform) {
        case .daemon(let address):
            return DaemonAccess(client: AdminClient(address: address))
        case .direct(let note):
            if let note { Progress.say(note) }
            return DirectAccess(platform: try engine(loaded: loaded), actor: administrator)
        }
    }
}
