import HostDoctor
import Testing

/// The doctor warns when libvirt's guests together weigh less than the host set-up gives them.
struct ProcessorCPUWeightTests {
    let v1 = ProcessorCPUWeight.Group(path: "/sys/fs/cgroup/cpu/machine/cpu.shares", onePerProcess: 1024)
    let v2 = ProcessorCPUWeight.Group(path: "/sys/fs/cgroup/machine.slice/cpu.weight", onePerProcess: 100)

    @Test func libvirtsDefaultWeightIsAWarningWithTheFix() {
        let check = ProcessorCPUWeight.check(v1, weight: 1024, cores: 2)
        #expect(check.status == .warning)
        #expect(check.detail.contains("the guests together weigh 1 host processes' worth of CPU (/sys/fs/cgroup/cpu/machine/cpu.shares = 1024)"))
        #expect(check.fix?.contains("echo 8192 > /sys/fs/cgroup/cpu/machine/cpu.shares") == true)
    }

    @Test func theSetUpsWeightIsOkOnV1AndV2() {
        #expect(ProcessorCPUWeight.check(v1, weight: 8192, cores: 2).status == .ok)
        #expect(ProcessorCPUWeight.check(v2, weight: 800, cores: 2).status == .ok)
        #expect(ProcessorCPUWeight.check(v2, weight: 100, cores: 2).status == .warning)
        #expect(ProcessorCPUWeight.check(v1, weight: 8192, cores: 4).status == .warning, "4 cores want 16384")
    }
}
