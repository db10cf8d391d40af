import Durations
import Foundation
import HTTPServer
import Locking

/// Who may use the console: a script presenting the admin token as a bearer
/// token, or a browser holding a session cookie that it got by presenting
/// the token once (in the start URL or the login form).
///
/// A session's CSRF token is sent in the page and must come back in the
/// `X-CSRF-Token` header of every state-changing request made with the
/// cookie: a cookie is sent by the browser whoever asks it to, a header
/// only by the page's own script. Bearer requests need no CSRF token: no
/// browser adds that header by itself.
final class ConsoleAccess: Sendable {
    static let cookieName = "trustpay_console"
    static let csrfHeader = "X-CSRF-Token"
    /// A browser session lasts a working day; the start URL opens a new one.
    static let sessionLifetime: Duration = .seconds(12 * 3600)
    /// Oldest sessions go first past this: logging in in a loop must not
    /// grow the server's memory.
    static let maxSessions = 64

    private let token: [UInt8]
    private let sessions = Locked<[String: Session]>([:])

    struct Session {
        let csrf: String
        let expires: Date
    }

    /// How a request proved itself.
    enum Credential: Equatable {
        case bearer
        case session(csrf: String)
    }

    init(token: String) {
        self.token = Array(token.utf8)
    }

    /// Whether `candidate` is the admin token, in time that does not depend
    /// on how much of it matches.
    func isToken(_ candidate: String) -> Bool {
        Self.constantTimeEquals(Array(candidate.utf8), token)
    }

    func credential(of request: HTTPRequest, now: Date = Date()) -> Credential? {
        if let authorization = request.headers["Authorization"], authorization.hasPrefix("Bearer "),
           isToken(String(authorization.dropFirst("Bearer ".count)))
        {
            return .bearer
        }
        guard let id = Self.cookie(Self.cookieName, in: request) else { return nil }
        return sessions.withLock { sessions in
            guard let session = sessions[id], session.expires > now else { return nil }
            return .session(csrf: session.csrf)
        }
    }

    /// Whether a state-changing request may go ahead: bearer requests
    /// always, cookie ones only with their session's CSRF token.
    func allowsChange(_ request: HTTPRequest, by credential: Credential) -> Bool {
        switch credential {
        case .bearer: true
        case .session(let csrf):
            Self.constantTimeEquals(Array((request.headers[Self.csrfHeader] ?? "").utf8), Array(csrf.utf8))
        }
    }

    /// A new session; its id goes into the cookie (``sessionCookie(_:)``).
    func openSession(now: Date = Date()) -> String {
        let id = Self.randomToken()
        let session = Session(csrf: Self.randomToken(), expires: now.adding(Self.sessionLifetime))
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > now }
            while sessions.count >= Self.maxSessions, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
                sessions[oldest.key] = nil
            }
            sessions[id] = session
        }
        return id
    }

    /// `HttpOnly`: the page's script never sees it; `SameSite=Strict`: no
    /// other site's page can make the browser send it.
    static func sessionCookie(_ id: String) -> (name: String, value: String) {
        ("Set-Cookie", "\(cookieName)=\(id); Path=/; HttpOnly; SameSite=Strict")
    }

    static func cookie(_ name: String, in request: HTTPRequest) -> String? {
        for header in request.headers.values("Cookie") {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return String(parts[1]).trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// 32 random bytes as hex: the system generator reads the kernel's CSPRNG.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }

    /// Compares every byte of `secret` whatever `candidate` holds, so the
    /// time taken says nothing about how long a prefix matched.
    static func constantTimeEquals(_ candidate: [UInt8], _ secret: [UInt8]) -> Bool {
        var difference: UInt8 = candidate.count == secret.count ? 0 : 1
        for index in secret.indices {
            difference |= secret[index] ^ (index < candidate.count ? candidate[index] : 0)
        }
        return difference == 0
    }
}
