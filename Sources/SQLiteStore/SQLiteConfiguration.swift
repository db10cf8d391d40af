/// How each connection of a store is set up.
public struct SQLiteConfiguration: Sendable, Hashable {
    /// When a commit reaches the disk (`PRAGMA synchronous`), in WAL mode.
    public enum Synchronous: String, Sendable, Hashable {
        /// The WAL is fsynced at every commit, before the commit returns: a
        /// committed transaction survives a process crash and a power loss.
        case full = "FULL"
        /// The WAL is fsynced only at checkpoints: a committed transaction
        /// survives a process crash, but the last ones may be lost on power
        /// loss or an operating-system crash.
        case normal = "NORMAL"
    }

    /// Default `.full`: an acknowledged callback must survive a power loss.
    public var synchronous: Synchronous
    /// How long a statement waits for another connection's lock before it
    /// fails with `SQLiteError.busy` (`PRAGMA busy_timeout`). Default 5 s.
    public var busyTimeout: Duration
    /// Prepared statements each connection keeps for reuse, keyed by their
    /// SQL text; the least recently used is finalized past this. Default 64.
    public var statementCacheCapacity: Int
    /// The page cache of a `GroupCommitWriter`'s connection, in KiB
    /// (`PRAGMA cache_size = -N`); readers keep SQLite's default (2 MiB).
    /// Default 64 MiB: every callback inserts into a dozen indexes, several
    /// at random places (ids, keys, orders); with 2 MiB, once the inbox
    /// holds more than a few thousand events, most of those inserts read
    /// their page back from the file on the writer thread, the one thread
    /// every durable callback waits for.
    public var writerCacheKiB: Int
    /// Whether a `GroupCommitWriter`'s connection writes each transaction's
    /// WAL frames to the file in one write (the `CSQLiteWALBuffer` VFS)
    /// rather than SQLite's two per page: ~4 system calls fewer per durable
    /// callback on the writer thread. What reaches the disk, and when, is
    /// the same. Default true; false for comparison.
    public var gathersWALFrames: Bool

    public init(synchronous: Synchronous = .full, busyTimeout: Duration = .seconds(5),
                statementCacheCapacity: Int = 64, writerCacheKiB: Int = 65_536, gathersWALFrames: Bool = true) {
        self.synchronous = synchronous
        self.busyTimeout = busyTimeout
        self.statementCacheCapacity = statementCacheCapacity
        self.writerCacheKiB = writerCacheKiB
        self.gathersWALFrames = gathersWALFrames
    }
}
