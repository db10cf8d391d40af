/// A binary min-heap: the smallest element first, pushes and pops in
/// O(log n). The memory inbox keeps its claimable order heads, its timed
/// events (lease ends, retry times) and its completed events in these, so a
/// claim or an eviction never sorts the whole inbox.
struct MinHeap<Element: Comparable> {
    private(set) var elements: [Element] = []

    var isEmpty: Bool { elements.isEmpty }
    var count: Int { elements.count }
    var min: Element? { elements.first }
    var capacity: Int { elements.capacity }

    /// Room for `count` elements without reallocating.
    mutating func reserveCapacity(_ count: Int) { elements.reserveCapacity(count) }

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func popMin() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let smallest = elements.removeLast()
        siftDown(from: 0)
        return smallest
    }

    /// Keeps only the elements `keep` accepts and restores the heap order
    /// in O(n): how stale entries, skipped lazily when popped, are dropped
    /// in bulk before they outnumber the live ones.
    mutating func retain(where keep: (Element) -> Bool) {
        elements.removeAll { !keep($0) }
        for index in stride(from: elements.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < elements.count else { return }
            let right = left + 1
            let child = right < elements.count && elements[right] < elements[left] ? right : left
            guard elements[child] < elements[parent] else { return }
            elements.swapAt(child, parent)
            parent = child
        }
    }
}
