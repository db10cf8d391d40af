import ChildProcesses
import Foundation
import Testing

/// The arrows between modules run one way: wire format, configuration and
/// stores know nothing of sockets, and the inbox nothing of the wire format. Read from the manifest SwiftPM evaluates
/// (`swift package dump-package`), so a new dependency in `Package.swift`
/// that breaks a rule fails here, not in a review.
@Suite struct ModuleGraphTests {
    /// Modules that must not reach `HTTPServer`, directly or through others.
    static let socketFree = [
        "TrustPay", "NetworkAddresses", "ServiceConfiguration", "SQLiteStore", "Locking", "Inbox", "InboxTesting",
        "SQLiteInbox", "PostgresInbox",
    ]

    /// The store contract and its adapters know no wire format: TrustPay's
    /// rules (keys, order references, status ranks) reach them as values.
    static let wireFormatFree = ["Inbox", "InboxTesting", "SQLiteInbox", "PostgresInbox"]

    @Test func configurationWireFormatAndStorageDoNotLinkTheServer() async throws {
        let graph = try await ModuleGraph.load()
        for module in Self.socketFree {
            let reached = graph.reachable(from: module)
            #expect(!reached.isEmpty || graph.targets[module] != nil, "\(module) is not a target of the package")
            #expect(!reached.contains("HTTPServer"), "\(module) reaches HTTPServer through \(graph.path(from: module, to: "HTTPServer"))")
        }
    }

    @Test func theInboxAndItsStoresDoNotKnowTheWireFormat() async throws {
        let graph = try await ModuleGraph.load()
        for module in Self.wireFormatFree {
            #expect(graph.targets[module] != nil, "\(module) is not a target of the package")
            for forbidden in ["TrustPay", "Webhooks"] {
                #expect(!graph.reachable(from: module).contains(forbidden),
                        "\(module) reaches \(forbidden) through \(graph.path(from: module, to: forbidden))")
            }
        }
    }

    /// The wire format builds wherever Swift does: no system library module
    /// (epoll shims, the system OpenSSL or SQLite, or C written on SQLite) below it.
    @Test func theWireFormatReachesNoSystemLibrary() async throws {
        let graph = try await ModuleGraph.load()
        let systemLibraries: Set = ["CLinuxSys", "COpenSSL", "CSQLite", "CSQLiteWALBuffer"]
        let reached = graph.reachable(from: "TrustPay").intersection(systemLibraries)
        #expect(reached.isEmpty, "TrustPay reaches \(reached.sorted())")
    }

    /// The checker itself: a module reaches what it names and what those
    /// name, and nothing else.
    @Test func reachabilityFollowsDependenciesTransitively() {
        let graph = ModuleGraph(targets: ["A": ["B"], "B": ["C"], "C": [], "D": ["A"]])
        #expect(graph.reachable(from: "A") == ["B", "C"])
        #expect(graph.reachable(from: "D") == ["A", "B", "C"])
        #expect(graph.path(from: "D", to: "C") == "D → A → B → C")
    }
}

/// Target names and the targets each depends on (products of other
/// packages left out).
struct ModuleGraph {
    let targets: [String: [String]]

    static func load() async throws -> ModuleGraph {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        // Its own scratch path: `swift test` holds the lock of `.build`.
        let scratch = NSTemporaryDirectory() + "dump-package-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let run = try await ChildProcess.run(
            ["swift", "package", "--scratch-path", scratch, "dump-package"], directory: root, timeout: .seconds(300))
        try #require(run.status == 0, "swift package dump-package failed: \(run.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let entries = try #require(manifest?["targets"] as? [[String: Any]])
        var targets: [String: [String]] = [:]
        for entry in entries {
            guard let name = entry["name"] as? String else { continue }
            let dependencies = entry["dependencies"] as? [[String: Any]] ?? []
            targets[name] = dependencies.compactMap { dependency in
                let named = (dependency["byName"] ?? dependency["target"]) as? [Any]
                return named?.first as? String
            }
        }
        return ModuleGraph(targets: targets)
    }

    func reachable(from module: String) -> Set<String> {
        var seen: Set<String> = []
        var pending = targets[module] ?? []
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            pending += targets[next] ?? []
        }
        return seen
    }

    /// One chain of dependencies from `start` to `end`, for the failure message.
    func path(from start: String, to end: String) -> String {
        var previous: [String: String] = [:]
        var queue = [start]
        var visited: Set<String> = [start]
        while !queue.isEmpty {
            let module = queue.removeFirst()
            if module == end { break }
            for next in targets[module] ?? [] where visited.insert(next).inserted {
                previous[next] = module
                queue.append(next)
            }
        }
        guard previous[end] != nil else { return "(no path)" }
        var chain = [end]
        while let before = previous[chain[0]] { chain.insert(before, at: 0) }
        return chain.joined(separator: " → ")
    }
}
