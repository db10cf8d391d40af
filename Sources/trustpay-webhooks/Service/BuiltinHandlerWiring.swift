import BuiltinHandlers
import Logging
import ServiceConfiguration
import TrustPay
import Webhooks

/// Turns the `handlers` section into registered pipeline handlers.
struct BuiltinHandlerWiring {
    struct Entry {
        let settings: HandlerSettings
        let sink: any EventSink

        func accepts(kind: EventKindSetting, status: Int) -> Bool {
            settings.events.contains(kind) && (settings.statuses.isEmpty || settings.statuses.contains(status))
        }
    }

    let entries: [Entry]

    init(_ handlers: [HandlerSettings], environment: [String: String], logger: Logger) throws {
        entries = try handlers.enumerated().map { index, settings in
            Entry(settings: settings, sink: try Self.sink(for: settings, index: index, environment: environment, logger: logger))
        }
    }

    private static func sink(
        for settings: HandlerSettings, index: Int, environment: [String: String], logger: Logger
    ) throws -> any EventSink {
        switch settings.kind {
        case .log(let json):
            var eventLogger = logger
            eventLogger[metadataKey: "handler"] = "\(settings.name)"
            return LogSink(name: settings.name, logger: eventLogger, json: json)
        case .jsonl(let path):
            return JSONLinesSink(name: settings.name, path: path)
        case .forward(let url, let secret, let timeout):
            let resolved = try secret.resolve(key: "handlers[\(index)].secret", environment: environment)
            do {
                return try ForwardSink(name: settings.name, url: url, secret: resolved.secret, timeout: timeout)
            } catch {
                // Preflight has checked the secret; what is left is the URL.
                throw ConfigurationError(key: "handlers[\(index)].url", message: "\(error)")
            }
        case .exec(let command, let timeout, let names):
            return ExecSink(name: settings.name, command: command, timeout: timeout,
                            environment: ChildEnvironment.make(passing: names, from: environment))
        }
    }

    /// One pipeline handler per kind that calls every matching sink in
    /// order. A failing sink fails the attempt: the event is retried and the
    /// sinks run again, so each must tolerate repeats (they carry the event id).
    func register(on server: inout WebhookServer) {
        let entries = entries
        server.onPayment { event in
            let envelope = EventEnvelope(event)
            for entry in entries where entry.accepts(kind: .payment, status: envelope.status) {
                try await entry.sink.deliver(envelope)
            }
        }
        server.onCard { event in
            let envelope = EventEnvelope(event)
            for entry in entries where entry.accepts(kind: .card, status: envelope.status) {
                try await entry.sink.deliver(envelope)
            }
        }
    }
}
