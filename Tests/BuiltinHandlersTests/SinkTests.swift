import Foundation
import Testing
@testable import BuiltinHandlers

/// Runs blocking work on its own thread, so tests never block the
/// cooperative pool the code under test needs.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

func sampleEvent(_ id: String = "evt_1", body: String = #"{"order_no":"ORD-1","order_amount":20.00,"status":5}"#)
    -> EventEnvelope
{
    EventEnvelope(eventID: id, kind: "payment", merchantID: 8820250900009, orderNo: "ORD-1", type: "payin",
                  status: 5, previousStatus: 1, stale: false, attempt: 1,
                  receivedAt: Date(timeIntervalSince1970: 1_763_769_600.25), rawBody: Array(body.utf8))
}

@Suite struct EnvelopeTests {
    @Test func envelopeIsOneJSONObjectWithTheCallbackVerbatim() throws {
        let json = sampleEvent().json()
        let text = String(decoding: json, as: UTF8.self)
        #expect(!text.contains("\n"))
        #expect(text.contains(#""body":{"order_no":"ORD-1","order_amount":20.00,"status":5}"#))
        let object = try #require(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(object["event_id"] as? String == "evt_1")
        #expect(object["kind"] as? String == "payment")
        #expect((object["merchant_id"] as? NSNumber)?.int64Value == 8820250900009)
        #expect(object["status"] as? Int == 5)
        #expect(object["previous_status"] as? Int == 1)
        #expect(object["stale"] as? Bool == false)
        #expect(object["attempt"] as? Int == 1)
        #expect(object["received_at"] as? String == "2025-11-22T00:00:00.250Z")
    }

    @Test func quotingSurvivesHostileOrderNumbers() throws {
        var event = sampleEvent()
        event.orderNo = "a\"b\\c\n\u{1}"
        let object = try #require(JSONSerialization.jsonObject(with: Data(event.json())) as? [String: Any])
        #expect(object["order_no"] as? String == "a\"b\\c\n\u{1}")
    }
}

@Suite struct JSONLinesSinkTests {
    @Test func appendsOneParsableLinePerEvent() async throws {
        let path = NSTemporaryDirectory() + "jsonl-\(UUID().uuidString)/events.jsonl"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let sink = JSONLinesSink(path: path)
        for i in 0..<3 { try await sink.deliver(sampleEvent("evt_\(i)")) }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let ids = try lines.map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["event_id"] as? String
        }
        #expect(ids == ["evt_0", "evt_1", "evt_2"])
    }

    @Test func unwritablePathIsAFailureNotACrash() async {
        let sink = JSONLinesSink(path: "/proc/definitely/not/writable.jsonl")
        await #expect(throws: HandlerFailure.self) { try await sink.deliver(sampleEvent()) }
    }
}

@Suite struct ExecSinkTests {
    @Test func commandReceivesTheEventOnStdin() async throws {
        let path = NSTemporaryDirectory() + "exec-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = ExecSink(command: ["sh", "-c", "cat > \(path)"], timeout: .seconds(10))
        try await sink.deliver(sampleEvent())
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(sampleEvent().json()))
    }

    @Test func nonZeroExitIsAFailure() async {
        let sink = ExecSink(command: ["sh", "-c", "cat >/dev/null; exit 3"], timeout: .seconds(10))
        await #expect(throws: HandlerFailure.self) { try await sink.deliver(sampleEvent()) }
    }

    @Test func commandOverItsTimeoutIsKilled() async {
        let sink = ExecSink(command: ["sleep", "30"], timeout: .milliseconds(300))
        let started = ContinuousClock.now
        await #expect(throws: HandlerFailure.self) { try await sink.deliver(sampleEvent()) }
        // SIGTERM reaches it (no 2 s wait for SIGKILL): its signal mask was reset.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func missingProgramIsAFailure() async {
        let sink = ExecSink(command: ["/nonexistent/program"], timeout: .seconds(5))
        await #expect(throws: HandlerFailure.self) { try await sink.deliver(sampleEvent()) }
    }
}

