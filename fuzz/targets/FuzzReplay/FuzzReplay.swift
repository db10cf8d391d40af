import Foundation

/// The plain build of a fuzz target: runs its check over the files (or the
/// files in the folders) given, prints each violation, exits 1 if any.
/// CI replays the committed corpora this way without libFuzzer.
public enum FuzzReplay {
    public static func run(_ check: ([UInt8]) -> String?) -> Never {
        var inputs = 0
        var violations = 0
        for path in CommandLine.arguments.dropFirst() {
            for file in files(at: path) {
                inputs += 1
                guard let bytes = FileManager.default.contents(atPath: file) else {
                    print("\(file): cannot read")
                    violations += 1
                    continue
                }
                if let violation = check([UInt8](bytes)) {
                    print("\(file): \(violation)")
                    violations += 1
                }
            }
        }
        print("\(inputs) inputs, \(violations) violations")
        exit(violations == 0 ? 0 : 1)
    }

    private static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { "\(path)/\($0)" }
    }
}
