import Foundation
import HTTPServer
import Inbox
import Webhooks

/// The operator console: pages under `/console/` and the JSON API under
/// `/api/` that they (and scripts) use, on the admin listener.
///
/// Every page and API route needs the admin token: as `Authorization:
/// Bearer <token>`, or once in the start URL (``startURL(address:)``) or the
/// login form, which open a browser session (an `HttpOnly`, `SameSite=Strict`
/// cookie). Only the stylesheet and the script, which are the repository's
/// own files and hold no data, are served to anyone, so the login page can
/// use them.
///
/// ```swift
/// var router = Router()
/// let console = OperatorConsole(token: token, store: store)
/// console.register(on: &router)
/// logger.info("console on \(console.startURL(address: "127.0.0.1:9090"))")
/// ```
package struct OperatorConsole: Sendable {
    package static let pagesPath = "/console/"

    let access: ConsoleAccess
    let api: ConsoleAPI
    private let token: String

    /// - Parameters:
    ///   - merchants: the configured merchant ids, which `POST /api/expected`
    ///     accepts (any when empty).
    ///   - reconciliation: the sweep's choice of orders, so the Overview can
    ///     count those waiting for it; nil when reconciliation is off.
    package init(
        token: String, store: any InboxAdministration, merchants: [Int64] = [], reconciliation: ReconciliationWatch? = nil
    ) {
        self.token = token
        access = ConsoleAccess(token: token)
        api = ConsoleAPI(store: store, merchants: merchants, reconciliation: reconciliation)
    }

    /// The URL a browser opens to sign in: it holds the token, so it is for
    /// the operator's eyes (the one log line at start), nowhere else.
    package func startURL(address: String) -> String {
        "http://\(address)\(Self.pagesPath)?token=\(FormFields.encode(token))"
    }

    package func register(on router: inout Router) {
        for page in ConsolePage.allCases {
            router.get(page.path) { request in self.page(page, request) }
        }
        router.get("/console") { _ in ConsolePages.redirect(to: Self.pagesPath) }
        router.post("/console/login") { request in self.login(request) }
        for asset in ConsoleAsset.allCases {
            router.add(.get, asset.path, .immediate { _ in asset.response })
        }
        for route in ConsoleAPI.Route.allCases {
            router.add(route.method, route.path, .async { request in await self.answer(route, request) })
        }
    }

    private func page(_ page: ConsolePage, _ request: HTTPRequest) -> HTTPResponse {
        let fields = FormFields(request.query)
        if let presented = fields.pairs.first(where: { $0.name == "token" })?.value {
            guard access.isToken(presented) else { return ConsolePages.login(problem: "That token is not the admin token.") }
            // The token leaves the address bar (and the history) at once.
            let rest = fields.removing("token")
            var response = ConsolePages.redirect(to: request.path + (rest.isEmpty ? "" : "?" + rest))
            response.headers.append(ConsoleAccess.sessionCookie(access.openSession()))
            return response
        }
        switch access.credential(of: request) {
        case .session(let csrf)?: return ConsolePages.page(page, csrf: csrf)
        // A script fetching a page has no cookie to protect: no CSRF token.
        case .bearer?: return ConsolePages.page(page, csrf: "")
        case nil: return ConsolePages.login(problem: nil)
        }
    }

    private func login(_ request: HTTPRequest) -> HTTPResponse {
        guard let presented = FormFields(request.body)["token"], access.isToken(presented) else {
            return ConsolePages.login(problem: "That token is not the admin token.")
        }
        var response = ConsolePages.redirect(to: Self.pagesPath)
        response.headers.append(ConsoleAccess.sessionCookie(access.openSession()))
        return response
    }

    private func answer(_ route: ConsoleAPI.Route, _ request: HTTPRequest) async -> HTTPResponse {
        guard let credential = access.credential(of: request) else {
            var refusal = HTTPResponse.error(.unauthorized, code: "unauthorized",
                                             message: "send the admin token: Authorization: Bearer <token>")
            refusal.headers.append(("WWW-Authenticate", "Bearer"))
            return refusal
        }
        if route.method == .post, !access.allowsChange(request, by: credential) {
            return .error(.forbidden, code: "csrf", message: "a change made with the session cookie needs the page's \(ConsoleAccess.csrfHeader) header")
        }
        return await api.answer(route, request)
    }
}
