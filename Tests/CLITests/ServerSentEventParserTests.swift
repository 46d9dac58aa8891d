import AdminClient
import Testing

/// The event stream as it may arrive: cut anywhere, CR LF or LF, keep-alive comments between events.
struct ServerSentEventParserTests {
    @Test func eventsCutAnywhereComeOutWholeAndInOrder() {
        let stream = "id: 1\nevent: alert\ndata: {\"a\":1}\n\n: idle\n\nid: 2\r\ndata: first\r\ndata: second\r\n\r\nid: 3\ndata: {\"b\":\"é\"}\n\n"
        let bytes = Array(stream.utf8)
        for cut in 1..<bytes.count {
            var parser = ServerSentEventParser()
            let events = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(events == [.init(id: "1", data: #"{"a":1}"#), .init(id: "2", data: "first\nsecond"), .init(id: "3", data: #"{"b":"é"}"#)],
                    "cut at \(cut)")
        }
    }

    @Test func anEventWithoutItsEmptyLineIsNotOutYet() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: x\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)) == [.init(id: nil, data: "x")])
    }

    @Test func theIdIsTheLastOneTheStreamGave() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("id: 7\ndata: a\n\ndata: b\n\nid:8\ndata:c\n\n".utf8))
                == [.init(id: "7", data: "a"), .init(id: "7", data: "b"), .init(id: "8", data: "c")])
    }
}
