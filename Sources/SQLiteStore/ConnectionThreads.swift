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
        try await withUnsafeThrowingContinuation { continuation in
            let request = ConnectionRequest(body, continuation)
            if !queue.push(request) { request.complete(replacingSuccessWith: SQLiteError.closed) }
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

/// A ``ConnectionJob`` for a closure returning `T`.
///
/// The writer thread runs these methods through ``ConnectionJob``, so
/// unspecialized: each use of a generic type built on `T` there (a
/// `Result<T, any Error>` outcome, a `CheckedContinuation<T, any Error>`,
/// both resilient) looked its metadata up at run time, about 340
/// instructions each and six per request on the writer (callgrind). So the
/// value waits in memory of its own, the error apart, and the continuation
/// is the unsafe one (a single pointer); `stage` keeps the checked one's
/// rule that it is resumed exactly once.
final class ConnectionRequest<T: Sendable>: ConnectionJob, @unchecked Sendable {
    private let body: @Sendable (SQLiteConnection) throws -> T
    private let continuation: UnsafeContinuation<T, any Error>
    // Set and read only on the connection thread that took the job.
    private let value = UnsafeMutablePointer<T>.allocate(capacity: 1)
    private var error: (any Error)?
    private var stage = RequestStage.queued

    init(_ body: @escaping @Sendable (SQLiteConnection) throws -> T, _ continuation: UnsafeContinuation<T, any Error>) {
        self.body = body
        self.continuation = continuation
    }

    deinit {
        precondition(stage == .completed, "a connection request was dropped without resuming its task")
        value.deallocate()
    }

    /// May run again (a batch run again isolated after another request of
    /// it failed): the first run's outcome is dropped.
    func perform(on connection: SQLiteConnection) -> (any Error)? {
        precondition(stage != .completed, "a connection request ran after it completed")
        if stage == .succeeded { value.deinitialize(count: 1) }
        error = nil
        do {
            value.initialize(to: try body(connection))
            stage = .succeeded
            return nil
        } catch {
            self.error = error
            stage = .failed
            return error
        }
    }

    var hasSucceeded: Bool { stage == .succeeded }

    func complete(replacingSuccessWith failure: (any Error)?) {
        let stage = self.stage
        precondition(stage != .completed, "a connection request completed twice")
        self.stage = .completed
        switch (stage, failure) {
        case (.failed, _):
            continuation.resume(throwing: error ?? SQLiteError.failed(code: .misuse, message: "a request failed without an error"))
        case (.succeeded, nil):
            continuation.resume(returning: value.move())
        case (.succeeded, let failure?):
            value.deinitialize(count: 1)
            continuation.resume(throwing: failure)
        case (_, let failure?):
            continuation.resume(throwing: failure)
        case (_, nil):
            continuation.resume(throwing: SQLiteError.failed(code: .misuse, message: "a request completed without running"))
        }
    }
}

/// Where a ``ConnectionRequest`` is; outside it so as not to be generic.
private enum RequestStage {
    case queued, succeeded, failed, completed
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
