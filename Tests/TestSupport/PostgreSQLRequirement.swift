import Foundation
import PostgresTestCluster
import Synchronization
import Testing
import Locking

/// The trait of every test that needs a PostgreSQL server (the tests start
/// private ones, see `PostgresTestCluster`). Where the binaries are missing
/// the tests are skipped and the run ends with one line saying how many and
/// why; under CI (`CI` set, as `.ci/run` does) they run, and fail.
package struct PostgreSQLRequirement: TestTrait, SuiteTrait {
    package var isRecursive: Bool { true }

    package func prepare(for test: Test) async throws {
        guard !PostgresTestCluster.shouldRun else { return }
        if !test.isSuite { PostgreSQLSkips.shared.add(test.name) }
        // A condition trait that never holds is the one way to skip from a trait.
        try await ConditionTrait.disabled("needs PostgreSQL").prepare(for: test)
    }
}

extension Trait where Self == PostgreSQLRequirement {
    /// Skips the test (or suite) where PostgreSQL is not installed, except under CI.
    package static var requiresPostgreSQL: Self { PostgreSQLRequirement() }
}

/// The tests skipped for want of PostgreSQL, told once as the process exits.
package final class PostgreSQLSkips: Sendable {
    package static let shared = PostgreSQLSkips()

    private let skipped = Locked<[String]>([])
    private let announced = Atomic(false)

    /// Counts a skipped test, or a skipped test case (`name` says which).
    package func add(_ name: String) {
        skipped.withLock { $0.append(name) }
        guard !announced.exchange(true, ordering: .relaxed) else { return }
        atexit {
            let count = PostgreSQLSkips.shared.skipped.withLock { $0.count }
            print("\(count) PostgreSQL test(s) skipped: \(PostgresTestCluster.missingMessage)")
        }
    }
}
