import Dispatch
import Locking

/// The threads async route handlers run on, one per core, shared by every
/// server in the process. Handlers never run on an event loop (a blocking
/// handler must not stall sockets) nor on Swift's cooperative pool (code
/// elsewhere in the process that blocks it must not stall the server):
/// handler tasks prefer this executor, and so do their child tasks and
/// non-actor async calls.
final class HandlerExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = HandlerExecutor(threads: HTTPServerConfiguration.coreCount)

    private let queue = Locked(JobQueue())
    private let available = DispatchSemaphore(value: 0)

    private init(threads: Int) {
        for _ in 0..<max(1, threads) {
            _ = try? HTTPServer.spawn(detached: true) { [self] in work() }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.withLock { $0.push(unowned) }
        available.signal()
    }

    private func work() {
        while true {
            available.wait()
            if let job = queue.withLock({ $0.pop() }) {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }
}

/// FIFO of jobs with amortised O(1) pop.
private struct JobQueue {
    private var jobs: [UnownedJob] = []
    private var head = 0

    mutating func push(_ job: UnownedJob) { jobs.append(job) }

    mutating func pop() -> UnownedJob? {
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}
