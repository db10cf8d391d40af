import ChildProcesses
import Foundation
import Synchronization
import Testing
@testable import BuiltinHandlers

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
        await #expect(throws: SinkFailure.self) { try await sink.deliver(sampleEvent()) }
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
        await #expect(throws: SinkFailure.self) { try await sink.deliver(sampleEvent()) }
    }

    /// SIGTERM itself ends the child (its signal mask was reset at spawn),
    /// not the SIGKILL sent 2 s later. Failed when the spawn blocked SIGTERM
    /// in the child: "sleep did not finish within 0.3 seconds and was
    /// stopped by SIGKILL".
    @Test func commandOverItsTimeoutIsStoppedBySIGTERM() async {
        let sink = ExecSink(command: ["sleep", "30"], timeout: .milliseconds(300))
        let started = ContinuousClock.now
        let failure = await #expect(throws: SinkFailure.self) { try await sink.deliver(sampleEvent()) }
        #expect(failure?.description.hasSuffix("was stopped by SIGTERM") == true, "\(String(describing: failure))")
        // Not before its timeout (time can only stretch, so this bound holds on a loaded machine).
        #expect(ContinuousClock.now - started >= .milliseconds(300))
    }

    @Test func missingProgramIsAFailure() async {
        let sink = ExecSink(command: ["/nonexistent/program"], timeout: .seconds(5))
        await #expect(throws: SinkFailure.self) { try await sink.deliver(sampleEvent()) }
    }
}

/// A Standard Webhooks receiver written in Python's standard library, as an
/// independent check of our signatures. It answers 204 to a valid
/// signature, 401 otherwise, or always `status` when given.
final class PythonReceiver: @unchecked Sendable {
    let child: ChildProcess
    let port: Int
    private let output: String
    private var consumed = 1

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

    private init(child: ChildProcess, port: Int, output: String) {
        self.child = child
        self.port = port
        self.output = output
    }

    static func start(secret: String, status: Int = 0) async throws -> PythonReceiver {
        let output = NSTemporaryDirectory() + "receiver-\(UUID().uuidString).out"
        let child = try ChildProcess.spawn(["python3", "-c", script, secret, String(status)], stdout: output)
        guard let first = try await line(0, of: output) else {
            child.signal(SIGKILL)
            throw SinkFailure("the Python receiver did not start")
        }
        return PythonReceiver(child: child, port: Int(first) ?? 0, output: output)
    }

    /// Line `index` of the receiver's output, waiting up to 15 s for it.
    static func line(_ index: Int, of path: String) async throws -> String? {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.count > index + 1 { return String(lines[index]) }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func nextVerdict() async throws -> String? {
        defer { consumed += 1 }
        return try await Self.line(consumed, of: output)
    }

    func stop() {
        child.signal(SIGKILL)
        unlink(output)
    }
}

@Suite struct ForwardSinkTests {
    static let secret = "whsec_" + Data("a shared secret of some length".utf8).base64EncodedString()

    @Test func forwardedEventsCarryAStandardWebhooksSignatureAPythonReceiverAccepts() async throws {
        let receiver = try await PythonReceiver.start(secret: Self.secret)
        defer { receiver.stop() }
        let sink = try ForwardSink(url: "http://127.0.0.1:\(receiver.port)/hook", secret: Self.secret, timeout: .seconds(10))
        try await sink.deliver(sampleEvent("evt_forward"))
        #expect(try await receiver.nextVerdict() == "valid evt_forward")
    }

    @Test func aWrongSecretIsRejectedByTheReceiverAndThatIsAFailure() async throws {
        let receiver = try await PythonReceiver.start(secret: Self.secret)
        defer { receiver.stop() }
        let other = "whsec_" + Data("another secret".utf8).base64EncodedString()
        let sink = try ForwardSink(url: "http://127.0.0.1:\(receiver.port)/hook", secret: other, timeout: .seconds(10))
        await #expect(throws: SinkFailure.self) { try await sink.deliver(sampleEvent("evt_bad")) }
        #expect(try await receiver.nextVerdict() == "invalid evt_bad")
    }

    @Test func nonSuccessAnswersAndUnreachableReceiversAreFailures() async throws {
        let receiver = try await PythonReceiver.start(secret: Self.secret, status: 503)
        defer { receiver.stop() }
        let sink = try ForwardSink(url: "http://127.0.0.1:\(receiver.port)/hook", secret: Self.secret, timeout: .seconds(10))
        await #expect(throws: SinkFailure.self) { try await sink.deliver(sampleEvent()) }
        let nowhere = try ForwardSink(url: "http://127.0.0.1:1/hook", secret: Self.secret, timeout: .seconds(5))
        await #expect(throws: SinkFailure.self) { try await nowhere.deliver(sampleEvent()) }
    }

