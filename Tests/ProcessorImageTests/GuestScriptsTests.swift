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

    @Test func udhcpcScriptAssignsAddressesAndRoutesOnlyThroughAnOfferedRouter() {
        let script = GuestScripts.udhcpcScript
        #expect(script.contains("ip addr add \"$ip/$prefix\""))
        #expect(script.contains("first_router=\"${router%% *}\""))
        #expect(script.contains("if [ -n \"$first_router\" ]; then"))
        #expect(!script.contains("route add"))
        #expect(!script.contains("resolv.conf"))
    }

    /// The default route is set after the address (its gateway must be on-link by then), and
    /// outside the "address is new" branch, so that a renew re-applies it.
    @Test func udhcpcScriptSetsTheDefaultRouteAfterTheAddress() throws {
        let lines = GuestScripts.udhcpcScript.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let route = try #require(lines.firstIndex {
            $0.contains("ip route replace default via \"$first_router\" dev \"$interface\"")
        })
        let add = try #require(lines.firstIndex { $0.hasPrefix("ip addr add ") })
        let endOfAddressBranch = try #require(lines[add...].firstIndex(of: "fi"))
        let endOfCase = try #require(lines[add...].firstIndex(of: ";;"))
        #expect(add < endOfAddressBranch && endOfAddressBranch < route && route < endOfCase)
        #expect(lines.filter { $0.contains("ip route") }.count == 1)
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
    /// `addressPresent`: what `ip -4 addr show` answers.
    private func runUdhcpcScript(_ event: String, router: String?, addressPresent: String = "") throws -> [String] {
        let dir = try temporaryDirectory()
        try GuestScripts.udhcpcScript.write(toFile: dir + "/script", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try """
            #!/bin/sh
            echo "ip $*" >> \(dir)/calls
            [ "$*" = "-4 addr show dev eth1" ] && echo "    inet \(addressPresent) brd 10.1.2.255 scope global eth1"
            exit 0

            """.write(toFile: dir + "/bin/ip", atomically: true, encoding: .utf8)
        // The gratuitous ARP must not go out from the test host.
        try "#!/bin/sh\nexit 0\n".write(toFile: dir + "/bin/arping", atomically: true, encoding: .utf8)
        for tool in ["ip", "arping"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/bin/" + tool)
        }
        var environment = ["PATH": "\(dir)/bin:/usr/bin:/bin", "interface": "eth1", "ip": "10.1.2.3",
                           "mask": "24", "broadcast": "10.1.2.255"]
        environment["router"] = router
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [dir + "/script", event]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let calls = (try? String(contentsOfFile: dir + "/calls", encoding: .utf8)) ?? ""
        return calls.split(separator: "\n").map(String.init)
    }

    @Test(.enabled(if: HostTools.has("/bin/sh"), "needs /bin/sh"))
    func udhcpcScriptBoundSetsTheAddressThenTheRoute() throws {
        #expect(try runUdhcpcScript("bound", router: "10.1.2.1") == [
            "ip -4 addr show dev eth1", "ip -4 addr flush dev eth1",
            "ip addr add 10.1.2.3/24 broadcast 10.1.2.255 dev eth1",
            "ip route replace default via 10.1.2.1 dev eth1",
        ])
    }

    @Test(.enabled(if: HostTools.has("/bin/sh"), "needs /bin/sh"))
    func udhcpcScriptUsesTheFirstOfSeveralRouters() throws {
        let calls = try runUdhcpcScript("bound", router: "10.1.2.1 10.1.2.254")
        #expect(calls.last == "ip route replace default via 10.1.2.1 dev eth1")
    }

    /// Isolated LANs: no router offered (unset, or an empty option 3), no route.
    @Test(.enabled(if: HostTools.has("/bin/sh"), "needs /bin/sh"))
    func udhcpcScriptAddsNoRouteWithoutARouter() throws {
        for router in [nil, ""] as [String?] {
            #expect(try runUdhcpcScript("bound", router: router) == [
                "ip -4 addr show dev eth1", "ip -4 addr flush dev eth1",
                "ip addr add 10.1.2.3/24 broadcast 10.1.2.255 dev eth1",
            ])
        }
    }

    /// A renew with the address already in place leaves it alone but re-applies the route.
    @Test(.enabled(if: HostTools.has("/bin/sh"), "needs /bin/sh"))
    func udhcpcScriptRenewKeepsTheAddressAndReappliesTheRoute() throws {
        #expect(try runUdhcpcScript("renew", router: "10.1.2.1", addressPresent: "10.1.2.3/24") == [
            "ip -4 addr show dev eth1", "ip route replace default via 10.1.2.1 dev eth1",
        ])
    }

    @Test(.enabled(if: HostTools.has("/bin/sh"), "needs /bin/sh"))
    func udhcpcScriptDeconfigOnlyFlushes() throws {
        #expect(try runUdhcpcScript("deconfig", router: "10.1.2.1") == [
            "ip link set dev eth1 up", "ip -4 addr flush dev eth1",
        ])
    }
}
