import Foundation

/// A fresh directory for one test's files, removed when released.
package final class TemporaryDirectory: Sendable {
    package let path: String

    package init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trustpay-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A database file path inside the directory.
    package func database(_ name: String = "test.sqlite") -> String { path + "/" + name }
}
