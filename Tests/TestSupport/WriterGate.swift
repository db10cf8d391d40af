import Dispatch
import SQLiteStore
import Synchronization
import TrustPayWebhooksTesting

/// Holds a `GroupCommitWriter`'s thread inside a write until opened, so the
/// writes queued meanwhile are taken as one batch, whatever the disk's speed.
package final class WriterGate: Sendable {
    private let entered = Atomic(false)
    private let release = DispatchSemaphore(value: 0)

    package init() {}

    /// Blocks until ``open()``: call it inside a write closure, on the
    /// writer's thread (never a thread of the cooperative pool).
    package func hold() {
        entered.store(true, ordering: .sequentiallyConsistent)
        release.wait()
    }

    /// Whether a write is held.
    package var isHolding: Bool { entered.load(ordering: .sequentiallyConsistent) }

    package func open() { release.signal() }

    /// Queues a write that holds the writer, and returns once it does; the
    /// task ends after ``open()``, when that write has committed.
    package func close(_ writer: GroupCommitWriter) async throws -> Task<Void, any Error> {
        let blocker = Task { try await writer.write { _ in self.hold() } }
        try await eventually("the writer to take the gate's write") { self.isHolding }
        return blocker
    }
}
