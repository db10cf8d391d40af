/// A connection's read buffer: bytes land at `end`, the parser reads from
/// `start`. It grows by doubling up to a cap and compacts instead of
/// growing when consumed space at the front can be reused.
struct InputBuffer {
    private(set) var storage: UnsafeMutableRawBufferPointer
    private(set) var start = 0
    private(set) var end = 0
    let maxCapacity: Int

    init(initialCapacity: Int, maxCapacity: Int) {
        storage = .allocate(byteCount: initialCapacity, alignment: 16)
        self.maxCapacity = max(initialCapacity, maxCapacity)
    }

    func deallocate() { storage.deallocate() }

    var readable: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }
    var count: Int { end - start }
    var isEmpty: Bool { start == end }

    mutating func consume(_ n: Int) {
        start += n
        if start == end {
            start = 0
            end = 0
        }
    }

    mutating func didWrite(_ n: Int) { end += n }

    /// Free space after `end`, making room first if possible; empty when the
    /// buffer is full of unconsumed bytes at its maximum size.
    mutating func writableSpace() -> UnsafeMutableRawBufferPointer {
        if end == storage.count {
            if start > 0 {
                let live = end - start
                storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: live)
                start = 0
                end = live
            } else if storage.count < maxCapacity {
                let bigger = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: min(storage.count * 2, maxCapacity), alignment: 16)
                bigger.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: end)
                storage.deallocate()
                storage = bigger
            }
        }
        return UnsafeMutableRawBufferPointer(rebasing: storage[end...])
    }

    mutating func clear() {
        start = 0
        end = 0
    }
}
