import Glibc

/// The process's limit on open file descriptors (RLIMIT_NOFILE), which
/// bounds how many connections a server can hold.
public enum OpenFilesLimit {
    /// Raises the soft limit to the hard one, as a server that expects many
    /// connections should (the soft default is often 1024). Returns the soft
    /// limit in force afterwards. A process-wide change: the caller decides,
    /// the server never does it by itself.
    @discardableResult
    public static func raiseToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_ID, &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_ID, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    private static var RLIMIT_NOFILE_ID: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
