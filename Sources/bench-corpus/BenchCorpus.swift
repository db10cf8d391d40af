import Glibc
import TrustPay
import TrustPayWebhooksTesting

/// Writes signed payin callbacks, one compact JSON body per line, for
/// `scripts/bench-pipeline`: wrk's Lua has no MD5, so the bodies are signed
/// beforehand. Every body has its own order number (`PREFIX-FILE-N`), so a
/// run that sends each once records each once.
///
///     TRUSTPAY_SECRET=… bench-corpus --output DIR/corpus --prefix M [--count 200000] [--files 2]
///                                    [--merchant 8820250900009]
///
/// `--files` splits the bodies over `OUTPUT.1` … `OUTPUT.N`, one per wrk
/// thread. The secret comes from the environment, never the command line.
@main
struct BenchCorpus {
    struct Options {
        var output = ""
        var prefix = ""
        var count = 200_000
        var files = 2
        var merchant: Int64 = 8_820_250_900_009
    }

    static func main() {
        let options = parse(Array(CommandLine.arguments.dropFirst()))
        guard let secret = getenv("TRUSTPAY_SECRET").map({ String(cString: $0) }), !secret.isEmpty else {
            usage("set TRUSTPAY_SECRET to the secret the server verifies with")
        }
        let factory = CallbackFactory(merchant: TestMerchant(id: options.merchant, secret: secret))
        let perFile = (options.count + options.files - 1) / options.files
        for file in 1...options.files {
            let path = "\(options.output).\(file)"
            guard let stream = fopen(path, "w") else { fail("cannot create \(path): \(String(cString: strerror(errno)))") }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            for index in 0..<perFile {
                let callback = factory.payment(orderNo: "\(options.prefix)-\(file)-\(index)", status: .unliquidated)
                buffer.append(contentsOf: callback.body)
                buffer.append(UInt8(ascii: "\n"))
                if buffer.count >= 1 << 20 { write(buffer, to: stream, path: path); buffer.removeAll(keepingCapacity: true) }
            }
            write(buffer, to: stream, path: path)
            guard fclose(stream) == 0 else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
        }
    }

    static func write(_ bytes: [UInt8], to stream: UnsafeMutablePointer<FILE>, path: String) {
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, stream) }
        guard written == bytes.count else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var remaining = arguments[...]
        while let flag = remaining.popFirst() {
            guard let value = remaining.popFirst() else { usage("\(flag) needs a value") }
            switch flag {
            case "--output": options.output = value
            case "--prefix": options.prefix = value
            case "--count": options.count = Int(number(value, for: flag))
            case "--files": options.files = Int(number(value, for: flag))
            case "--merchant": options.merchant = number(value, for: flag)
            default: usage("unknown option \(flag)")
            }
        }
        guard !options.output.isEmpty, !options.prefix.isEmpty else { usage("--output and --prefix are required") }
        return options
    }

    static func number(_ value: String, for flag: String) -> Int64 {
        guard let number = Int64(value), number > 0 else { usage("\(flag) takes a positive whole number") }
        return number
    }

    static func fail(_ problem: String) -> Never {
        printError("bench-corpus: \(problem)\n")
        exit(1)
    }

    static func usage(_ problem: String) -> Never {
        printError("bench-corpus: \(problem)\n"
                   + "usage: TRUSTPAY_SECRET=… bench-corpus --output PATH --prefix P [--count N] [--files N] [--merchant ID]\n")
        exit(2)
    }

    /// To file descriptor 2 (the C `stderr` global is not concurrency-safe).
    static func printError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
