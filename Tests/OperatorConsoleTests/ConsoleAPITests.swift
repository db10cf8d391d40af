import Foundation
import Inbox
import InboxTesting
import Testing
import TrustPayWebhooksTesting
import Webhooks

@testable import OperatorConsole

/// What the API answers, with the bearer token, over a real socket.
@Suite struct ConsoleAPITests {
    @Test func eventsTakeTheFiltersOfEventsListNewestFirst() async throws {
        let console = try await ConsoleUnderTest()
        func orders(_ query: String) async throws -> [String?] {
            let response = try await console.request("GET", "/api/events?" + query, headers: [console.bearer])
            #expect(response.status == 200, "\(query): \(response)")
            return (response.json["events"] as? [[String: Any]] ?? []).map { $0["order_no"] as? String }
        }
        #expect(try await orders("") == ["OK-1", "DEAD-1"])
        #expect(try await orders("order_no=OK-1") == ["OK-1"])
        #expect(try await orders("dead=1") == ["DEAD-1"])
        #expect(try await orders("state=pending&kind=payment&merchant=1&status=5") == ["OK-1"])
        #expect(try await orders("order_no=&state=&since=1d") == ["OK-1", "DEAD-1"], "empty fields are unset filters")
        #expect(try await orders("until=2000-01-01") == [])
        #expect(try await orders("per_page=1&page=2") == ["DEAD-1"])

        for (query, code) in [("state=sleeping", "bad_state"), ("kind=refund", "bad_kind"), ("since=yesterday", "bad_filter"),
                              ("dead=1&state=pending", "bad_filter"), ("page=0", "bad_page"), ("colour=red", "unknown_parameter")] {
            let response = try await console.request("GET", "/api/events?" + query, headers: [console.bearer])
            #expect(response.status == 400 && response.json["error"] as? String == code, "\(query): \(response)")
        }
        await console.stop()
    }

