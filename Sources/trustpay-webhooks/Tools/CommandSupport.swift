import ArgumentParser
import Foundation
import Logging
import ServiceConfiguration
import TrustPay
import Webhooks

/// What the operator commands (`send`, `sign`, `verify`, `events`) share:
/// quiet logging to standard error, so standard output stays parseable.
enum ToolLogging {
    /// Bootstraps swift-log once (warnings and errors, to standard error).
    static let logger: Logger = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        return Logger(label: "trustpay-webhooks")
    }()
}

/// A failure of an operator command, printed as `error: …` with exit status 1.
struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ToolError {
    /// Prints the message to standard error and turns it into exit status 1.
    static func exit(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode.failure
    }
}

/// The configured merchants, resolved, for commands that sign or verify.
struct ConfiguredMerchants {
    let merchants: [Merchant]

    init(_ options: ConfigOptions, logger: Logger) throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try options.load(environment: environment)
        merchants = try ConfigOptions.orExit2 {
            try ServiceAssembly.merchants(config.merchants, environment: environment, logger: logger)
        }
    }

    /// The merchant `id`, or the first configured one when `id` is `nil`.
    func merchant(_ id: Int64?) throws -> Merchant {
        if let id {
            guard let merchant = merchants.first(where: { $0.id == id }) else {
                throw ToolError.exit(
                    "merchant \(id) is not configured (configured: \(merchants.map { String($0.id) }.joined(separator: ", ")))")
            }
            return merchant
        }
        guard let first = merchants.first else { throw ToolError.exit("no merchant is configured") }
        return first
    }
}

/// A JSON body from a file, or from standard input when no file (or `-`) is given.
enum BodyInput {
    static func read(_ path: String?) throws -> [UInt8] {
        if let path, path != "-" {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ToolError.exit("cannot read \(path)")
            }
            return Array(data)
        }
        return Array(FileHandle.standardInput.readDataToEndOfFile())
    }

    static func object(_ body: [UInt8]) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            throw ToolError.exit("the body is not valid JSON: \(error)")
        }
        guard case .object(let fields) = value else { throw ToolError.exit("the body is not a JSON object") }
        return fields
    }

    /// `merchant_id` (or the older `merchantId`) of a payment body.
    static func merchantID(in fields: JSONObject) -> Int64? {
        for key in ["merchant_id", "merchantId"] {
            switch fields[key] {
            case .number(let literal)?: if let id = Int64(literal) { return id }
            case .string(let text)?: if let id = Int64(text) { return id }
            default: continue
            }
        }
        return nil
    }
}

extension NumberForm: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "as-transmitted", "asTransmitted": self = .asTransmitted
        case "shortest": self = .shortest
        case "two-decimals", "twoDecimals": self = .twoDecimals
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["as-transmitted", "shortest", "two-decimals"] }
}
