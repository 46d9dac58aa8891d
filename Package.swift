// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "VirtualPlatform",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vpctl", targets: ["vpctl"]),
        .executable(name: "vp-agent", targets: ["VPAgent"]),
        .executable(name: "vp-bench", targets: ["VPBench"]),
        .library(name: "Libvirt", targets: ["Libvirt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),  // LogHandler.log(event:)
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-hummingbird", from: "2.1.0"),
    ],
    targets: [
        // C API of libvirt (apt: libvirt-dev).
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        // Typed, memory-safe Swift binding over the libvirt C API.
        .target(name: "Libvirt", dependencies: ["CLibvirt", "SystemSupport"]),
        // XML documents for libvirt objects: written from values (escaped) and read back, without Foundation's XML.
        .target(name: "LibvirtXML"),
        // Running programs (posix_spawn, argument arrays, never a shell), Duration → milliseconds and
        // the error kinds every module throws with: Glibc only, so that the in-guest agent and the
        // libvirt binding can use it too.
        .target(name: "SystemSupport"),
        // Wire formats shared by the controller and the in-guest agent.
        .target(name: "AgentProtocol", dependencies: ["SystemSupport"]),
        // Controller-side client of the agent: HTTP report and heartbeat probe.
        .target(name: "AgentClient", dependencies: ["AgentProtocol", "SystemSupport"]),
        // The in-guest agent (runs inside every processor).
        .executableTarget(
            name: "VPAgent",
            dependencies: [
                "AgentProtocol",
                "SystemSupport",
                // FlyingSocks only: FlyingFox's HTTP server links FoundationNetworking (libcurl),
                // which a --static-swift-stdlib guest binary cannot carry.
                .product(name: "FlyingSocks", package: "FlyingFox"),
            ]
        ),
        // Builds the bootable processor image (kernel + initramfs + agent).
        .target(name: "ProcessorImage", dependencies: ["AgentProtocol", "SystemSupport"]),
        // Host checks behind `vpctl doctor`.
        .target(name: "HostDoctor", dependencies: ["CProcessWatch", "Libvirt", "LibvirtXML", "ProcessorImage", "ServiceDataPlane", "SystemSupport"]),
        // The platform definition: schema, YAML loading with line numbers, validation.
        .target(name: "PlatformModel", dependencies: ["SystemSupport", .product(name: "Yams", package: "Yams")]),
        // libFuzzer target for the loader and validator (scripts/fuzz.sh builds it with -sanitize=fuzzer in
        // .build-fuzz; a plain build gives a tool that replays the files it is given).
        .executableTarget(name: "PlatformLoaderFuzz", dependencies: ["PlatformModel"], path: "Fuzz/PlatformLoaderFuzz"),
        // Definition + memory → the libvirt objects the platform wants (pure, golden-tested).
        .target(name: "PlatformRender", dependencies: ["PlatformModel", "LibvirtXML"]),
        // Plans and applies the difference between the desired state and libvirt.
        .target(name: "Reconciler", dependencies: ["Libvirt", "LibvirtXML", "PlatformModel", "PlatformRender", "SystemSupport"]),
        // The controller's memory behind the PlatformStore protocol (Protocol/): bindings, allocations,
        // journal, moves, locks; in embedded SQLite via GRDB (SQLite/) or in memory for unit tests (InMemory/).
        .target(
            name: "StateStore",
            dependencies: ["PlatformModel", "SystemSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The platform as one object: load + validate, plan, apply, destroy, status.
        .target(
            name: "PlatformEngine",
            dependencies: ["PlatformModel", "PlatformRender", "Reconciler", "StateStore", "Libvirt", "HostDoctor",
                           "ProcessorImage", "ServiceControl", "ServiceDataPlane", "SystemSupport"]
        ),
        // pidfd_open(2) for watching QEMU processes exit.
        .target(name: "CProcessWatch"),
        // The `Host` seam: what the controller needs of one libvirt host (domains, their devices,
        // hot-plug, power, the QEMU process watch, fencing); its libvirt implementation.
        .target(name: "Hosts", dependencies: ["Libvirt", "LibvirtXML", "SystemSupport"]),
        // FakeHost: simulated domains in memory for unit tests, with a call record, injected
        // faults and hangs, and the platform's invariants checked at every call.
        .target(name: "HostsTesting", dependencies: ["Hosts", "Libvirt", "LibvirtXML", "SystemSupport"]),
        // Failure detection (libvirt events, multi-path heartbeats) and the journaled move of a
        // personality to a standby: `vpctl serve`, failover, fence, repair.
        .target(
            name: "Failover",
            dependencies: ["AgentProtocol", "CProcessWatch", "Hosts", "Libvirt", "LibvirtXML", "PlatformModel", "PlatformRender",
                           "Reconciler", "StateStore", "ServiceControl", "SystemSupport", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle")]
        ),
        // The controller's metrics in Prometheus' text format (what an HTTP `/metrics` route serves).
        .target(
            name: "MetricsExport",
            dependencies: [.product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        // Service IPs, pure: Maglev lookup tables and per-client ordered address lists (reference 003).
        .target(name: "ServiceBalancing", dependencies: ["PlatformModel", "SystemSupport"]),
        // The host's nftables through libnftables' JSON interface (loaded at run time).
        .target(name: "NFTables", dependencies: ["SystemSupport"]),
        // The kernel data plane of service IPs: the platform's nftables table, conntrack.
        .target(name: "ServiceDataPlane", dependencies: ["NFTables", "PlatformModel", "SystemSupport"]),
        // Service IPs of a platform: members, health, Maglev tables, ordered address lists, and
        // keeping the data plane in step with them.
        .target(
            name: "ServiceControl",
            dependencies: ["PlatformModel", "StateStore", "ServiceBalancing", "ServiceDataPlane", "SystemSupport"]
        ),
        // Test networks: client namespaces routed through the host, and a load client that sends
        // requests from many source addresses (end-to-end tests and benchmarks).
        .target(name: "NetLab", dependencies: ["SystemSupport"]),
        // The fault matrix's checks, pure: double carriers in sampled domains, disk markers,
        // false declarations, silences of a service, a run's verdict.
        .target(name: "FaultCheck"),
        // One processor on its own network, for trying the image and for real-guest tests.
        .target(
            name: "TrialProcessor",
            dependencies: ["AgentProtocol", "Libvirt", "LibvirtXML", "AgentClient", "ProcessorImage", "HostDoctor", "SystemSupport"]
        ),
        // Tables, JSON and progress lines, and the SIGINT/SIGTERM hand-over, for vpctl and vp-bench alike.
        .target(name: "CommandOutput", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser"),
                                                     .product(name: "Logging", package: "swift-log")]),
        // What the admin API's server and client share: request and response bodies, problem
        // details, the JSON encoding, the socket probe.
        .target(name: "AdminProtocol", dependencies: ["PlatformModel"]),
        // The client of a running `vpctl serve`'s admin API (AsyncHTTPClient, http+unix or TCP with
        // the bearer token), and the rule for going through the daemon or working directly.
        .target(
            name: "AdminClient",
            dependencies: ["AdminProtocol", "PlatformEngine", "ServiceControl", "StateStore", "SystemSupport",
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        // The HTTP admin API of `vpctl serve` (Hummingbird 2): a Unix socket by default, TCP with a
        // bearer token, versioned JSON under /v1, the event stream, problem details, /metrics.
        // Its types and routes are generated from openapi.yaml at build time (swift-openapi-generator's
        // build plugin); the document itself is also served, at /openapi.yaml.
        .target(
            name: "AdminAPI",
            dependencies: ["ServiceControl", "Reconciler", "AdminProtocol", "PlatformEngine", "PlatformModel", "Failover", "Hosts", "StateStore", "SystemSupport",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                           .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")],
            // In the binary itself: a vpctl copied elsewhere has no resource bundle beside it.
            resources: [.embedInCode("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The administrator CLI.
        .executableTarget(
            name: "vpctl",
            dependencies: [
                "Libvirt", "AgentProtocol", "ProcessorImage", "HostDoctor",
                "TrialProcessor", "PlatformModel", "PlatformEngine", "Reconciler", "Failover", "StateStore",
                "ServiceControl", "CommandOutput", "MetricsExport", "AdminAPI", "SystemSupport",
                "AdminClient", "AdminProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A platform of its own for a benchmark or an end-to-end test: its definition and state in a
        // directory of its own, bring-up waits, the failover service in-process or `vpctl serve` as
        // a child, teardown that stops the children first.
        .target(
            name: "PlatformHarness",
            dependencies: ["PlatformModel", "Failover", "Hosts", "PlatformEngine", "PlatformRender", "StateStore",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/PlatformHarness"
        ),
        // `vp-bench`: the benchmarks of the platform's bars, apart from the admin CLI (like
        // swift-nio's NIOPerformanceTester).
        .executableTarget(
            name: "VPBench",
            dependencies: [
                "SystemSupport", "PlatformHarness", "CommandOutput", "Libvirt", "LibvirtXML", "AgentProtocol", "AgentClient", "ProcessorImage",
                "TrialProcessor", "PlatformModel", "PlatformRender", "PlatformEngine", "Reconciler", "Failover", "Hosts", "StateStore",
                "ServiceBalancing", "ServiceDataPlane", "ServiceControl", "NetLab", "FaultCheck", "AdminAPI", "AdminClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                // The admin API's client in the API benches (over its Unix socket).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Benchmarks/VPBench"
        ),
        // Shared by the test targets: deadlines for every wait.
        .target(name: "TestSupport", dependencies: ["SystemSupport"], path: "Tests/TestSupport"),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt", "LibvirtXML", "SystemSupport", "TestSupport"]),
        // Pure logic of the image builder: cpio writer, module order, ldd parsing, guest scripts.
        .testTarget(name: "ProcessorImageTests", dependencies: ["ProcessorImage", "AgentProtocol"]),
        .testTarget(
            name: "PlatformTests",
            dependencies: ["PlatformModel", "PlatformRender", "PlatformEngine", "Reconciler", "StateStore", "Libvirt",
                           "LibvirtXML", "HostDoctor", "ServiceDataPlane", "NFTables", "SystemSupport", "TestSupport"],
            exclude: ["Golden"]
        ),
        // The PlatformStore contract, on every implementation; what only the SQLite store promises.
        .testTarget(name: "StoreTests", dependencies: [.product(name: "GRDB", package: "GRDB.swift"), "StateStore", "PlatformModel", "SystemSupport", "TestSupport"]),
        // Pure failover logic: the destination address table, standby choice, the move journal.
        .testTarget(name: "FailoverTests", dependencies: [.product(name: "Logging", package: "swift-log"), "LibvirtXML", .product(name: "GRDB", package: "GRDB.swift"), "AgentProtocol", "Failover", "Hosts", "HostsTesting", "StateStore", "PlatformModel", "PlatformRender", "TestSupport",
                                                         "MetricsExport", "Libvirt", "SystemSupport", "CommandOutput",
                                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // The test-platform harness on libvirt's test driver.
        .testTarget(name: "PlatformHarnessTests", dependencies: ["PlatformHarness", "PlatformModel", "Libvirt"]),
        // vp-bench's own logic: the throughput bench's service through the controller's rules.
        .testTarget(name: "BenchTests", dependencies: ["VPBench", "PlatformModel", "ServiceDataPlane"]),
        // The fault matrix's checker, with scripted samples.
        .testTarget(name: "FaultCheckTests", dependencies: ["FaultCheck"]),
        // Pure service-IP logic: Maglev tables, address ordering.
        .testTarget(name: "ServiceTests", dependencies: ["ServiceBalancing", "ServiceDataPlane", "ServiceControl", "NFTables",
                                                        "PlatformModel", "StateStore"]),
        // The admin API's routes in-process, and its socket and token rules for real.
        .testTarget(
            name: "AdminAPITests",
            dependencies: ["AdminAPI", "PlatformEngine", "PlatformModel", "Reconciler", "Failover", "Libvirt", "StateStore", "SystemSupport", "TestSupport",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        // vpctl's commands through a running daemon and directly: the same output; the rule between them.
        .testTarget(
            name: "CLITests",
            dependencies: ["vpctl", "AdminAPI", "AdminClient", "CommandOutput", "PlatformEngine", "StateStore", "TestSupport"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["AdminClient", "AdminProtocol", "PlatformRender", "HostDoctor", "Libvirt", "LibvirtXML", "AgentProtocol", "AgentClient", "ProcessorImage",
                           "TrialProcessor", "PlatformEngine", "PlatformModel", "Failover", "Hosts", "Reconciler", "StateStore",
                           "ServiceControl", "ServiceDataPlane", "NFTables", "NetLab", "SystemSupport", "PlatformHarness", "TestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
