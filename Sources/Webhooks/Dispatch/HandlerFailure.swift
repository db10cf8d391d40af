import Inbox

/// Why an attempt at running an event's handlers failed, as recorded in the
/// inbox's `lastError`.
public enum HandlerFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A handler threw; the text is the error's description.
    case threw(String)
    /// The handlers did not finish within the handler timeout.
    case timedOut(Duration)
    /// The stored body no longer decodes (it was verified when received).
    case undecodable(String)

    public var description: String {
        switch self {
        case .threw(let text): "handler threw: \(text)"
        case .timedOut(let limit): "handlers did not finish within \(limit)"
        case .undecodable(let reason): "stored body cannot be decoded: \(reason)"
        }
    }
}

extension HandlerFailure {
    /// How the attempt is kept in the event's history.
    var outcome: HandlerAttempt.Outcome {
        if case .timedOut = self { .timedOut } else { .failed }
    }
}
