import Foundation
import Glibc
import Inbox

/// One server owns a SQLite inbox: it holds an exclusive lock on
/// `<database>.lock` for as long as it runs, so a second `serve` on the same
/// file is refused, and the owner, at start, knows that no other process is
/// handling the inbox's events and may release every lease at once
/// (``SQLiteInbox/releaseAllLeases(now:)``) instead of waiting them out.
///
/// The lock is `flock` on a descriptor that children do not inherit
/// (close-on-exec), so the kernel drops it when the process ends, however it
/// ends: a server killed with SIGKILL leaves nothing to clean up. Operator
/// commands (`events …`) do not take it: they may run beside the server.
public final class SQLiteOwnership: Sendable {
    public let lockPath: String
    private let descriptor: Int32

    private init(lockPath: String, descriptor: Int32) {
        self.lockPath = lockPath
        self.descriptor = descriptor
    }

    /// Takes the lock of the database at `databasePath`, creating its
    /// directory and the lock file as needed.
    /// - Throws: ``StoreError/unavailable(_:)`` naming the file when another
    ///   process holds it, or when the lock file cannot be made.
    public static func acquire(databasePath: String) throws(StoreError) -> SQLiteOwnership {
        try SQLiteInbox.createDirectory(containing: databasePath)
        let lockPath = databasePath + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .unavailable("cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            if error == EINTR { continue }
            close(fd)
            if error == EWOULDBLOCK {
                throw .unavailable(
                    "another server is already running on the SQLite database \(databasePath) (it holds \(lockPath)); "
                        + "one server owns a SQLite inbox: stop the other one, or use store.kind: postgres for several replicas")
            }
            throw .unavailable("cannot lock \(lockPath): \(String(cString: strerror(error)))")
        }
        return SQLiteOwnership(lockPath: lockPath, descriptor: fd)
    }

    deinit { close(descriptor) }
}
