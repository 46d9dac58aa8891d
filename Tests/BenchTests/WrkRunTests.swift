import Testing
@testable import VPBench

/// The throughput bench reads wrk's report as wrk prints it.
@Suite struct WrkRunTests {
    static let report = """
        Running 10s test @ http://10.219.9.1/
          1 threads and 32 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency     1.02ms  310.12us   9.87ms   88.10%
            Req/Sec    31.20k     1.10k   33.00k    70.00%
          Latency Distribution
             50%  812.00us
             75%    1.20ms
             90%    1.50ms
             99%    2.10ms
          310456 requests in 10.00s, 45.12MB read
          Socket errors: connect 0, read 2, write 0, timeout 1
          Non-2xx or 3xx responses: 4
        Requests/sec:  31045.60
        Transfer/sec:      4.51MB
        """

    @Test func theFiguresAreRead() throws {
        let run = try WrkRun.parse(Self.report)
        #expect(run.requestsPerSecond == 31045.60)
        #expect(abs(run.p50Ms - 0.812) < 1e-9 && run.p99Ms == 2.10)
        #expect(run.requests == 310456 && run.non2xx == 4 && run.socketErrors == 3)
        #expect(run.socketErrorDetail == "Socket errors: connect 0, read 2, write 0, timeout 1")
    }

    @Test func anUnreadableReportIsAnError() {
        #expect(throws: BenchError.self) { try WrkRun.parse("unable to connect to 10.219.9.1:80 Connection refused") }
    }

    @Test(arguments: [("812.00us", 0.812), ("1.23ms", 1.23), ("2.00s", 2000.0), ("1.00m", 60_000.0)])
    func durationsAreMilliseconds(text: String, ms: Double) {
        #expect(abs((WrkRun.milliseconds(text) ?? -1) - ms) < 1e-9)
    }
}
