import ArgumentParser
import Foundation
import Inbox
import ServiceConfiguration
import OperatorConsole
import TrustPay
import Webhooks

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect, replay and purge the events in the configured store.",
        discussion: """
            These commands open the store named by store.kind, as serve does. With store.kind memory each \
            process has its own empty store, so they only make sense with SQLite or PostgreSQL.
            """,
        subcommands: [List.self, Show.self, Replay.self, RetryDead.self, Purge.self])
}

extension EventKind: ExpressibleByArgument {}

/// `--state`: see ``EventQuery/StateChoice`` (`held` is for `events list`).
extension EventQuery.StateChoice: ExpressibleByArgument {}

/// Which events a command touches: an ``EventQuery`` from options.
struct EventFilterOptions: ParsableArguments {
    @Option(help: "Only events with this status code.")
    var status: Int?

    @Option(help: "Only payment or card events.")
    var kind: EventKind?

    @Option(help: "Only events of this merchant id.")
    var merchant: Int64?

    @Option(help: "Only events of this order number.")
    var orderNo: String?

    @Option(help: "Only events in this state; held: waiting behind an earlier event of their order (events list only).")
    var state: EventQuery.StateChoice?

    @Flag(help: "Only dead letters (same as --state dead).")
    var dead = false

    @Option(help: "Received at or after: ISO 8601 (2025-08-05T16:43:55Z, 2025-08-05) or an age (30m, 24h, 7d).")
    var since: String?

    @Option(help: "Received before: same forms as --since.")
    var until: String?

    @Option(help: "At most this many events, oldest first.")
    var limit: Int?

    func validate() throws {
        if let problem = query.problem() { throw ValidationError(problem) }
    }

    var query: EventQuery {
        var query = EventQuery()
        query.status = status
        query.kind = kind
        query.merchant = merchant
        query.orderNo = orderNo
        query.state = state
        query.dead = dead
        query.since = since
        query.until = until
        query.limit = limit
        return query
    }

    var narrows: Bool { query.narrows }
    var filter: EventFilter { query.filter }
}

/// Opens the configured store; configuration problems exit with status 2.
struct StoreOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    /// The store; a SQLite file that does not exist is an error, never
    /// created: an operator command in the wrong folder, or with the wrong
    /// configuration, must not leave an empty database (and `data/`) behind.
    func open() async throws -> any ServedInbox {
        let environment = ProcessInfo.processInfo.environment
        let settings = try config.load(environment: environment)
        if settings.store.kind == .sqlite {
            let path = settings.store.sqlitePath
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                let key = "store.sqlite.path"
                let source =
                    if let variable = settings.sources.environment[key] { "\(key), set by \(variable)" }
                    else if let file = settings.sources.file ?? config.config { "\(key) of --config \(file)" }
                    else { "\(key) of the embedded defaults (no --config), relative to the working directory" }
                let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
                throw ToolError.exit(
                    "no SQLite inbox at \(path)\(absolute == path ? "" : " (\(absolute))"), which is \(source). "
                        + "events never creates a database: give the configuration serve uses, or run where it runs.")
            }
        }
        do {
            return try await StoreFactory.open(settings.store, environment: environment, logger: ToolLogging.logger)
        } catch let error as ConfigurationError {
            throw ConfigOptions.exit2(error)
        }
    }
}

extension Events {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List events, oldest first, as a table or (--json) a JSON array.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var filters: EventFilterOptions

        @Flag(help: "Print a JSON array, one object per event.")
        var json = false

        func run() async throws {
            let (events, held) = try await filters.query.run(on: store.open())
            if json {
                print(JSONValue.array(events.map { .object(EventRendering.summary($0, heldBehind: held[$0.id])) })
                    .compactJSON)
            } else {
                print(EventRendering.table(events, heldBehind: held), terminator: "")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Print one event with its attempts, its conflicting copies and its body (card numbers and CVVs masked).
                """)

        @Argument(help: "The event id, as in `events list`.")
        var id: String

        @OptionGroup var store: StoreOptions

        @Flag(help: """
            Print a JSON object (the list fields, "finished_at", "attempt_history", "attempts_kept", \
            "conflicting_copies" and "body").
            """)
        var json = false

        func run() async throws {
            let store = try await store.open()
            guard let event = try await store.event(id: id) else { throw ToolError.exit("no event \(id)") }
            let object = try await EventDetail.object(event, in: store)
            if json {
                print(object.compactJSON)
                return
            }
            func line(_ member: JSONObject.Member) {
                let text = member.value.stringValue ?? member.value.compactJSON
                print("\(member.key):".padding(toLength: 17, withPad: " ", startingAt: 0) + text)
            }
            for member in object where member.key != "body" && !EventDetail.historyKeys.contains(member.key) {
                line(member)
            }
            print(EventHistoryRendering.text(object))
            if let body = object["body"] { line(JSONObject.Member(key: "body", value: body)) }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make one dead, completed or waiting event pending again, so the workers run its handlers afresh.")

        @Argument(help: "The event id, as in `events list`.")
        var id: String

        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard let event = try await store.open().replay(id: id, now: Date()) else {
                throw ToolError.exit("no event \(id), or it is being processed right now")
            }
            print("event \(event.id) is \(event.state) again")
        }
    }

    struct RetryDead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry-dead", abstract: "Replay every dead letter matching the filters.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var filters: EventFilterOptions

        func validate() throws {
            if let state = filters.state, state != .dead {
                throw ValidationError("retry-dead replays dead letters only: --state \(state.rawValue) contradicts it")
            }
        }

        func run() async throws {
            let replayed = try await DeadLetterRetry.replay(matching: filters.filter, in: store.open())
            print("replayed \(replayed) dead letter\(replayed == 1 ? "" : "s")")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the matching events (their keys are forgotten).",
            discussion: """
                Needs a filter or --yes. Dead letters are deleted only with --dead, and then only they are. \
                Events being processed are never deleted.
                """)

        @OptionGroup var store: StoreOptions
        @OptionGroup var filters: EventFilterOptions

        @Flag(help: "Confirm deleting every event the filters (if any) match.")
        var yes = false

        func validate() throws {
            guard yes || filters.narrows else {
                throw ValidationError("purge deletes every event: give a filter or --yes")
            }
            if filters.state == .dead && !filters.dead { throw ValidationError("use --dead to purge dead letters") }
            if filters.state == .held {
                throw ValidationError(
                    "--state held is for events list; purge --state pending deletes pending events, held or not")
            }
        }

        func run() async throws {
            var filter = filters.filter
            if !filters.dead {
                filter.states = filter.states ?? Set(EventStateName.allCases.filter { $0 != .dead })
            }
            let purged = try await store.open().purge(filter)
            print("purged \(purged) event\(purged == 1 ? "" : "s")")
        }
    }
}
