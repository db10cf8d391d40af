import CLinuxSys
import Glibc

/// SIGTERM/SIGINT delivered to a callback on an ordinary thread. The signal
/// handler only writes the signal number to a pipe (async-signal-safe); a
/// thread reads it and calls back, so no thread's signal mask matters.
public enum ShutdownSignals {
    nonisolated(unsafe) private static var pipeWriteFD: Int32 = -1

    public static func install(_ onSignal: @escaping @Sendable (Int32) -> Void) {
        var fds: [Int32] = [0, 0]
        guard pipe2(&fds, O_CLOEXEC) == 0 else { return }
        pipeWriteFD = fds[1]
        let readFD = fds[0]
        for sig in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = write(ShutdownSignals.pipeWriteFD, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
        _ = try? HTTPServer.spawn(detached: true) {
            var byte: UInt8 = 0
            while true {
                let n = read(readFD, &byte, 1)
                if n == 1 { onSignal(Int32(byte)) } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}
