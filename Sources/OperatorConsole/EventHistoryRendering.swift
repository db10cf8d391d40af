import Foundation
import Inbox
import TrustPay
import Webhooks

/// An event's kept attempts and conflicting copies as an operator sees them
/// (`events show`, the console's Event page): the copies' bodies masked like
/// the event's, and each copy's signed fields compared with the stored event's.
package enum EventHistoryRendering {
    /// `attempts`: the kept attempts, oldest first; `conflicting_copies`:
    /// the kept copies, each with its masked body and its ``ConflictDiagnosis``.
    package static func object(_ history: EventHistory, of event: InboxEvent) -> JSONObject {
        [
            "attempt_history": .array(history.attempts.map { .object(attempt($0)) }),
            "attempts_kept": .integer(EventHistory.attemptsKept),
            "conflicting_copies": .array(history.conflictingCopies.map { .object(copy($0, of: event)) }),
        ]
    }

    static func attempt(_ attempt: HandlerAttempt) -> JSONObject {
        [
            "number": .integer(attempt.number),
            "outcome": .string(attempt.outcome.rawValue),
            "started_at": .string(EventRendering.timestamp(attempt.startedAt)),
            "ended_at": .string(EventRendering.timestamp(attempt.endedAt)),
            "error": attempt.error.map { .string($0) } ?? .null,
        ]
    }

    static func copy(_ copy: ConflictingCopy, of event: InboxEvent) -> JSONObject {
        let differences = ConflictDiagnosis.differences(stored: event.rawBody, copy: copy.rawBody)
        return [
            "received_at": .string(EventRendering.timestamp(copy.receivedAt)),
            "content_hash": .string(copy.contentHash),
            // Only callbacks whose signature verified are recorded, conflicts included.
            "signature": "verified",
            "differences": differences.map { .array($0.map { .object($0.object) }) } ?? .null,
            "body": CardDataMask.body(copy.rawBody),
        ]
    }

    /// The text `events show` prints after the event's fields: an attempts
    /// table and each conflicting copy with its differences. Every value
    /// from a callback or a handler is escaped for the terminal.
    package static func text(_ detail: JSONObject) -> String {
        var out = ""
        let attempts = detail["attempt_history"]?.arrayValue ?? []
        out += "\nattempts (\(attempts.count) kept, at most \(EventHistory.attemptsKept)):\n"
        if attempts.isEmpty {
            out += "  none\n"
        } else {
            let rows = attempts.compactMap(\.objectValue).map { attempt in
                [
                    attempt["number"]?.numberLiteral ?? "?", attempt["outcome"]?.stringValue ?? "?",
                    attempt["started_at"]?.stringValue ?? "", attempt["ended_at"]?.stringValue ?? "",
                    LogText.escaped(attempt["error"]?.stringValue ?? ""),
                ]
            }
            out += table(header: ["#", "OUTCOME", "STARTED", "ENDED", "ERROR"], rows: rows)
        }
        let copies = (detail["conflicting_copies"]?.arrayValue ?? []).compactMap(\.objectValue)
        guard !copies.isEmpty else { return out }
        out += "\nconflicting copies (\(copies.count) kept, at most \(EventHistory.copiesKept)):\n"
        for (index, copy) in copies.enumerated() {
            out += "  copy \(index + 1): received \(copy["received_at"]?.stringValue ?? "?"), "
                + "content hash \(copy["content_hash"]?.stringValue ?? "?"), "
                + "signature \(copy["signature"]?.stringValue ?? "?")\n"
            if let differences = copy["differences"]?.arrayValue {
                for difference in differences.compactMap(\.objectValue) {
                    out += "    \(LogText.escaped(difference["field"]?.stringValue ?? "?")): "
                        + "stored \(shown(difference["stored"])), copy \(shown(difference["copy"]))\n"
                }
                if differences.isEmpty { out += "    no signed field differs\n" }
            } else {
                out += "    not comparable: a body is not a JSON object\n"
            }
            out += "    body: \(copy["body"]?.compactJSON ?? "null")\n"
        }
        return out
    }

    /// A compared value as JSON text (escaped), or `(absent)`.
    private static func shown(_ value: JSONValue?) -> String {
        guard let value, !value.isNull else { return "(absent)" }
        return value.compactJSON
    }

    private static func table(header: [String], rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            "  " + zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}

/// How a conflicting copy differs from the stored event: the signed fields
/// (every top-level field but `sign`, empty values counting as absent, as
/// TrustPay's signature rule has it) whose signed text differs, with both
/// values masked as bodies are.
package enum ConflictDiagnosis {
    package struct Difference: Sendable, Equatable {
        package let field: String
        /// Masked; `nil` when the field is absent (or empty) on that side.
        package let stored: JSONValue?
        package let copy: JSONValue?

        var object: JSONObject {
            ["field": .string(field), "stored": stored ?? .null, "copy": copy ?? .null]
        }
    }

    /// The differing signed fields, in the stored body's order then the
    /// copy's; `nil` when either body is not a JSON object.
    package static func differences(stored: [UInt8], copy: [UInt8]) -> [Difference]? {
        guard case .object(let old)? = try? JSONValue(parsing: stored),
            case .object(let new)? = try? JSONValue(parsing: copy)
        else { return nil }
        let oldFields = signed(old)
        let newFields = signed(new)
        var names: [String] = []
        for name in oldFields.map(\.key) + newFields.map(\.key) where !names.contains(name) { names.append(name) }
        let oldValues = Dictionary(oldFields, uniquingKeysWith: { first, _ in first })
        let newValues = Dictionary(newFields, uniquingKeysWith: { first, _ in first })
        return names.compactMap { name in
            let before = oldValues[name]
            let after = newValues[name]
            guard before.map(signedText) != after.map(signedText) else { return nil }
            return Difference(
                field: name, stored: before.map { CardDataMask.mask($0, key: name) },
                copy: after.map { CardDataMask.mask($0, key: name) })
        }
    }

    private static func signed(_ object: JSONObject) -> [(key: String, value: JSONValue)] {
        object.members.filter { $0.key != TrustPaySignature.signKey && !TrustPaySignature.isEmptyForSigning($0.value) }
            .map { ($0.key, $0.value) }
    }

    /// A value as the signature's canonical string writes it: a string
    /// itself, a number as transmitted, an array or object as compact JSON.
    private static func signedText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .number(let literal): literal
        case .bool(let flag): flag ? "true" : "false"
        default: value.compactJSON
        }
    }
}
