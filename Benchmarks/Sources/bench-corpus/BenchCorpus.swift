import ArgumentParser
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
/// `--repeat-every K` makes every K-th line of a file a repeat of the body
/// 5 lines before it (`10`: 10% repeats, as TrustPay's redeliveries would
/// be), so a run also exercises de-duplication; such a corpus has fewer
/// distinct events than lines.
@main
struct BenchCorpus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-corpus", abstract: "Signed payin callbacks, one body per line, for scripts/bench-pipeline.")

    @Option(help: "Files are OUTPUT.1 … OUTPUT.N.") var output: String
    @Option(help: "Order numbers are PREFIX-FILE-N.") var prefix: String
    @Option(help: "Bodies in all.") var count = 200_000
    @Option(help: "Files, one per wrk thread.") var files = 2
    @Option(help: "The merchant id the bodies carry.") var merchant: Int64 = 8_820_250_900_009
    @Option(help: "Every K-th line repeats an earlier body (0: none).") var repeatEvery = 0

    func validate() throws {
        guard count > 0, files > 0, merchant > 0 else { throw ValidationError("--count, --files and --merchant must be positive") }
        guard repeatEvery == 0 || repeatEvery > 5 else { throw ValidationError("--repeat-every must be 0 or more than 5") }
    }

    func run() throws {
        guard let secret = getenv("TRUSTPAY_SECRET").map({ String(cString: $0) }), !secret.isEmpty else {
            throw ValidationError("set TRUSTPAY_SECRET to the secret the server verifies with")
        }
        let factory = CallbackFactory(merchant: TestMerchant(id: merchant, secret: secret))
        let perFile = (count + files - 1) / files
        for file in 1...files {
            let path = "\(output).\(file)"
            guard let stream = fopen(path, "w") else { throw CorpusError("cannot create \(path): \(String(cString: strerror(errno)))") }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            var recent: [[UInt8]] = []
            for index in 0..<perFile {
                let body: [UInt8]
                if repeatEvery > 0, index % repeatEvery == repeatEvery - 1 {
                    body = recent[recent.count - 5]
                } else {
                    body = factory.payment(orderNo: "\(prefix)-\(file)-\(index)", status: .unliquidated).body
                }
                recent.append(body)
                if recent.count > 8 { recent.removeFirst() }
                buffer.append(contentsOf: body)
                buffer.append(UInt8(ascii: "\n"))
                if buffer.count >= 1 << 20 { try Self.write(buffer, to: stream, path: path); buffer.removeAll(keepingCapacity: true) }
            }
            try Self.write(buffer, to: stream, path: path)
            guard fclose(stream) == 0 else { throw CorpusError("cannot write \(path): \(String(cString: strerror(errno)))") }
        }
    }

    static func write(_ bytes: [UInt8], to stream: UnsafeMutablePointer<FILE>, path: String) throws {
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, stream) }
        guard written == bytes.count else { throw CorpusError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}

struct CorpusError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