    @Test func anEventShowsWhatEventsShowShowsWithCardDataMasked() async throws {
        let console = try await ConsoleUnderTest()
        let shown = try await console.request("GET", "/api/event?id=\(console.pendingID)", headers: [console.bearer])
        #expect(shown.status == 200, "\(shown)")
        let text = try #require(shown.json["body_text"] as? String, "\(shown)")
        #expect(text.contains(#""card_number": "************1111""#), "\(text)")
        #expect(text.contains(#""cvv": "***""#), "\(text)")
        #expect(text.contains(#""amount": 20.00"#), "numbers as transmitted: \(text)")
        #expect(!shown.body.contains("4111111111111111") && !shown.body.contains(#""123""#), "\(shown)")

        let dead = try await console.request("GET", "/api/event?id=\(console.deadID)", headers: [console.bearer])
        #expect(dead.json["state"] as? String == "dead", "\(dead)")
        #expect(dead.json["last_error"] as? String == "handler exec: exit status 1", "\(dead)")
        #expect(dead.json["attempts"] as? Int == 1 && dead.json["finished_at"] is String, "\(dead)")
        let attempts = dead.json["attempt_history"] as? [[String: Any]] ?? []
        #expect(attempts.map { $0["outcome"] as? String } == ["failed"], "\(dead)")
        #expect(attempts.first?["error"] as? String == "handler exec: exit status 1", "\(dead)")

        // A conflicting copy of the pending event: its fields compared, card data masked.
        let copy = #"{"order_no":"OK-1","card_number":"4000000000000002","cvv":"999","amount":20.00,"note":"</script><b>"}"#
        _ = try await console.store.record(
            newEvent("OK-1", status: 5, hash: "other", body: Array(copy.utf8), at: -1), lease: .none, now: NewInboxEvent.testEpoch)
        let conflicted = try await console.request("GET", "/api/event?id=\(console.pendingID)", headers: [console.bearer])
        let copies = conflicted.json["conflicting_copies"] as? [[String: Any]] ?? []
        #expect(copies.count == 1 && copies.first?["signature"] as? String == "verified", "\(conflicted)")
        let differences = copies.first?["differences"] as? [[String: Any]] ?? []
        #expect(differences.map { $0["field"] as? String } == ["card_number", "cvv", "note"], "\(conflicted)")
        #expect(differences.first?["stored"] as? String == "************1111", "\(conflicted)")
        #expect(differences.first?["copy"] as? String == "************0002", "\(conflicted)")
        #expect(!conflicted.body.contains("4000000000000002") && !conflicted.body.contains(#""999""#), "\(conflicted)")
        #expect(differences[1]["stored"] as? String == "***" && differences[1]["copy"] as? String == "***",
                "a CVV that differs is named, both values hidden: \(conflicted)")
        #expect(differences.last?["copy"] as? String == "</script><b>", "text, for the page to show as text: \(conflicted)")
        #expect((copies.first?["body_text"] as? String)?.contains(#""amount": 20.00"#) == true,
                "the copy's body indented with numbers as transmitted: \(conflicted)")

        let missing = try await console.request("GET", "/api/event?id=no-such-id", headers: [console.bearer])
        #expect(missing.status == 404 && missing.json["error"] as? String == "no_event", "\(missing)")
        let none = try await console.request("GET", "/api/event", headers: [console.bearer])
        #expect(none.status == 400 && none.json["error"] as? String == "missing_id", "\(none)")
        await console.stop()
    }

    @Test func theOverviewCountsStatesBacklogAndTheLastHour() async throws {
        let console = try await ConsoleUnderTest()
        let response = try await console.request("GET", "/api/overview", headers: [console.bearer])
        let overview = response.json
        let states = try #require(overview["states"] as? [String: Int], "\(response)")
        #expect(states["dead"] == 1 && states["pending"] == 1 && states["completed"] == 0, "\(states)")
        #expect(overview["backlog"] as? Int == 1 && overview["dead_letters"] as? Int == 1, "\(response)")
        #expect((overview["oldest_pending"] as? [String: Any])?["order_no"] as? String == "OK-1", "\(response)")
        #expect(overview["store"] as? String == "available", "\(response)")
        let minutes = try #require(overview["per_minute"] as? [[String: Any]])
        #expect(minutes.count == 60)
        #expect(minutes.compactMap { $0["acknowledged"] as? Int }.reduce(0, +) == 2, "both received this hour: \(minutes)")
        await console.stop()
    }

    /// Orders waiting for reconciliation are counted by the sweep's own
    /// rule, asked of the store when the page polls; with reconciliation
    /// off the Overview says so (null), and it counts nothing.
    @Test func theOverviewCountsOrdersWaitingForReconciliation() async throws {
        let off = try await ConsoleUnderTest()
        let quiet = try await off.request("GET", "/api/overview", headers: [off.bearer])
        #expect(quiet.json["reconciliation"] is NSNull, "\(quiet)")
        await off.stop()

        // Every status final: only an order expected for two minutes without a callback waits.
        let watch = ReconciliationWatch(finalStatuses: Set(1...9), after: .seconds(60), maxAge: .seconds(86_400))
        let console = try await ConsoleUnderTest(reconciliation: watch)
        try await console.store.expect(
            ExpectedOrder(merchantID: 1, type: .payin, orderNo: "EXP-1", expectedAt: Date().addingTimeInterval(-120)))
        try await console.store.expect(
            ExpectedOrder(merchantID: 1, type: .payin, orderNo: "EXP-NEW", expectedAt: Date()))
        let response = try await console.request("GET", "/api/overview", headers: [console.bearer])
        let reconciliation = try #require(response.json["reconciliation"] as? [String: Any], "\(response)")
        #expect(reconciliation["waiting"] as? Int == 1, "\(reconciliation)")
        #expect(reconciliation["expected_without_callback"] as? Int == 1, "\(reconciliation)")
        #expect(reconciliation["capped"] as? Bool == false, "\(reconciliation)")
        #expect((reconciliation["oldest"] as? [String: Any])?["order_no"] as? String == "EXP-1", "\(reconciliation)")
        await console.stop()
    }

    @Test func retrySelectedReplaysOnlyDeadLetters() async throws {
        let console = try await ConsoleUnderTest()
        let response = try await console.request(
            "POST", "/api/dead-letters/retry", headers: [console.bearer],
            body: "id=\(console.deadID)&id=\(console.pendingID)&id=unknown")
        #expect(response.status == 200 && response.json["replayed"] as? Int == 1, "\(response)")
        #expect(try await console.store.event(id: console.deadID)?.state.name == .pending)
        let empty = try await console.request("POST", "/api/dead-letters/retry", headers: [console.bearer], body: "")
        #expect(empty.status == 400 && empty.json["error"] as? String == "nothing_selected", "\(empty)")
        await console.stop()
    }

    /// Reconciliation's expected orders, registered by a script with the token.
    @Test func expectedOrdersAreRegisteredOnce() async throws {
        let console = try await ConsoleUnderTest()
        let first = try await console.request(
            "POST", "/api/expected", headers: [console.bearer], body: "order_no=EXP-1&merchant=1&type=payout")
        #expect(first.status == 200 && first.json["new"] as? Bool == true && first.json["type"] as? String == "payout", "\(first)")
        let again = try await console.request("POST", "/api/expected", headers: [console.bearer], body: "order_no=EXP-1&merchant=1&type=payout")
        #expect(again.status == 200 && again.json["new"] as? Bool == false, "\(again)")
        let now = Date()
        let waiting = try await console.store.reconciliationCandidates(
            finalStatuses: [5], quietSince: now.addingTimeInterval(60), notBefore: now.addingTimeInterval(-60), limit: 10)
        #expect(waiting.map(\.orderNo) == ["EXP-1"] && waiting.first?.type == .payout && waiting.first?.merchantID == 1)
        for (body, code) in [("merchant=1", "missing_order_no"), ("order_no=X", "missing_merchant"),
                             ("order_no=X&merchant=abc", "bad_merchant"), ("order_no=X&merchant=1&type=refund", "bad_type"),
                             ("order_no=X&merchant=1&colour=red", "unknown_parameter")] {
            let refused = try await console.request("POST", "/api/expected", headers: [console.bearer], body: body)
            #expect(refused.status == 400 && refused.json["error"] as? String == code, "\(body): \(refused)")
        }
        await console.stop()
    }

    @Test func formFieldsDecodePercentAndPlus() {
        let fields = FormFields("order_no=A%26B+1&token=t%3D&empty=&x")
        #expect(fields["order_no"] == "A&B 1")
        #expect(fields["token"] == "t=")
        #expect(fields["empty"] == nil && fields["x"] == nil)
        #expect(fields.removing("token") == "order_no=A%26B%201&empty=&x=")
    }
}
