import Foundation
import Inbox
import Logging
import ServiceLifecycle

/// Background loops that run the handlers of events handed over by this
/// process's requests (``HandOff``: recorded already leased) and of the
/// events they claim.
///
/// A worker takes the handed-over events first, then claims due ones
/// (``IdempotencyStore/claimDue(owner:limit:leaseDuration:now:)``: events of
/// other replicas, retries, expired leases, events held behind an earlier one
/// of their order or recorded pending while the hand-off was full), and runs
/// both at once. It sleeps until woken (an event was handed over or recorded
/// pending, a retry fell due: one worker per wake-up) or until `pollInterval` passes, the fallback for
/// events recorded by other replicas and leases that expired. No busy polling.
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
    /// Events recorded here already leased to `handOffOwner`.
    let handOff: HandOff
    /// The lease owner of handed-over events.
    let handOffOwner: String
    let logger: Logger

    static let wakeKey = 0

    /// Runs until the calling task is cancelled or, in a `ServiceGroup`,
    /// until its graceful shutdown: then no worker claims again, and the
    /// handlers already running finish (within the handler timeout) and have
    /// their outcome recorded, as a drained request does.
    ///
    /// Events already handed over are run too, not left to their leases: the
    /// hand-off closes first, so that only the queued ones and those of
    /// records still under way remain (at most its capacity, run a batch at
    /// a time, each within the handler timeout), and a `MemoryInbox`, which
    /// no restart gives back, loses none. On cancellation they stay queued
    /// for a later run of the same pipeline; a killed process leaves them
    /// leased in the store, to run when the leases end or are released at
    /// the next start (see ``HandOff``).
    func run() async {
        handOff.open()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for index in 0..<max(1, count) {
                    group.addTask { await loop(owner: "\(ownerPrefix)/worker-\(index)") }
                }
            }
        } onGracefulShutdown: { [handOff, wakeUps] in
            handOff.close()
            wakeUps.notify(Self.wakeKey)  // idle workers look again and see the shutdown
        }
        handOff.close()
    }

    private func loop(owner: String) async {
        let batch = max(1, self.batch)
        // Set when the hand-off filled a batch: the next one leaves room for
        // a claim, so that a hand-off that stays full starves none of the
        // events only a claim finds (an order's next event once the handed
        // one completes, retries, other replicas' events), and never more
        // than `batch` handlers run at once.
        var leaveRoom = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let tookFewer = leaveRoom
            let handed = handOff.take(upTo: leaveRoom ? batch - 1 : batch)
            let room = batch - handed.count
            leaveRoom = room == 0
            var claimed: [InboxEvent] = []
            if room > 0 {
                do {
                    claimed = try await store.claimDue(
                        owner: owner, limit: room, leaseDuration: leaseDuration, now: Date())
                } catch {
                    logger.warning("cannot claim events: the store is unavailable", metadata: ["worker": "\(owner)"])
                    if handed.isEmpty {
                        await wakeUps.wait(for: Self.wakeKey, timeout: pollInterval)
                        continue
                    }
                }
            }
            if handed.isEmpty && claimed.isEmpty {
                // Having left room, the hand-off may hold more: look again at once.
                if tookFewer { continue }
                await wakeUps.wait(for: Self.wakeKey, timeout: pollInterval)
                continue
            }
            // A wake-up reaches one worker; a full batch says more may be
            // waiting (a busy hand-off, a backlog, retries falling due
            // together), so it passes the wake-up on and the workers share them.
            if handed.count + claimed.count >= batch { wakeUps.notifyOne(Self.wakeKey) }
            await runAll(handed, claimed: claimed, owner: owner)
        }
        guard !Task.isCancelled else { return }
        // Graceful shutdown: the events handed over before the hand-off closed.
        while !Task.isCancelled {
            let handed = handOff.take(upTo: max(1, batch))
            if handed.isEmpty {
                if handOff.isSettled { return }
                // A record under way delivers or releases its place, and wakes us.
                await wakeUps.wait(for: Self.wakeKey, timeout: .milliseconds(50))
                continue
            }
            await runAll(handed, claimed: [], owner: owner)
        }
    }

    /// At once, not one after another: each is bounded by the handler
    /// timeout, so the last of the batch still ends within its lease.
    ///
    /// The last event runs in this task, beside the child tasks of the
    /// others, not in a child of its own: a batch of one (a worker keeping
    /// up) makes no child task, and a larger one a child fewer. A task per
    /// event cost ~2,500 instructions and a hop through the executor's
    /// queue (callgrind, BENCHMARKS.md session 11).
    private func runAll(_ handed: [HandOff.Item], claimed: [InboxEvent], owner: String) async {
        if claimed.isEmpty, handed.count == 1 {
            _ = await dispatcher.run(handed[0].event, owner: handOffOwner, decoded: handed[0].decoded)
            return
        }
        if handed.isEmpty, claimed.count == 1 {
            await run(claimed[0], owner: owner)
            return
        }
        await withDiscardingTaskGroup { group in
            for item in handed.dropLast(claimed.isEmpty ? 1 : 0) {
                group.addTask { _ = await dispatcher.run(item.event, owner: handOffOwner, decoded: item.decoded) }
            }
            for event in claimed.dropLast() {
                group.addTask { await run(event, owner: owner) }
            }
            if let event = claimed.last {
                await run(event, owner: owner)
            } else if let item = handed.last {
                _ = await dispatcher.run(item.event, owner: handOffOwner, decoded: item.decoded)
            }
        }
    }

    /// A claimed event, with the callback the intake decoded if this process has it.
    private func run(_ event: InboxEvent, owner: String) async {
        _ = await dispatcher.run(event, owner: owner, decoded: decodedCallbacks.take(event.id))
    }
}
