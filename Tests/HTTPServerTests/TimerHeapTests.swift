import Testing
@testable import HTTPServer

/// The loop's deadlines, without sockets: order, moves, cancels, and the
/// positions each timer keeps, against a plain sorted list as the model.
@Suite struct TimerHeapTests {
    final class Probe: LoopTimer {
        let name: Int
        var timerSlot: Int?
        var fired: [UInt64] = []
        init(_ name: Int) { self.name = name }
        func timerFired(now: UInt64) { fired.append(now) }
    }

    @Test func expiredTimersComeOutEarliestFirstAndOnlyWhenDue() {
        var heap = TimerHeap()
        let probes = (0..<5).map(Probe.init)
        for (probe, deadline) in zip(probes, [50, 10, 40, 20, 30] as [UInt64]) { heap.schedule(probe, at: deadline) }
        #expect(heap.nextDeadline == 10)
        #expect(heap.popExpired(now: 9) == nil)
        var order: [Int] = []
        while let timer = heap.popExpired(now: 35) { order.append((timer as! Probe).name) }
        #expect(order == [1, 3, 4])
        #expect(heap.count == 2)
        #expect(probes[1].timerSlot == nil)
    }

    @Test func reschedulingMovesATimerInsteadOfAddingASecondEntry() {
        var heap = TimerHeap()
        let a = Probe(0), b = Probe(1)
        heap.schedule(a, at: 10)
        heap.schedule(b, at: 20)
        heap.schedule(a, at: 30)  // later
        #expect(heap.count == 2)
        #expect(heap.nextDeadline == 20)
        heap.schedule(a, at: 5)  // earlier again
        #expect(heap.nextDeadline == 5)
        heap.cancel(a)
        heap.cancel(a)  // twice is harmless
        #expect(heap.count == 1)
        #expect(heap.nextDeadline == 20)
    }

    /// Random schedules, moves and cancels over many timers: what comes out
    /// is what a sorted model says, and every timer knows its slot.
    @Test func randomOperationsAgreeWithASortedModel() {
        var generator = SystemRandomNumberGenerator()
        var heap = TimerHeap()
        let probes = (0..<200).map(Probe.init)
        var model: [Int: UInt64] = [:]
        // Checked with plain comparisons and one expectation at the end:
        // thousands of #expect calls would hog the test pool.
        var disagreements = 0
        for step in 0..<5_000 {
            let probe = probes[Int.random(in: 0..<probes.count, using: &generator)]
            switch step % 3 {
            case 0, 1:
                let deadline = UInt64.random(in: 0..<1_000, using: &generator)
                heap.schedule(probe, at: deadline)
                model[probe.name] = deadline
            default:
                heap.cancel(probe)
                model[probe.name] = nil
            }
            if heap.count != model.count || heap.nextDeadline != model.values.min() { disagreements += 1 }
        }
        #expect(disagreements == 0)
        let now: UInt64 = 500
        var popped: [UInt64] = []
        while let timer = heap.popExpired(now: now) {
            let name = (timer as! Probe).name
            popped.append(model.removeValue(forKey: name)!)
        }
        #expect(popped == popped.sorted())
        #expect(popped.allSatisfy { $0 <= now })
        #expect(model.values.allSatisfy { $0 > now })
        #expect(heap.count == model.count)
    }
}