    @Test func malformedSecretIsRejectedUpFront() {
        #expect(throws: SinkFailure.self) { try StandardWebhooksSigner(secret: "whsec_!!!not base64") }
    }
}

@Suite struct HardenedSinkTests {
    /// Failed before the fix: the body was embedded verbatim, newlines and all.
    @Test func aMultiLineBodyBecomesOneLineWithItsValuesUnchanged() throws {
        let body = "{\n  \"order_no\" : \"A B\\n\",\r\n\t\"order_amount\": 20.00,\n  \"tags\": [ 1 , 2 ]\n}\n"
        let text = String(decoding: sampleEvent(body: body).json(), as: UTF8.self)
        #expect(!text.contains("\n") && !text.contains("\r") && !text.contains("\t"), "\(text)")
        #expect(text.hasSuffix(#""body":{"order_no":"A B\n","order_amount":20.00,"tags":[1,2]}}"#), "\(text)")
        // A raw control character inside a string (not strict JSON) is escaped, never passed on.
        let raw = String(decoding: sampleEvent(body: "{\"a\":\"x\u{1}\ny\"}").json(), as: UTF8.self)
        #expect(raw.hasSuffix(#""body":{"a":"x\u0001\u000ay"}}"#), "\(raw)")
        #expect((try? JSONSerialization.jsonObject(with: Data(raw.utf8))) != nil)
    }

    /// A file left ending inside a line (a write torn by a crash, or one
    /// whose repair failed) is cut back to its last whole line before the
    /// next append. Failed before the fix: the new line was glued to the
    /// torn one.
    @Test func aTornLastLineIsCutBeforeTheNextAppend() async throws {
        let folder = NSTemporaryDirectory() + "jsonl-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/events.jsonl"
        let whole = String(decoding: sampleEvent("evt_0").json(), as: UTF8.self) + "\n"
        try (whole + String(repeating: "{\"event_id\":\"torn", count: 400)).write(toFile: path, atomically: false, encoding: .utf8)
        try await JSONLinesSink(path: path).deliver(sampleEvent("evt_1"))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty, "\(lines.count) lines")
        let ids = lines.prefix(2).map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event_id"] as? String
        }
        #expect(ids == ["evt_0", "evt_1"])
    }

    /// The attempt is cancelled (its handler deadline passed) while the
    /// command's grandchild sleeps: when `deliver` returns, the grandchild is
    /// dead too. Failed before the fix: cancellation did nothing, `deliver`
    /// waited out the command.
    @Test func aCancelledRunIsKilledWithItsWholeGroupBeforeDeliverReturns() async throws {
        let pidFile = NSTemporaryDirectory() + "exec-\(UUID().uuidString).pid"
        let doneFile = pidFile + ".done"
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        defer { try? FileManager.default.removeItem(atPath: doneFile) }
        let sink = ExecSink(
            command: ["sh", "-c", "cat >/dev/null; sleep 20 & echo $! > \(pidFile); wait; echo done > \(doneFile)"],
            timeout: .seconds(60))
        let run = Task { try await sink.deliver(sampleEvent()) }
        let deadline = ContinuousClock.now + .seconds(30)  // safety net
        var grandchild: pid_t?
        while grandchild == nil && ContinuousClock.now < deadline {
            grandchild = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let sleeper = try #require(grandchild)
        run.cancel()
        let failure = await #expect(throws: SinkFailure.self) { try await run.value }
        #expect(failure?.description.contains("killed") == true, "\(String(describing: failure))")
        #expect(!Self.isAlive(sleeper), "the grandchild outlived its run")
        #expect(!FileManager.default.fileExists(atPath: doneFile), "the command ran to its end: it was not killed")
    }

    /// Alive and not a zombie (an orphan's zombie may wait for a reaper that never comes).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    @Test func anEventsNextRunWaitsForTheOneInProgress() async throws {
        let runs = RunsInProgress()
        await runs.begin("evt_1")
        await runs.begin("evt_2")  // another event is not held up
        let started = Atomic<Int>(0)
        let second = Task {
            await runs.begin("evt_1")
            started.add(1, ordering: .relaxed)
            runs.end("evt_1")
        }
        // The positive signal: the second run is queued behind the first.
        let deadline = ContinuousClock.now + .seconds(30)  // safety net
        while runs.waiting(for: "evt_1") == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(runs.waiting(for: "evt_1") == 1)
        #expect(started.load(ordering: .relaxed) == 0, "the second run of evt_1 started while the first was in progress")
        runs.end("evt_1")
        await second.value
        #expect(started.load(ordering: .relaxed) == 1)
        runs.end("evt_2")
    }

    @Test func childEnvironmentIsTheSafeBasePlusWhatIsNamed() {
        let server = ["PATH": "/opt/bin:/usr/bin", "HOME": "/srv", "TRUSTPAY_SECRET": "s", "DATABASE_URL": "x",
                      "REGION": "eu"]
        let child = ChildEnvironment.make(passing: ["REGION", "MODE=safe", "ABSENT"], from: server)
        #expect(child == ["PATH": "/opt/bin:/usr/bin", "HOME": "/srv", "REGION": "eu", "MODE": "safe"])
        #expect(ChildEnvironment.make(passing: [], from: [:])["PATH"] == "/usr/local/bin:/usr/bin:/bin")
    }
}
