import Durations
import Foundation
import Inbox
import Logging
import ServiceLifecycle

/// Deletes events completed more than `keep` ago, now and then every
/// `min(keep, 1 hour)`, until graceful shutdown: the one retention of
/// every inbox (memory, SQLite, PostgreSQL, a merchant's own), for the
/// library's ``WebhookServer`` and the standalone `serve` alike. Dead
/// letters stay until replayed or purged.
///
/// Keep completed events at least as long as TrustPay may redeliver a
/// callback: a forgotten key is a new event again.
public struct RetentionSweep: Service {
    public let store: any InboxAdministration
    public let keep: Duration
    let logger: Logger

    public init(store: any InboxAdministration, keep: Duration, logger: Logger) {
        self.store = store
        self.keep = keep
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                await sweepOnce(now: Date())
                try? await Task.sleep(for: min(keep, .seconds(3600)))
            }
        }
    }

    /// One pass: prunes what completed before `now - keep`.
    func sweepOnce(now: Date) async {
        do {
            let pruned = try await store.prune(completedBefore: now.addingTimeInterval(-keep.seconds))
            if pruned > 0 { logger.info("pruned completed events", metadata: ["count": "\(pruned)"]) }
        } catch {
            logger.warning("pruning failed; will try again", metadata: ["error": "\(error)"])
        }
    }
}
