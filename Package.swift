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
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
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
        .target(name: "Libvirt", dependencies: ["CLibvirt"]),
        // XML documents for libvirt objects, built with an XML builder.
        .target(name: "LibvirtXML"),
        // Running programs (posix_spawn, argument arrays, never a shell) and Duration → milliseconds:
        // Glibc only, so that the in-guest agent can use it too.
        .target(name: "SystemSupport"),
        // Wire formats shared by the controller and the in-guest agent.
        .target(name: "AgentProtocol", dependencies: ["SystemSupport"]),
        // Controller-side client of the agent: HTTP report and heartbeat probe.
        .target(name: "AgentClient", dependencies: ["AgentProtocol"]),
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
        .target(name: "HostDoctor", dependencies: ["Libvirt", "LibvirtXML", "ProcessorImage", "ServiceDataPlane", "SystemSupport"]),
        // The platform definition: schema, YAML loading with line numbers, validation.
        .target(name: "PlatformModel", dependencies: [.product(name: "Yams", package: "Yams")]),
        // libFuzzer target for the loader and validator (scripts/fuzz.sh builds it with -sanitize=fuzzer in
        // .build-fuzz; a plain build gives a tool that replays the files it is given).
        .executableTarget(name: "PlatformLoaderFuzz", dependencies: ["PlatformModel"], path: "Fuzz/PlatformLoaderFuzz"),
        // Definition + memory → the libvirt objects the platform wants (pure, golden-tested).
        .target(name: "PlatformRender", dependencies: ["PlatformModel", "LibvirtXML"]),
        // Plans and applies the difference between the desired state and libvirt.
        .target(name: "Reconciler", dependencies: ["Libvirt", "LibvirtXML", "PlatformRender", "SystemSupport"]),
        // The controller's memory behind the PlatformStore protocol (Protocol/): bindings, allocations,
        // journal, moves, locks; in embedded SQLite via GRDB (SQLite/) or in memory for unit tests (InMemory/).
        .target(
            name: "StateStore",
            dependencies: ["PlatformModel", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The platform as one object: load + validate, plan, apply, destroy, status.
        .target(
            name: "PlatformEngine",
            dependencies: ["PlatformModel", "PlatformRender", "Reconciler", "StateStore", "Libvirt", "HostDoctor",
                           "ProcessorImage", "ServiceControl", "ServiceDataPlane"]
        ),
        // pidfd_open(2) for watching QEMU processes exit.
        .target(name: "CProcessWatch"),
        // Failure detection (libvirt events, multi-path heartbeats) and the journaled move of a
        // personality to a standby: `vpctl serve`, failover, fence, repair.
        .target(
            name: "Failover",
            dependencies: ["AgentProtocol", "CProcessWatch", "Libvirt", "LibvirtXML", "PlatformModel", "PlatformRender",
                           "Reconciler", "StateStore", "ServiceControl", "SystemSupport", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle")]
        ),
        // The controller's metrics in Prometheus' text format (what an HTTP `/metrics` route serves).
        .target(
            name: "MetricsExport",
            dependencies: [.product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        // Service IPs, pure: Maglev lookup tables and per-client ordered address lists (reference 003).
        .target(name: "ServiceBalancing", dependencies: ["PlatformModel"]),
        // The host's nftables through libnftables' JSON interface (loaded at run time).
        .target(name: "NFTables"),
        // The kernel data plane of service IPs: the platform's nftables table, conntrack.
        .target(name: "ServiceDataPlane", dependencies: ["NFTables", "PlatformModel", "SystemSupport"]),
        // Service IPs of a platform: members, health, Maglev tables, ordered address lists, and
        // keeping the data plane in step with them.
        .target(
            name: "ServiceControl",
            dependencies: ["PlatformModel", "PlatformRender", "StateStore", "ServiceBalancing", "ServiceDataPlane", "SystemSupport"]
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
            dependencies: ["Libvirt", "LibvirtXML", "AgentClient", "ProcessorImage", "HostDoctor"]
        ),
        // Tables, JSON and progress lines, and the SIGINT/SIGTERM hand-over, for vpctl and vp-bench alike.
        .target(name: "CommandOutput", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The HTTP admin API of `vpctl serve` (Hummingbird 2): a Unix socket by default, TCP with a
        // bearer token, versioned JSON under /v1, the event stream, problem details, /metrics.
        // Its types and routes are generated from openapi.yaml at build time (swift-openapi-generator's
        // build plugin); the document itself is also served, at /openapi.yaml.
        .target(
            name: "AdminAPI",
            dependencies: ["PlatformEngine", "PlatformModel", "Failover", "StateStore", "ServiceControl", "Libvirt",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                           .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")],
            resources: [.copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The administrator CLI.
        .executableTarget(
            name: "vpctl",
            dependencies: [
                "Libvirt", "LibvirtXML", "AgentProtocol", "AgentClient", "ProcessorImage", "HostDoctor",
                "TrialProcessor", "PlatformModel", "PlatformEngine", "Reconciler", "Failover", "StateStore",
                "ServiceBalancing", "ServiceDataPlane", "ServiceControl", "CommandOutput", "MetricsExport", "AdminAPI",
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
            dependencies: ["AgentProtocol", "Failover", "PlatformEngine", "PlatformRender", "StateStore",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/PlatformHarness"
        ),
        // `vp-bench`: the benchmarks of the platform's bars, apart from the admin CLI (like
        // swift-nio's NIOPerformanceTester).
        .executableTarget(
            name: "VPBench",
            dependencies: [
                "PlatformHarness", "CommandOutput", "Libvirt", "LibvirtXML", "AgentProtocol", "AgentClient", "ProcessorImage",
                "TrialProcessor", "PlatformModel", "PlatformEngine", "PlatformRender", "Reconciler", "Failover", "StateStore",
                "ServiceBalancing", "ServiceDataPlane", "ServiceControl", "NetLab", "FaultCheck",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/VPBench"
        ),
        // Shared by the test targets: deadlines for every wait.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt", "LibvirtXML", "TestSupport"]),
        // Pure logic of the image builder: cpio writer, module order, ldd parsing, guest scripts.
        .testTarget(name: "ProcessorImageTests", dependencies: ["ProcessorImage", "AgentProtocol"]),
        .testTarget(
            name: "PlatformTests",
            dependencies: ["PlatformModel", "PlatformRender", "PlatformEngine", "Reconciler", "StateStore", "Libvirt",
                           "LibvirtXML", "HostDoctor", "ServiceDataPlane", "NFTables"],
            exclude: ["Golden"]
        ),
        // The PlatformStore contract, on every implementation; what only the SQLite store promises.
        .testTarget(name: "StoreTests", dependencies: ["StateStore", "PlatformModel", "TestSupport"]),
        // Pure failover logic: the destination address table, standby choice, the move journal.
        .testTarget(name: "FailoverTests", dependencies: ["Failover", "StateStore", "PlatformModel", "PlatformRender", "TestSupport",
                                                         "MetricsExport", "Libvirt",
                                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // The test-platform harness on libvirt's test driver.
        .testTarget(name: "PlatformHarnessTests", dependencies: ["PlatformHarness", "Libvirt"]),
        // vp-bench's own logic: the throughput bench's service through the controller's rules.
        .testTarget(name: "BenchTests", dependencies: ["VPBench", "ServiceDataPlane"]),
        // The fault matrix's checker, with scripted samples.
        .testTarget(name: "FaultCheckTests", dependencies: ["FaultCheck"]),
        // Pure service-IP logic: Maglev tables, address ordering.
        .testTarget(name: "ServiceTests", dependencies: ["ServiceBalancing", "ServiceDataPlane", "ServiceControl", "NFTables",
                                                        "PlatformModel", "StateStore"]),
        // The admin API's routes in-process, and its socket and token rules for real.
        .testTarget(
            name: "AdminAPITests",
            dependencies: ["AdminAPI", "PlatformEngine", "PlatformModel", "Reconciler", "Failover", "StateStore", "TestSupport",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Libvirt", "LibvirtXML", "AgentProtocol", "AgentClient", "ProcessorImage",
                           "TrialProcessor", "PlatformEngine", "PlatformModel", "Failover", "Reconciler", "StateStore",
                           "ServiceControl", "ServiceDataPlane", "NFTables", "NetLab", "SystemSupport", "PlatformHarness", "TestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
