import Deadlines
import Locking

/// The threads async route handlers run on, one per core, shared by every
/// server in the process. Handlers never run on an event loop (a blocking
/// handler must not stall sockets) nor on Swift's cooperative pool (code
/// elsewhere in the process that blocks it must not stall the server):
/// handler tasks prefer this executor, and so do their child tasks and
/// non-actor async calls. The dispatch workers prefer it as well
/// (``Server/handlerExecutor``).
final class HandlerExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = HandlerExecutor(threads: HTTPServerConfiguration.coreCount)

    private let queue = BlockingQueue<UnownedJob>()

    private init(threads: Int) {
        for index in 0..<max(1, threads) {
            _ = try? Server.spawn(name: "handlers-\(index)", detached: true) { [self] in work() }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        enqueue(UnownedJob(job))
    }

    /// Also for jobs another executor could not run (an event loop that has
    /// ended). From an event loop's thread the job is queued without waking
    /// a thread: the loop wakes them once its round ends
    /// (``EventLoop/wakeHandlerExecutor()``).
    func enqueue(_ job: UnownedJob) {
        if let loop = EventLoop.current {
            if queue.push(job, wakingAThread: false) { loop.unwokenExecutorJobs += 1 }
        } else {
            queue.push(job)
        }
    }

    /// Wakes up to `count` waiting threads for jobs queued without a wake-up.
    func wake(upTo count: Int) {
        queue.wake(upTo: count)
    }

    private func work() {
        // So that work a handler's deadline abandons stays here too.
        ExecutorThreads.register(self)
        while let job = queue.take() {
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
