import Foundation
import Testing
@testable import ProcessorImage

@Suite struct GuestScriptsTests {
    static let modules = [
        KernelModules.Module(name: "virtio", path: "kernel/drivers/virtio/virtio.ko", optional: false),
        KernelModules.Module(name: "crc32c_intel", path: "kernel/arch/x86/crypto/crc32c-intel.ko", optional: true),
        KernelModules.Module(name: "ext4", path: "kernel/fs/ext4/ext4.ko", optional: false),
    ]
    static let initScript = GuestScripts.initScript(kernelVersion: "6.1.0-56-amd64", modules: modules)

    @Test func initMountsKernelFilesystemsBeforeLoadingModules() {
        let lines = Self.initScript.split(separator: "\n").map(String.init)
        #expect(lines.first == "#!/bin/sh")
        let proc = lines.firstIndex(of: "mount -t proc proc /proc")!
        let sys = lines.firstIndex(of: "mount -t sysfs sysfs /sys")!
        let dev = lines.firstIndex(of: "mount -t devtmpfs devtmpfs /dev")!
        let firstInsmod = lines.firstIndex { $0.hasPrefix("insmod ") }!
        #expect(proc < firstInsmod && sys < firstInsmod && dev < firstInsmod)
    }

    @Test func initLoadsModulesInTheGivenOrderFromTheKernelsDirectory() {
        let insmods = Self.initScript.split(separator: "\n").filter { $0.hasPrefix("insmod ") }
        #expect(insmods == [
            "insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio.ko || echo \"init: cannot load virtio\"",
            "insmod /lib/modules/6.1.0-56-amd64/kernel/arch/x86/crypto/crc32c-intel.ko 2>/dev/null || true",
            "insmod /lib/modules/6.1.0-56-amd64/kernel/fs/ext4/ext4.ko || echo \"init: cannot load ext4\"",
        ])
    }

    @Test func initNamesTheHostRaisesLoopbackAndRestartsTheAgentForever() {
        let script = Self.initScript
        #expect(script.contains("ip link set lo up"))
        #expect(script.contains("vp.name=?*) name=\"${arg#vp.name=}\""))
        #expect(script.contains("hostname \"$name\""))
        #expect(script.contains("while true; do\n    /bin/vp-agent\n"))
        #expect(script.contains("sleep 1\ndone\n"))
        #expect(!script.contains("exec /bin/vp-agent"))   // PID 1 must outlive the agent
    }

    @Test func udhcpcScriptAssignsAddressesAndNeverRoutes() {
        let script = GuestScripts.udhcpcScript
        #expect(script.contains("ip addr add \"$ip/$prefix\""))
        #expect(!script.contains("ip route") && !script.contains("route add") && !script.contains("$router"))
        #expect(!script.contains("resolv.conf"))
    }

    @Test func scriptsAreValidShell() throws {
        for (name, text) in [("init", Self.initScript), ("udhcpc", GuestScripts.udhcpcScript)] {
            for shell in ["/bin/busybox", "/bin/sh"] where FileManager.default.isExecutableFile(atPath: shell) {
                let dir = try temporaryDirectory()
                let path = dir + "/" + name
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: shell)
                process.arguments = (shell.hasSuffix("busybox") ? ["sh"] : []) + ["-n", path]
                try process.run()
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "\(shell) -n \(name)")
            }
        }
    }

    /// The udhcpc script, run for real with `ip` replaced by a recorder: what would it do?
    @Test func udhcpcScriptBoundRecordsTheAddress() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/sh") else { return }
        let dir = try temporaryDirectory()
        try GuestScripts.udhcpcScript.write(toFile: dir + "/script", atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho \"ip $*\" >> \(dir)/calls\n".write(toFile: dir + "/ip", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/ip")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [dir + "/script", "bound"]
        process.environment = ["PATH": "\(dir):/usr/bin:/bin", "interface": "eth1", "ip": "10.1.2.3",
                               "mask": "24", "broadcast": "10.1.2.255", "router": "10.1.2.1"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let calls = try String(contentsOfFile: dir + "/calls", encoding: .utf8).split(separator: "\n")
        #expect(calls == ["ip -4 addr show dev eth1", "ip -4 addr flush dev eth1",
                          "ip addr add 10.1.2.3/24 broadcast 10.1.2.255 dev eth1"])
    }
}
