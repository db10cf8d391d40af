import Glibc
import Locking

/// Threads that each own one SQLite connection and run closures from one
/// shared queue: the writer's single thread takes many at a time, readers
/// one each.
///
/// POSIX threads rather than Swift's cooperative pool: a commit blocks in
/// fsync, and a pool with one thread per core would stall everything else
/// while it waits.
final class ConnectionThreads: Sendable {
    // The threads hold these two, not `self`, so dropping the last reference
    // to `self` closes the queue and lets them finish.
    private let queue = BlockingQueue<any ConnectionJob>()
    private let roster = ThreadRoster()

    /// Starts `count` threads. Each opens its connection with `open`, then
    /// hands `run` batches of up to `batchLimit` queued jobs, oldest first,
    /// until closed and drained. Returns once every connection is open;
    /// throws the first failure to open, after stopping the others.
    init(name: String, count: Int, batchLimit: Int,
         open: @escaping @Sendable () throws -> SQLiteConnection,
         run: @escaping @Sendable (SQLiteConnection, [any ConnectionJob]) -> Void) async throws {
        precondition(count >= 1 && batchLimit >= 1)
        for _ in 0..<count {
            do {
                try await start(name: name, batchLimit: batchLimit, open: open, run: run)
            } catch {
                await close()
                throw error
            }
        }
    }

    deinit { queue.close() }

    /// Queues `body` and returns what it returns on a connection thread.
    func submit<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let request = ConnectionRequest(body, continuation)
            if !queue.push(request) { continuation.resume(throwing: SQLiteError.closed) }
        }
    }

    /// Jobs queued and not yet taken by a thread.
    var queuedCount: Int { queue.count }

    /// False once `close()` has begun.
    var isAccepting: Bool { !queue.isClosed }

    /// Refuses new jobs, lets the threads finish the queued ones, and returns
    /// once every thread has closed its connection and exited.
    func close() async {
        queue.close()
        await roster.allExited()
    }

    private func start(name: String, batchLimit: Int,
                       open: @escaping @Sendable () throws -> SQLiteConnection,
                       run: @escaping @Sendable (SQLiteConnection, [any ConnectionJob]) -> Void) async throws {
        let (queue, roster) = (self.queue, self.roster)
        roster.started()
        try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
            do {
                try spawnThread(name: name) {
                    Self.serve(queue, batchLimit: batchLimit, open: open, run: run, ready: ready)
                    roster.exited()
                }
            } catch {
                roster.exited()
                ready.resume(throwing: error)
            }
        }
    }
    /// One thread's life: open, report, run jobs until closed and drained.
    /// The connection closes when this returns.
    private static func serve(_ queue: BlockingQueue<any ConnectionJob>, batchLimit: Int,
                              open: @Sendable () throws -> SQLiteConnection,
                              run: @Sendable (SQLiteConnection, [any ConnectionJob]) -> Void,
                              ready: CheckedContinuation<Void, any Error>) {
        let connection: SQLiteConnection
        do {
            connection = try open()
        } catch {
            ready.resume(throwing: error)
            return
        }
        ready.resume()
        while let jobs = queue.take(upTo: batchLimit) { run(connection, jobs) }
    }
}

/// Counts running threads and wakes whoever waits for all of them to exit.
private final class ThreadRoster: Sendable {
    private struct State {
        var running = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())

    func started() { state.withLock { $0.running += 1 } }

    func exited() {
        let waiters = state.withLock { state in
            state.running -= 1
            guard state.running == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func allExited() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.running == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// A closure waiting for a connection thread, and the task awaiting its result.
protocol ConnectionJob: AnyObject, Sendable {
    /// Runs the closure with `connection`; returns the error it threw, or nil.
    func perform(on connection: SQLiteConnection) -> (any Error)?
    /// True once the closure has run and returned.
    var hasSucceeded: Bool { get }
    /// Resumes the waiting task with the closure's result, except that
    /// `failure` replaces a success (its batch did not commit) and is also
    /// what a job that never ran gets.
    func complete(replacingSuccessWith failure: (any Error)?)
}

final class ConnectionRequest<T: Sendable>: ConnectionJob, @unchecked Sendable {
    private let body: @Sendable (SQLiteConnection) throws -> T
    private let continuation: CheckedContinuation<T, any Error>
    // Set and read only on the connection thread that took the job.
    private var outcome: Result<T, any Error>?

    init(_ body: @escaping @Sendable (SQLiteConnection) throws -> T, _ continuation: CheckedContinuation<T, any Error>) {
        self.body = body
        self.continuation = continuation
    }

    func perform(on connection: SQLiteConnection) -> (any Error)? {
        do {
            outcome = .success(try body(connection))
            return nil
        } catch {
            outcome = .failure(error)
            return error
        }
    }

    var hasSucceeded: Bool {
        if case .success? = outcome { return true }
        return false
    }

    func complete(replacingSuccessWith failure: (any Error)?) {
        switch (outcome, failure) {
        case (.failure(let error)?, _):
            continuation.resume(throwing: error)
        case (.success(let value)?, nil):
            continuation.resume(returning: value)
        case (_, let failure?):
            continuation.resume(throwing: failure)
        case (nil, nil):
            continuation.resume(throwing: SQLiteError.failed(code: .misuse, message: "a request completed without running"))
        }
    }
}

/// Starts a detached thread; `name` ("SQLite writer") is for the error
/// and, as "sqlite-writer", the thread's.
private func spawnThread(name: String, _ body: @escaping @Sendable () -> Void) throws(SQLiteError) {
    do {
        try startThread(name: String(name.lowercased().map { $0 == " " ? "-" : $0 }), detached: true, body)
    } catch {
        throw .failed(code: .error, message: "cannot start the \(name) thread (pthread_create: \(error.code))")
    }
}
