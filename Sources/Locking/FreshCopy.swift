extension Array {
    /// The elements in `range`, in storage of their own.
    ///
    /// Why not `Array(self[range])`: when the range is the whole array that
    /// shares this array's storage, so a queue that then empties itself with
    /// `removeAll(keepingCapacity: true)` no longer holds the only reference
    /// and allocates a new buffer of the whole capacity. The hand-off to the
    /// dispatch workers did that on every take (80 to 160 KiB, whose frees
    /// made glibc consolidate its free lists: 4% of the server's CPU).
    package func freshCopy(of range: Range<Int>) -> [Element] {
        // Asked for no elements, `init(unsafeUninitializedCapacity:)` writes
        // the count of the process-wide empty array's storage: ThreadSanitizer
        // reported two workers' empty takes as a data race there.
        guard !range.isEmpty else { return [] }
        return [Element](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            self.withUnsafeBufferPointer { source in
                _ = buffer.initialize(fromContentsOf: source[range])
            }
            initialized = range.count
        }
    }
}
