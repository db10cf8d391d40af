#if !FUZZING
import CallbackReshaping
import Foundation

/// Without libFuzzer (a plain build): `--write-corpus DIR` writes the seed
/// bodies; any other arguments are files run through the fuzz check once.
@main
enum CorpusTool {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-corpus", arguments.count == 2 {
            try FileManager.default.createDirectory(atPath: arguments[1], withIntermediateDirectories: true)
            for (number, seed) in GenuineCallbacks.seeds().enumerated() {
                let path = "\(arguments[1])/genuine-\(number < 10 ? "0" : "")\(number).json"
                try Data(seed.body).write(to: URL(fileURLWithPath: path))
            }
            return
        }
        var violations = 0
        for path in arguments {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            if case .violation(let what) = index.check(bytes) {
                violations += 1
                print("\(path): \(what)")
            }
        }
        print("\(arguments.count) inputs, \(violations) violations")
        if violations > 0 { exit(1) }
    }
}
#endif
