import Deadlines
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
///
/// With a store whose writes wait on a group commit (SQLite, PostgreSQL:
/// ``IdempotencyStore/writesWaitForGroupCommit``) a worker takes its next
/// batch as soon as the last one's handlers return, while their outcomes
/// commit (``PipelinedBatches``); with the memory inbox, whose writes end at
/// once, it runs a batch and records it before taking more.
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
    /// When a worker with handed-over events claims too.
    let pacing: ClaimPacing
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
                    group.addTask { await supervise(owner: "\(ownerPrefix)/worker-\(index)") }
                }
            }
        } onGracefulShutdown: { [handOff, wakeUps] in
            handOff.close()
            wakeUps.notify(Self.wakeKey)  // idle workers look again and see the shutdown
        }
        handOff.close()
    }

    /// One worker: its loop runs in a runner task, and the handlers in it
    /// (see ``WorkerShift``). When an attempt overruns the handler timeout,
    /// this records it as timed out, cancels and abandons that runner (the
    /// stuck handler keeps it) and starts another on the same loop. When
    /// cancelled, it answers for the attempts under way at once, as a
    /// deadline does, and leaves the runner to end when its handlers notice.
    ///
    /// The runner is an unstructured task because it must be able to outlive
    /// this one: a child task would make shutdown wait for a handler that
    /// never returns. It keeps this task's executor and task-local values
    /// (graceful shutdown among them).
    private func supervise(owner: String) async {
        let supervisor = ShiftSupervisor()
        var current = startShift(owner: owner, supervisor: supervisor)
        // Runners abandoned since and not yet ended: their other attempts may still overrun or need answering.
        var abandoned: [WorkerShift] = []
        while true {
            switch await supervisor.next() {
            case .ended(let shift):
                if shift === current.shift { return }
                abandoned.removeAll { $0 === shift }
            case .overran(let attempt, let shift):
                if shift === current.shift {
                    current.runner.cancel()
                    abandoned.append(shift)
                    current = startShift(owner: owner, supervisor: supervisor)
                }
                await dispatcher.record(attempt, failure: .timedOut(dispatcher.handlerTimeout))
            case .cancelled:
                current.runner.cancel()
                for shift in abandoned + [current.shift] {
                    for attempt in shift.takeAll() {
                        await dispatcher.record(attempt, failure: .threw(String(describing: CancellationError())))
                    }
                }
                return
            }
        }
    }

    private func startShift(owner: String, supervisor: ShiftSupervisor) -> (shift: WorkerShift, runner: Task<Void, Never>) {
        let shift = WorkerShift(supervisor: supervisor, timeout: dispatcher.handlerTimeout, timer: DeadlineThread.shared)
        let runner = Task(executorPreference: ExecutorThreads.current) {
            await loop(owner: owner, shift: shift)
            supervisor.post(.ended(shift))
        }
        return (shift, runner)
    }

    private func loop(owner: String, shift: WorkerShift) async {
        guard store.writesWaitForGroupCommit else {
            await takeAndRun(owner: owner, shift: shift, pipelined: nil) { handed, claimed in
                await runAll(handed, claimed: claimed, owner: owner, shift: shift)
            }
            return
        }
        // Each event in a child task of the loop's group, so that its
        // outcome commits while the worker takes the next batch; the group
        // waits for the last outcomes before the runner ends.
        await withDiscardingTaskGroup { group in
            let batches = PipelinedBatches(recordingLimit: Self.batchesCommitting * max(1, batch))
            await takeAndRun(owner: owner, shift: shift, pipelined: batches) { handed, claimed in
                batches.taking(handed.count + claimed.count)
                for item in handed {
                    group.addTask {
                        await pipelined(item.event, owner: handOffOwner, decoded: item.decoded, shift, batches)
                    }
                }
                for event in claimed {
                    group.addTask {
                        await pipelined(event, owner: owner, decoded: decodedCallbacks.take(event.id), shift, batches)
                    }
                }
                await batches.readyForMore()
            }
        }
    }

    /// Batches whose outcomes may still be committing when a pipelining
    /// worker takes the next one (see ``PipelinedBatches``). With one, the
    /// workers still fell behind the requests' records: 48% of events
    /// claimed against 64% waiting for each commit, 13% with two
    /// (callgrind, BENCHMARKS.md session 14).
    static let batchesCommitting = 2

    /// Takes events (handed over, then claimed) and gives each batch to
    /// `runBatch` until shutdown, then runs what was handed over before the
    /// hand-off closed.
    private func takeAndRun(
        owner: String, shift: WorkerShift, pipelined batches: PipelinedBatches?,
        _ runBatch: (_ handed: [HandOff.Item], _ claimed: [InboxEvent]) async -> Void
    ) async {
        let batch = max(1, self.batch)
        // Set when the hand-off filled a batch: the next one leaves room for
        // a claim, so that a hand-off that stays full starves none of the
        // events only a claim finds (an order's next event once the handed
        // one completes, retries, other replicas' events), and never more
        // than `batch` handlers run at once. Such claims beside handed-over
        // events are paced (``ClaimPacing``).
        var leaveRoom = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let tookFewer = leaveRoom
            let handed = handOff.take(upTo: leaveRoom ? batch - 1 : batch)
            let room = batch - handed.count
            leaveRoom = room == 0
            var claimed: [InboxEvent] = []
            if room > 0, let ticket = pacing.claim(busy: !handed.isEmpty) {
                batches?.claiming()
                do {
                    claimed = try await store.claimDue(
                        owner: owner, limit: room, leaseDuration: leaseDuration, now: Date())
                    pacing.claimed(ticket, found: !claimed.isEmpty)
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
                // Its outcomes committed after the claim began: they may have let events go.
                if let batches, !batches.mayIdle() { continue }
                await wakeUps.wait(for: Self.wakeKey, timeout: pollInterval)
                batches?.awake()
                continue
            }
            // A wake-up reaches one worker; a full batch says more may be
            // waiting (a busy hand-off, a backlog, retries falling due
            // together), so it passes the wake-up on and the workers share them.
            if handed.count + claimed.count >= batch { wakeUps.notifyOne(Self.wakeKey) }
            dispatcher.metrics.dispatched(handedOver: handed.count, claimed: claimed.count)
            await runBatch(handed, claimed)
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
            dispatcher.metrics.dispatched(handedOver: handed.count, claimed: 0)
            await runBatch(handed, [])
        }
    }

    /// One event of a pipelining worker: its outcome is recorded after the
    /// worker has been told that its handlers returned.
    private func pipelined(
        _ event: InboxEvent, owner: String, decoded: DecodedCallback?, _ shift: WorkerShift, _ batches: PipelinedBatches
    ) async {
        let ending = await dispatcher.attempt(event, owner: owner, decoded: decoded, in: shift)
        batches.handlersReturned()
        if let ending { await dispatcher.record(ending) }
        if batches.recorded() { wakeUps.notifyOne(Self.wakeKey) }
    }

    /// At once, not one after another: each is bounded by the handler
    /// timeout, so the last of the batch still ends within its lease.
    ///
    /// The last event runs in this task, beside the child tasks of the
    /// others, not in a child of its own: a batch of one (a worker keeping
    /// up) makes no child task, and a larger one a child fewer. A task per
    /// event cost ~2,500 instructions and a hop through the executor's
    /// queue (callgrind, BENCHMARKS.md session 11).
    private func runAll(_ handed: [HandOff.Item], claimed: [InboxEvent], owner: String, shift: WorkerShift) async {
        if claimed.isEmpty, handed.count == 1 {
            await dispatcher.run(handed[0].event, owner: handOffOwner, decoded: handed[0].decoded, in: shift)
            return
        }
        if handed.isEmpty, claimed.count == 1 {
            await run(claimed[0], owner: owner, shift: shift)
            return
        }
        await withDiscardingTaskGroup { group in
            for item in handed.dropLast(claimed.isEmpty ? 1 : 0) {
                group.addTask { await dispatcher.run(item.event, owner: handOffOwner, decoded: item.decoded, in: shift) }
            }
            for event in claimed.dropLast() {
                group.addTask { await run(event, owner: owner, shift: shift) }
            }
            if let event = claimed.last {
                await run(event, owner: owner, shift: shift)
            } else if let item = handed.last {
                await dispatcher.run(item.event, owner: handOffOwner, decoded: item.decoded, in: shift)
            }
        }
    }

    /// A claimed event, with the callback the intake decoded if this process has it.
    private func run(_ event: InboxEvent, owner: String, shift: WorkerShift) async {
        await dispatcher.run(event, owner: owner, decoded: decodedCallbacks.take(event.id), in: shift)
    }
}
