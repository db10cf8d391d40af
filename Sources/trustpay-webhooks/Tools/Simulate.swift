import ArgumentParser
import Foundation
import HTTPServer
import ServiceLifecycle
import TrustPay
import TrustPaySimulator
import UnixSignals
import Yams

/// Plays TrustPay against a running server: the Order Query API and the
/// callbacks of scripted orders. For integration tests and demonstrations,
/// never production.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Act as TrustPay: serve the Order Query API and deliver callbacks for scripted orders.",
        discussion: """
            The scenario comes from --config (YAML or JSON: merchants, notify_url, retry_schedule, \
            delivery_timeout, amounts_as, orders), or from flags: --merchant, --secret and --api-key name one \
            merchant, --orders a YAML or JSON list of orders. --notify-url, --retry-schedule and --amounts-as \
            override the file. See the README, "The TrustPay simulator".

            The first line on standard output is `listening on http://HOST:PORT` (the Order Query API: POST \
            /v4/query/order); then one line per callback delivered or given up. The simulator keeps answering \
            queries until SIGINT or SIGTERM, or exits once every callback is done with --exit-after-delivery.

            Example:
              trustpay-webhooks simulate --merchant 8820250900009 --secret s3cr3t --api-key key-1 \\
                --notify-url http://127.0.0.1:8080/trustpay/payment --orders orders.yaml --port 9090
            """)

    @Option(help: ArgumentHelp("Scenario file (YAML or JSON).", valueName: "file"))
    var config: String?

    @Option(help: "Address to serve the Order Query API on.")
    var host = "127.0.0.1"

    @Option(help: "Port to serve the Order Query API on (0: any free port).")
    var port = 0

    @Option(help: "merchant_id of the one merchant (without --config).")
    var merchant: Int64?

    @Option(help: "That merchant's secret (without --config).")
    var secret: String?

    @Option(name: .customLong("api-key"), help: "That merchant's API key (without --config).")
    var apiKey: String?

    @Option(help: "Where callbacks are posted (overrides the file's notify_url).")
    var notifyURL: String?

    @Option(help: ArgumentHelp("A YAML or JSON list of orders (with --merchant).", valueName: "file"))
    var orders: String?

    @Option(help: ArgumentHelp(
        "Seconds to wait before each attempt, comma-separated (default 0,1,2,5).", valueName: "list"))
    var retrySchedule: String?

    @Option(help: "How query answers write amounts: numbers or strings.")
    var amountsAs: AmountStyle?

    @Flag(help: "Exit once every scripted callback was delivered or given up.")
    var exitAfterDelivery = false

    func validate() throws {
        let flags = merchant != nil || secret != nil || apiKey != nil
        if config != nil && (flags || orders != nil) {
            throw ValidationError("--config and --merchant/--secret/--api-key/--orders contradict: use one or the other")
        }
        if config == nil && (merchant == nil || secret == nil || apiKey == nil) {
            throw ValidationError("give --config, or all of --merchant, --secret and --api-key")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
    }

    func run() async throws {
        let scenario = try loadScenario()
        let simulator: TrustPaySimulator
        do {
            simulator = try TrustPaySimulator(scenario: scenario, logger: ToolLogging.logger)
        } catch {
            throw ToolError.exit("\(error)")
        }
        let boundPort: Int
        do {
            boundPort = try simulator.start(host: host, port: port)
        } catch {
            throw ToolError.exit("cannot listen on \(host):\(port): \(error)")
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        Self.say("listening on http://\(shownHost):\(boundPort)")
        let exitAfterDelivery = exitAfterDelivery
        // SIGTERM/SIGINT stop the query server, as graceful shutdown of a
        // one-service group; deliveries in progress are then abandoned.
        let run = BackgroundLoop {
            await withGracefulShutdownHandler {
                await Self.serve(simulator, exitAfterDelivery: exitAfterDelivery)
            } onGracefulShutdown: {
                simulator.shutdown()
            }
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: run, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: ToolLogging.logger))
        try await group.run()
    }

    private static func serve(_ simulator: TrustPaySimulator, exitAfterDelivery: Bool) async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                let records = await simulator.deliverCallbacks { Self.say(Self.line($0)) }
                Self.say("deliveries done: \(records.filter { $0.outcome == .delivered }.count) delivered, "
                    + "\(records.filter { $0.outcome == .gaveUp }.count) given up")
                if exitAfterDelivery { simulator.shutdown() }
                return false
            }
            group.addTask {
                await simulator.waitUntilStopped()
                return true
            }
            // Once the server has stopped, deliveries still in progress are abandoned.
            for await serverStopped in group where serverStopped {
                group.cancelAll()
            }
        }
    }

    private func loadScenario() throws -> SimulatorScenario {
        var scenario: SimulatorScenario
        if let config {
            scenario = try Self.decode(SimulatorScenario.self, file: config)
        } else if let merchant, let secret, let apiKey {
            scenario = SimulatorScenario(merchants: [SimulatedMerchant(id: merchant, secret: secret, apiKey: apiKey)])
            if let orders { scenario.orders = try Self.decode([ScriptedOrder].self, file: orders) }
        } else {
            throw ToolError.exit("give --config, or all of --merchant, --secret and --api-key")
        }
        if let notifyURL { scenario.notifyURL = notifyURL }
        if let amountsAs { scenario.amountsAs = amountsAs }
        if let retrySchedule {
            var waits: [Duration] = []
            for part in retrySchedule.split(separator: ",") {
                guard let seconds = Double(part.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0
                else { throw ToolError.exit("--retry-schedule expects seconds such as 0,1,2,5, got '\(retrySchedule)'") }
                waits.append(.milliseconds(Int64((seconds * 1000).rounded())))
            }
            scenario.retrySchedule = waits
        }
        if let problem = scenario.problem() { throw ToolError.exit("the scenario: \(problem)") }
        return scenario
    }

    private static func decode<T: Decodable>(_ type: T.Type, file: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw ToolError.exit("cannot read \(file)")
        }
        do {
            return try YAMLDecoder().decode(type, from: text)
        } catch let error as DecodingError {
            throw ToolError.exit("\(file): \(Self.explain(error))")
        } catch {
            throw ToolError.exit("\(file): \(error)")
        }
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    static func line(_ record: DeliveryRecord) -> String {
        let outcome = record.outcome == .delivered ? "delivered" : "gave up on"
        let answers = record.attempts.map { attempt -> String in
            switch attempt {
            case .answered(let status): String(status)
            case .failed: "no answer"
            }
        }
        return "\(outcome) \(record.orderNo) status \(record.status) (copy \(record.copy)) after "
            + "\(record.attempts.count) attempt(s): \(answers.joined(separator: ", "))"
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

extension AmountStyle: ExpressibleByArgument {}
