import Foundation
import HTTPServer

/// The console's pages: one HTML shell (`Assets/console.html`), filled by
/// `console.js` from the API and refreshed by polling.
enum ConsolePage: String, CaseIterable, Sendable {
    case overview, events, event
    case deadLetters = "dead-letters"

    var path: String { self == .overview ? OperatorConsole.pagesPath : OperatorConsole.pagesPath + rawValue }

    var title: String {
        switch self {
        case .overview: "Overview"
        case .events: "Events"
        case .event: "Event"
        case .deadLetters: "Dead letters"
        }
    }
}

/// The repository's own files, compiled into the binary (`embedInCode`), so
/// the console needs nothing beside the executable at run time.
enum ConsoleAsset: CaseIterable, Sendable {
    case stylesheet, script

    var path: String {
        switch self {
        case .stylesheet: "/console/console.css"
        case .script: "/console/console.js"
        }
    }

    var response: HTTPResponse {
        let (type, bytes) =
            switch self {
            case .stylesheet: ("text/css; charset=utf-8", PackageResources.console_css)
            case .script: ("text/javascript; charset=utf-8", PackageResources.console_js)
            }
        return HTTPResponse(status: .ok, headers: [("Content-Type", type)] + ConsolePages.protective, body: bytes)
    }
}

enum ConsolePages {
    /// Sent with everything the console serves. The policy lets only the
    /// console's own script run: even a callback value that slipped past
    /// escaping could not execute. `no-referrer` keeps addresses (and a
    /// token in one) from leaking to other sites.
    static let protective: [(name: String, value: String)] = [
        ("Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    static func page(_ page: ConsolePage, csrf: String) -> HTTPResponse {
        html(.ok, fill(PackageResources.console_html, ["page": page.rawValue, "title": page.title, "csrf": csrf]))
    }

    /// `401` with a form asking for the token (posted to `/console/login`).
    static func login(problem: String?) -> HTTPResponse {
        html(.unauthorized, fill(PackageResources.login_html, ["problem": problem ?? ""]))
    }

    static func redirect(to location: String) -> HTTPResponse {
        HTTPResponse(status: HTTPStatus(303, "See Other"), headers: [("Location", location)] + protective)
    }

    private static func html(_ status: HTTPStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/html; charset=utf-8")] + protective,
                     body: Array(text.utf8))
    }

    /// Replaces each `{{name}}` with its value, HTML-escaped.
    static func fill(_ template: [UInt8], _ values: [String: String]) -> String {
        var text = String(decoding: template, as: UTF8.self)
        for (name, value) in values {
            text = text.replacingOccurrences(of: "{{\(name)}}", with: escaped(value))
        }
        return text
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
