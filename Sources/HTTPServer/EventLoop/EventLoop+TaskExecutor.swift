import Glibc

/// An event loop runs the jobs of tasks that prefer it on its own thread,
/// between rounds of socket events: a ``RouteHandler/nonBlocking(_:)``
/// handler answers with no hop to another thread and back (two wake-ups and
/// context switches per request on a busy machine).
extension EventLoop: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isCurrent {
            readyJobs.append(job)
            return
        }
        // From another thread (a resumed continuation): through the mailbox,
        // which wakes the loop. Once the loop has ended nothing would run the
        // job and its task would never finish: the handler executor runs it.
        if !execute({ [self] in readyJobs.append(job) }) { HandlerExecutor.shared.enqueue(job) }
    }

    /// Whether the caller is this loop's thread.
    var isCurrent: Bool { Self.current === self }

    /// Runs the jobs that were ready when called; jobs they enqueue wait for
    /// the next round, so a task that keeps yielding cannot starve sockets.
    func runReadyJobs() {
        guard !readyJobs.isEmpty else { return }
        var batch: [UnownedJob] = []
        swap(&batch, &readyJobs)
        runningJobs = true
        for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        runningJobs = false
        // Keeps the array's storage for the next round.
        if readyJobs.isEmpty {
            batch.removeAll(keepingCapacity: true)
            swap(&batch, &readyJobs)
        }
    }

    /// After `run()` has returned: jobs still here go to the handler
    /// executor so that their tasks finish (their answers find the
    /// connection gone).
    func handOffJobsLeft() {
        let left = readyJobs
        readyJobs = []
        for job in left { HandlerExecutor.shared.enqueue(job) }
    }

    /// Wakes the handler executor's threads for the jobs this round gave it:
    /// one wake-up per round rather than one per request (each one is a
    /// context switch that also preempts this loop).
    func wakeHandlerExecutor() {
        guard unwokenExecutorJobs > 0 else { return }
        HandlerExecutor.shared.wake(upTo: unwokenExecutorJobs)
        unwokenExecutorJobs = 0
    }
}

extension EventLoop {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// The loop whose `run()` the calling thread is in; nil on other threads.
    static var current: EventLoop? {
        pthread_getspecific(key).map { Unmanaged<EventLoop>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Unretained: `run()` outlives the mark, and clears it before returning.
    static func setCurrent(_ loop: EventLoop?) {
        pthread_setspecific(key, loop.map { Unmanaged.passUnretained($0).toOpaque() })
    }
}
