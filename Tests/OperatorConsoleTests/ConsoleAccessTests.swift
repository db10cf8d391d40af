import Foundation
import Testing

@testable import OperatorConsole

/// Who gets in: every route with and without the token, the start URL's
/// token exchanged for a cookie, CSRF on cookie changes, 405 with `Allow`.
@Suite struct ConsoleAccessTests {
    static let apiGets = ["/api/overview", "/api/events", "/api/event?id=ID"]
    static let apiPosts = [
        "/api/replay?id=ID", "/api/purge?id=ID", "/api/dead-letters/retry?all=1", "/api/expected?order_no=E-1&merchant=1",
    ]
    static let pages = ["/console/", "/console/events", "/console/event?id=ID", "/console/dead-letters"]

    @Test func everyAPIRouteRefusesRequestsWithoutTheToken() async throws {
        let console = try await ConsoleUnderTest()
        for path in Self.apiGets + Self.apiPosts {
            let method = Self.apiPosts.contains(path) ? "POST" : "GET"
            let target = path.replacingOccurrences(of: "ID", with: console.deadID)
            for headers in [[], ["Authorization: Bearer wrong-token"], ["Authorization: \(ConsoleUnderTest.token)"],
                            ["Cookie: trustpay_console=made-up"]] {
                let response = try await console.request(method, target, headers: headers)
                #expect(response.status == 401, "\(method) \(path) with \(headers): \(response)")
                #expect(response.header("WWW-Authenticate") == "Bearer", "\(path): \(response)")
                #expect(!response.body.contains("DEAD-1"), "\(path) leaks an event: \(response)")
            }
        }
        #expect(try await console.store.event(id: console.deadID)?.state.name == .dead, "nothing was replayed")
        await console.stop()
    }

    @Test func everyAPIRouteAnswersTheBearerToken() async throws {
        let console = try await ConsoleUnderTest()
        for path in Self.apiGets {
            let response = try await console.request("GET", path.replacingOccurrences(of: "ID", with: console.deadID),
                                                     headers: [console.bearer])
            #expect(response.status == 200, "\(path): \(response)")
            #expect(response.header("Content-Type") == "application/json", "\(path): \(response)")
        }
        let replay = try await console.request("POST", "/api/replay?id=\(console.deadID)", headers: [console.bearer])
        #expect(replay.status == 200 && replay.json["state"] as? String == "pending", "\(replay)")
        let purge = try await console.request("POST", "/api/purge", headers: [console.bearer], body: "id=\(console.pendingID)")
        #expect(purge.status == 200, "\(purge)")
        #expect(try await console.store.event(id: console.pendingID) == nil, "purged")
        let retry = try await console.request("POST", "/api/dead-letters/retry?all=1", headers: [console.bearer])
        #expect(retry.status == 200 && retry.json["replayed"] as? Int == 0, "nothing is dead any more: \(retry)")
        await console.stop()
    }

    @Test func everyPageAsksForTheTokenWithALoginPage() async throws {
        let console = try await ConsoleUnderTest()
        for path in Self.pages {
            let target = path.replacingOccurrences(of: "ID", with: console.deadID)
            for headers in [[], ["Cookie: trustpay_console=made-up"]] {
                let response = try await console.request("GET", target, headers: headers)
                #expect(response.status == 401, "\(path): \(response)")
                #expect(response.header("Content-Type")?.hasPrefix("text/html") == true, "\(path): \(response)")
                #expect(response.body.contains(#"action="/console/login""#), "a login form: \(response)")
            }
            let wrong = try await console.request("GET", target + (target.contains("?") ? "&" : "?") + "token=nope")
            #expect(wrong.status == 401 && wrong.body.contains("not the admin token"), "\(path): \(wrong)")
        }
        await console.stop()
    }

    /// The Jupyter-style start URL: the token becomes an `HttpOnly`,
    /// `SameSite=Strict` cookie and leaves the address at once.
    @Test func theStartURLTradesTheTokenForASessionCookie() async throws {
        let console = try await ConsoleUnderTest()
        let opened = try await console.request("GET", "/console/events?order_no=OK-1&token=\(ConsoleUnderTest.token)")
        #expect(opened.status == 303, "\(opened)")
        #expect(opened.header("Location") == "/console/events?order_no=OK-1", "\(opened)")
        let cookie = try #require(opened.header("Set-Cookie"), "\(opened)")
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "\(cookie)")
        #expect(!cookie.contains(ConsoleUnderTest.token), "the cookie is a session id, not the token")
        let session = String(cookie.split(separator: ";")[0])

