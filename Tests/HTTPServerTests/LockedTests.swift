import Foundation
import Locking
import Testing
import TrustPayWebhooksTesting

/// `Locked` under contention: a thread that finds the mutex taken spins for
/// it before sleeping (`SpinningMutex`), and must come out holding it either
/// way.
@Suite struct LockedTests {
    /// Four threads add one at a time to a counter, each addition a read,
    /// a pause and a write inside the lock, long enough that the others
    /// find it taken (on two cores most acquisitions are contended). Every
    /// addition must count. Failed with the spin returning after its last
    /// round without the lock: additions were lost.
    @Test func contendedAdditionsAllCount() async throws {
        let threads = 4
        let additions = 20_000
        let counter = Locked(0)
        let finished = Locked(0)
        for _ in 0..<threads {
            Thread {
                for _ in 0..<additions {
                    counter.withLock { value in
                        let read = value
                        var spin = 0
                        for step in 0..<50 { spin &+= step }  // held a little while
                        value = read + 1 + (spin == -1 ? 1 : 0)
                    }
                }
                finished.withLock { $0 += 1 }
            }.start()
        }
        try await eventually("every thread done", timeout: .seconds(120)) { finished.withLock { $0 } == threads }
        #expect(counter.withLock { $0 } == threads * additions)
    }
}
