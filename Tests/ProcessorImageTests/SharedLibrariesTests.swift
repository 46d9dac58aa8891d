import Foundation
import Testing
@testable import ProcessorImage

@Suite struct SharedLibrariesTests {
    @Test func parsesLddOutput() throws {
        let output = """
            \tlinux-vdso.so.1 (0x00007ffd5b9f2000)
            \tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f1db7749000)
            \tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f1db3a00000)
            \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f1db7729000)
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1db3c1e000)
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f1db783d000)

            """
        #expect(try SharedLibraries.parse(lddOutput: output) == [
            "/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib/x86_64-linux-gnu/libgcc_s.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2",
        ])
    }

    @Test func aMissingLibraryIsAnError() {
        let output = "\tlibcurl.so.4 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n"
        #expect(throws: ProcessorImageError.sharedLibraryNotFound(binary: "vp-agent", library: "libcurl.so.4")) {
            try SharedLibraries.parse(lddOutput: output, binary: "vp-agent")
        }
    }

    @Test func staticBinariesNeedNothing() throws {
        #expect(try SharedLibraries.parse(lddOutput: "\tstatically linked\n").isEmpty)
    }

    @Test(.enabled(if: HostTools.has("/bin/busybox"), "needs busybox-static"))
    func staticBusyboxNeedsNothing() throws {
        #expect(try SharedLibraries.of(binary: "/bin/busybox").isEmpty)
    }

    @Test(.enabled(if: HostTools.has("/usr/bin/env"), "needs /usr/bin/env"))
    func findsTheLoaderAndLibcOfARealBinary() throws {
        let libraries = try SharedLibraries.of(binary: "/usr/bin/env")
        #expect(libraries.contains { $0.hasSuffix("/libc.so.6") })
        #expect(libraries.contains { $0.contains("ld-linux") })
    }
}
