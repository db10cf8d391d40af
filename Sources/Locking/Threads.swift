// Linux only: the threads it starts are the epoll server's and the
// SQLite store's, which build nowhere else.
#if os(Linux)
import Glibc

/// `pthread_create` failed (its error number): the process is out of threads or memory.
package struct ThreadStartFailure: Error, CustomStringConvertible {
    package let code: Int32
    package var description: String { "cannot start a thread (pthread_create: \(code))" }
}

/// Starts a POSIX thread running `body`: the event loops, the handler
/// executor and the SQLite connections run on threads of their own, never
/// on Swift's cooperative pool. A detached thread cannot be joined.
@discardableResult
package func startThread(detached: Bool, _ body: @escaping @Sendable () -> Void) throws(ThreadStartFailure) -> pthread_t {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&thread, nil, { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, box)
    guard rc == 0 else {
        Unmanaged<Box>.fromOpaque(box).release()
        throw ThreadStartFailure(code: rc)
    }
    if detached { pthread_detach(thread) }
    return thread
}
#endif
