/// A connection's read buffer: bytes land at `end`, the parser reads from
/// `start`. It grows by doubling up to a cap and compacts instead of
/// growing when consumed space at the front can be reused. An empty buffer
/// holds no memory: its storage goes back to the loop's pool, so an idle
/// keep-alive connection costs no buffer at all.
struct InputBuffer {
    private(set) var storage: UnsafeMutableRawBufferPointer?
    private(set) var start = 0
    private(set) var end = 0
    let maxCapacity: Int

    init(maxCapacity: Int) {
        self.maxCapacity = maxCapacity
    }

    var readable: UnsafeRawBufferPointer {
        guard let storage else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: storage[start..<end])
    }
    var count: Int { end - start }
    var isEmpty: Bool { start == end }
    /// Whether no more bytes fit: the connection stops reading until some are consumed.
    var isFull: Bool { count >= maxCapacity }

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
    mutating func writableSpace(from pool: BufferPool) -> UnsafeMutableRawBufferPointer {
        guard let current = storage else {
            let fresh = pool.take()
            storage = fresh
            return fresh
        }
        if end == current.count {
            if start > 0 {
                let live = end - start
                current.baseAddress!.copyMemory(from: current.baseAddress! + start, byteCount: live)
                start = 0
                end = live
            } else if current.count < maxCapacity {
                let bigger = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: min(current.count * 2, maxCapacity), alignment: 16)
                bigger.baseAddress!.copyMemory(from: current.baseAddress!, byteCount: end)
                pool.give(current)
                storage = bigger
            }
        }
        return UnsafeMutableRawBufferPointer(rebasing: storage![end...])
    }

    /// Gives the storage back once nothing is left to read in it.
    mutating func releaseIfEmpty(to pool: BufferPool) {
        guard isEmpty, let current = storage else { return }
        pool.give(current)
        storage = nil
    }

    mutating func clear() {
        start = 0
        end = 0
    }

    /// Frees the storage for good (the connection is gone).
    mutating func release(to pool: BufferPool) {
        if let current = storage { pool.give(current) }
        storage = nil
        clear()
    }
}

/// One loop's spare read buffers of the first size a connection gets.
/// Loop-confined: connections on one loop are served one at a time, so a
/// few spares serve them all.
final class BufferPool {
    let size: Int
    private let keep: Int
    private var spare: [UnsafeMutableRawBufferPointer] = []

    init(size: Int, keep: Int = 16) {
        self.size = size
        self.keep = keep
    }

    deinit { for buffer in spare { buffer.deallocate() } }

    func take() -> UnsafeMutableRawBufferPointer {
        spare.popLast() ?? .allocate(byteCount: size, alignment: 16)
    }

    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        if buffer.count == size && spare.count < keep {
            spare.append(buffer)
        } else {
            buffer.deallocate()
        }
    }
}
