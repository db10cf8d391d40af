#if !FUZZING
import CallbackReshaping
import Foundation
import FuzzReplay

/// Without libFuzzer (a plain build): `--write-corpus DIR` writes the seed
/// bodies; otherwise the files (or folders) given are replayed through the
/// fuzz check.
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
        FuzzReplay.run { bytes in
            if case .violation(let what) = index.check(bytes) { return what }
            return nil
        }
    }
}
#endif
