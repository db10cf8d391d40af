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
        for _ in 0..<max(1, threads) {
            _ = try? Server.spawn(detached: true) { [self] in work() }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        queue.push(UnownedJob(job))
    }

    private func work() {
        // So that work a handler's deadline abandons stays here too.
        ExecutorThreads.register(self)
        while let job = queue.take() {
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
