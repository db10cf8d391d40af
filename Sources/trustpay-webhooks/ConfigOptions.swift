import NetworkAddresses
import ArgumentParser
import Foundation
import ServiceConfiguration

/// `--config`, shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "YAML configuration file; relative paths in it resolve from its folder.",
        discussion: "Default: the embedded config/default.yaml, whose relative paths resolve from the working directory."))
    var config: String?

    /// The configuration, or exit status 2 with the key named.
    func load(environment: [String: String]) throws -> ServiceSettings {
        try Self.orExit2 {
            if let config {
                return try ServiceSettings.load(path: config, environment: environment)
            }
            return try ServiceSettings.load(yaml: ServiceSettings.defaultYAML, source: "embedded defaults",
                                                 environment: environment)
        }
    }

    /// Runs `body`; a configuration error is printed and becomes exit status 2.
    static func orExit2<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ConfigurationError {
            throw exit2(error)
        }
    }

    static func exit2(_ error: ConfigurationError) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        return ExitCode(2)
    }
}

enum IPRangeCheck {
    static func isNumeric(_ host: String) -> Bool { IPRange.isNumericAddress(host) }
}
