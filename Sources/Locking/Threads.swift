// Linux only: the threads it starts are the epoll server's and the
// SQLite store's, which build nowhere else.
#if os(Linux)
import CLinuxSys
import Glibc

/// `pthread_create` failed (its error number): the process is out of threads or memory.
package struct ThreadStartFailure: Error, CustomStringConvertible {
    package let code: Int32
    package var description: String { "cannot start a thread (pthread_create: \(code))" }
}

/// Starts a POSIX thread running `body`: the event loops, the handler
/// executor and the SQLite connections run on threads of their own, never
/// on Swift's cooperative pool. A detached thread cannot be joined.
///
/// `name` (at most 15 bytes are kept) is what `top -H`, `perf` and
/// `/proc/PID/task/*/comm` show; unnamed, a thread inherits its creator's
/// name, and threads started from a Swift task would all read
/// "com.apple.root.default-qos" like libdispatch's own.
@discardableResult
package func startThread(
    name: String, detached: Bool, _ body: @escaping @Sendable () -> Void
) throws(ThreadStartFailure) -> pthread_t {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let named: @Sendable () -> Void = {
        _ = pthread_setname_np(pthread_self(), String(decoding: name.utf8.prefix(15), as: UTF8.self))
        body()
    }
    let box = Unmanaged.passRetained(Box(named)).toOpaque()
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