/// A Standard Webhooks receiver written in Python's standard library, as an
/// independent check of our signatures. It answers 204 to a valid
/// signature, 401 otherwise, or always `status` when given.
final class PythonReceiver: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let output: FileHandle

    static let script = #"""
        import base64, hashlib, hmac, http.server, sys
        secret = base64.b64decode(sys.argv[1].removeprefix("whsec_"))
        forced = int(sys.argv[2])
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                msg_id, ts = self.headers["webhook-id"], self.headers["webhook-timestamp"]
                mac = hmac.new(secret, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
                expected = "v1," + base64.b64encode(mac).decode()
                ok = any(hmac.compare_digest(expected, s) for s in self.headers["webhook-signature"].split(" "))
                print(("valid " if ok else "invalid ") + msg_id, flush=True)
                self.send_response(forced or (204 if ok else 401))
                self.send_header("Content-Length", "0")
                self.end_headers()
            def log_message(self, *a): pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """#

    init(secret: String, status: Int = 0) throws {
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, secret, String(status)]
        process.standardOutput = pipe
        try process.run()
        output = pipe.fileHandleForReading
        port = Int(Self.readLine(output) ?? "") ?? 0
    }

    static func readLine(_ handle: FileHandle) -> String? {
        var line: [UInt8] = []
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte[0] == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte[0])
        }
    }

    func nextVerdict() async throws -> String? {
        let output = output
        return try await offPool { Self.readLine(output) }
    }

    /// SIGKILL: a child started from a Swift runtime thread inherits its
    /// blocked signal mask, so SIGTERM might never arrive.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
    }
}

@Suite struct ForwardSinkTests {
    static let secret = "whsec_" + Data("a shared secret of some length".utf8).base64EncodedString()

    @Test func forwardedEventsCarryAStandardWebhooksSignatureAPythonReceiverAccepts() async throws {
        let receiver = try await offPool { try PythonReceiver(secret: Self.secret) }
        defer { receiver.stop() }
        let sink = try ForwardSink(url: "http://127.0.0.1:\(receiver.port)/hook", secret: Self.secret, timeout: .seconds(10))
        try await sink.deliver(sampleEvent("evt_forward"))
        #expect(try await receiver.nextVerdict() == "valid evt_forward")
    }

    @Test func aWrongSecretIsRejectedByTheReceiverAndThatIsAFailure() async throws {
        let receiver = try await offPool { try PythonReceiver(secret: Self.secret) }
        defer { receiver.stop() }
        let other = "whsec_" + Data("another secret".utf8).base64EncodedString()
        let sink = try ForwardSink(url: "http://127.0.0.1:\(receiver.port)/hook", secret: other, timeout: .seconds(10))
        await #expect(throws: HandlerFailure.self) { try await sink.deliver(sampleEvent("evt_bad")) }
        #expect(try await receiver.nextVerdict() == "invalid evt_bad")
    }

    @Test func nonSuccessAnswersAndUnreachableReceiversAreFailures() async throws {
        let receiver = try await offPool { try PythonReceiver(secret: Self.secret, status: 503) }
        defer { receiver.stop() }
        let sink = try ForwardSink(url: "http://127.0.0.1:\(receiver.port)/hook", secret: Self.secret, timeout: .seconds(10))
        await #expect(throws: HandlerFailure.self) { try await sink.deliver(sampleEvent()) }
        let nowhere = try ForwardSink(url: "http://127.0.0.1:1/hook", secret: Self.secret, timeout: .seconds(5))
        await #expect(throws: HandlerFailure.self) { try await nowhere.deliver(sampleEvent()) }
    }

    @Test func malformedSecretIsRejectedUpFront() {
        #expect(throws: HandlerFailure.self) { try StandardWebhooksSigner(secret: "whsec_!!!not base64") }
    }
}
