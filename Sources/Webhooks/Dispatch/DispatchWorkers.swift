import Foundation
import Inbox
import Logging
import ServiceLifecycle

/// Background loops that claim due events and run their handlers.
///
/// A worker sleeps until woken (an event was recorded, or a retry fell due:
/// one worker per wake-up) or until `pollInterval` passes, the fallback for events recorded by other
/// replicas and leases that expired. No busy polling.
struct DispatchWorkers: Sendable {
    let dispatcher: Dispatcher
    let store: any IdempotencyStore
    let count: Int
    /// Events claimed at once; their handlers run concurrently.
    let batch: Int
    let leaseDuration: Duration
    let pollInterval: Duration
    /// Prefix of lease owners: unique per process.
    let ownerPrefix: String
    let wakeUps: Waiters<Int>
    /// Callbacks the intake already decoded, for the first attempt of events recorded here.
    let decodedCallbacks: DecodedCallbacks
    let logger: Logger

    static let wakeKey = 0

    /// Runs until the calling task is cancelled or, in a `ServiceGroup`,
    /// until its graceful shutdown: then no worker claims again, and the
    /// handlers already running finish (within the handler timeout) and have
    /// their outcome recorded, as a drained request does.
    func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for index in 0..<max(1, count) {
                    group.addTask { await loop(owner: "\(ownerPrefix)/worker-\(index)") }
                }
            }
        } onGracefulShutdown: { [wakeUps] in
            wakeUps.notify(Self.wakeKey)  // idle workers look again and see the shutdown
        }
    }

    private func loop(owner: String) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let claimed: [InboxEvent]
            do {
                claimed = try await store.claimDue(
                    owner: owner, limit: max(1, batch), leaseDuration: leaseDuration, now: Date())
            } catch {
                logger.warning("cannot claim events: the store is unavailable", metadata: ["worker": "\(owner)"])
                await wakeUps.wait(for: Self.wakeKey, timeout: pollInterval)
                continue
            }
            if claimed.isEmpty {
                await wakeUps.wait(for: Self.wakeKey, timeout: pollInterval)
                continue
            }
            // A wake-up reaches one worker; a full batch says more may be
            // due (a backlog, retries falling due together), so it passes
            // the wake-up on and the workers share them.
            if claimed.count >= max(1, batch) { wakeUps.notifyOne(Self.wakeKey) }
            // At once, not one after another: each is bounded by the handler
            // timeout, so the last of the batch still ends within its lease.
            await withDiscardingTaskGroup { group in
                for event in claimed {
                    group.addTask {
                        _ = await dispatcher.run(event, owner: owner, decoded: decodedCallbacks.take(event.id))
                    }
                }
            }
        }
    }
}