        let page = try await console.request("GET", "/console/events?order_no=OK-1", headers: ["Cookie: \(session)"])
        #expect(page.status == 200, "\(page)")
        #expect(page.header("Content-Security-Policy")?.contains("script-src 'self'") == true, "\(page)")
        #expect(!page.body.contains(ConsoleUnderTest.token), "the token never goes to the browser")
        let api = try await console.request("GET", "/api/events?order_no=OK-1", headers: ["Cookie: \(session)"])
        #expect((api.json["events"] as? [[String: Any]])?.map { $0["order_no"] as? String } == ["OK-1"], "\(api)")

        let login = try await console.request("POST", "/console/login", body: "token=\(ConsoleUnderTest.token)")
        #expect(login.status == 303 && login.header("Set-Cookie")?.contains("HttpOnly") == true, "\(login)")
        let badLogin = try await console.request("POST", "/console/login", body: "token=guess")
        #expect(badLogin.status == 401 && badLogin.header("Set-Cookie") == nil, "\(badLogin)")
        await console.stop()
    }

    @Test func changesMadeWithTheCookieNeedThePagesCSRFToken() async throws {
        let console = try await ConsoleUnderTest()
        let opened = try await console.request("GET", "/console/?token=\(ConsoleUnderTest.token)")
        let session = String(try #require(opened.header("Set-Cookie")).split(separator: ";")[0])
        let page = try await console.request("GET", "/console/", headers: ["Cookie: \(session)"])
        let range = try #require(page.body.range(of: #"name="csrf-token" content="[0-9a-f]{64}""#, options: .regularExpression))
        let csrf = String(page.body[range].dropLast().suffix(64))

        for path in Self.apiPosts {
            let target = path.replacingOccurrences(of: "ID", with: console.deadID)
            for extra in [[], ["X-CSRF-Token: \(String(csrf.reversed()))"], ["X-CSRF-Token: "]] {
                let refused = try await console.request("POST", target, headers: ["Cookie: \(session)"] + extra)
                #expect(refused.status == 403 && refused.json["error"] as? String == "csrf", "\(path) \(extra): \(refused)")
            }
        }
        #expect(try await console.store.event(id: console.deadID)?.state.name == .dead, "nothing was replayed")
        let replay = try await console.request(
            "POST", "/api/replay", headers: ["Cookie: \(session)", "X-CSRF-Token: \(csrf)"], body: "id=\(console.deadID)")
        #expect(replay.status == 200, "\(replay)")
        #expect(try await console.store.event(id: console.deadID)?.state.name == .pending)
        await console.stop()
    }

    @Test func wrongMethodsGet405WithAllow() async throws {
        let console = try await ConsoleUnderTest()
        for path in Self.apiGets + Self.pages {
            let response = try await console.request("POST", path.replacingOccurrences(of: "ID", with: console.deadID),
                                                     headers: [console.bearer])
            #expect(response.status == 405 && response.header("Allow") == "GET, HEAD", "\(path): \(response)")
        }
        for path in Self.apiPosts + ["/console/login"] {
            let target = path.replacingOccurrences(of: "ID", with: console.deadID)
            for method in ["GET", "HEAD"] {
                let response = try await console.request(method, target, headers: [console.bearer])
                #expect(response.status == 405 && response.header("Allow") == "POST", "\(method) \(path): \(response)")
            }
            // A method no route of the listener implements is the server's 501, not the route's 405.
            let delete = try await console.request("DELETE", target, headers: [console.bearer])
            #expect(delete.status == 501, "\(path): \(delete)")
        }
        #expect(try await console.store.event(id: console.deadID)?.state.name == .dead, "nothing was replayed")
        await console.stop()
    }

    /// The stylesheet and script hold no data: the login page uses them.
    @Test func onlyTheStylesheetAndScriptAreServedToAnyone() async throws {
        let console = try await ConsoleUnderTest()
        for (path, type) in [("/console/console.css", "text/css"), ("/console/console.js", "text/javascript")] {
            let response = try await console.request("GET", path)
            #expect(response.status == 200 && response.header("Content-Type")?.hasPrefix(type) == true, "\(response)")
            #expect(response.body.count > 500, "the embedded file: \(response)")
        }
        let bare = try await console.request("GET", "/console")
        #expect(bare.status == 303 && bare.header("Location") == "/console/", "\(bare)")
        await console.stop()
    }

    @Test func tokensCompareByEveryByte() {
        let access = ConsoleAccess(token: "abcdef")
        #expect(access.isToken("abcdef"))
        for wrong in ["", "abcde", "abcdeg", "abcdefg", "bbcdef", "ABCDEF"] { #expect(!access.isToken(wrong), "\(wrong)") }
    }
}
