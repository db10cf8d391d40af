import Foundation

/// The path of an executable product built beside the test bundle (in the
/// build folder, e.g. `.build/debug/trustpay-webhooks`). Throws when it is
/// not there: the test target must depend on the product so that
/// `swift build --build-tests` builds it.
package func builtExecutable(_ name: String) throws -> String {
    var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw ExecutableNotBuilt(name: name)
}

package struct ExecutableNotBuilt: Error, CustomStringConvertible {
    package let name: String
    package var description: String {
        "\(name) is not built beside the test bundle: add it to the test target's dependencies"
    }
}
