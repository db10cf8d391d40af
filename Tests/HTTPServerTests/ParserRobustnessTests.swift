import Testing
@testable import HTTPServer
import TrustPayWebhooksTesting

/// Seeded random mutations of valid input: the parser and decoder must never
/// crash or read out of bounds (debug builds trap on that), and their answers
/// must be consistent however the bytes are cut.
@Suite struct ParserRobustnessTests {
    /// Bytes that sit on the parser's decision points.
    static let interestingBytes: [UInt8] = bytes("\r\n \t:,;/*0179aAfFgH-\"") + [0x00, 0x01, 0x7F, 0x80, 0xFF]
    static let interestingLines: [[UInt8]] = [
        "\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Content-Length: 6\r\n",
        "Host: b\r\n", " folded\r\n", "Connection: close\r\n", "X:\r\n", "0\r\n\r\n",
    ].map(bytes)

    static func mutate(_ input: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = Int.random(in: 0...bytes.count, using: &random)
            switch Int.random(in: 0..<7, using: &random) {
            case 0 where position < bytes.count:
                bytes[position] = interestingBytes.randomElement(using: &random)!
            case 1 where position < bytes.count:
                bytes[position] = UInt8.random(in: 0...255, using: &random)
            case 2:
                bytes.insert(interestingBytes.randomElement(using: &random)!, at: position)
            case 3 where position < bytes.count:
                bytes.remove(at: position)
            case 4:
                bytes.insert(contentsOf: interestingLines.randomElement(using: &random)!, at: position)
            case 5:
                let end = Int.random(in: position...min(bytes.count, position + 40), using: &random)
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            default:
                bytes.removeLast(Int.random(in: 0...min(3, bytes.count), using: &random))
            }
        }
        return bytes
    }

    static func randomLimits(using random: inout SeededGenerator) -> HTTPLimits {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = [0, 16, 64, 200, 16 * 1024].randomElement(using: &random)!
        limits.maxHeaderCount = [0, 1, 3, 100].randomElement(using: &random)!
        limits.maxURIBytes = [1, 8, 8 * 1024].randomElement(using: &random)!
        limits.maxBodyBytes = [0, 5, 64 * 1024].randomElement(using: &random)!
        return limits
    }

    @Test func mutatedHeadsGetConsistentAnswers() {
        var random = SeededGenerator(seed: 0x7275_7374_7061_79)
        let corpus = validRequests + [
            head("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + bytes("5\r\nhello\r\n0\r\n\r\n"),
            head("POST /c HTTP/1.1", "Host: a", "Content-Length: 5") + bytes("hello") + validRequests[0],
        ]
        var seen = (complete: 0, incomplete: 0, invalid: 0)
        for round in 0..<3000 {
            let request = Self.mutate(corpus.randomElement(using: &random)!, using: &random)
            let limits = round % 4 == 0 ? Self.randomLimits(using: &random) : HTTPLimits()
            let cut = Int.random(in: 0...request.count, using: &random)
            switch checkConsistency(request, limits: limits, cut: cut) {
            case .complete: seen.complete += 1
            case .incomplete: seen.incomplete += 1
            case .invalid: seen.invalid += 1
            }
        }
        // The mutations must reach every outcome, or the test proves little.
        #expect(seen.complete > 100)
        #expect(seen.incomplete > 100)
        #expect(seen.invalid > 100)
    }

    /// Checks what must hold for any input, and returns the outcome.
    func checkConsistency(_ request: [UInt8], limits: HTTPLimits, cut: Int) -> HeadParseResult {
        let (result, parsed) = parse(request, limits: limits)
        switch result {
        case .complete:
            let length = parsed.headLength
            #expect(length > 0 && length <= request.count && length <= limits.maxHeaderBytes)
            let ranges = [parsed.method, parsed.target] + parsed.headers.flatMap { [$0.name, $0.value] }
            #expect(ranges.allSatisfy { 0 <= $0.start && $0.start <= $0.end && $0.end <= length })
            #expect(parsed.method.count > 0 && parsed.target.count > 0)
            #expect(parsed.target.count <= limits.maxURIBytes)
            #expect(parsed.headers.count <= limits.maxHeaderCount)
            if case .contentLength(let bodyLength) = parsed.framing {
                #expect(bodyLength >= 0 && bodyLength <= limits.maxBodyBytes)
            }
            // The head depends on its own bytes only, and ends at its last byte.
            let (alone, reparsed) = parse(Array(request.prefix(length)), limits: limits)
            #expect(alone == .complete && reparsed == parsed)
            #expect(parse(Array(request.prefix(length - 1)), limits: limits).0 == .incomplete)
        case .incomplete:
            // Waiting is only allowed while the head could still fit.
            #expect(request.count <= limits.maxHeaderBytes)
        case .invalid:
            // Nothing arriving later can rescue an invalid head.
            #expect(parse(request + bytes("\r\n\r\n"), limits: limits).0 == result)
        }
        // Any earlier read agrees with this one where it already decided.
        let (early, earlyParsed) = parse(Array(request.prefix(cut)), limits: limits)
        switch early {
        case .complete: #expect(result == .complete && earlyParsed == parsed)
        case .invalid: #expect(early == result)
        case .incomplete: break
        }
        return result
    }

    @Test func mutatedChunkedBodiesDecodeTheSameInAnyPieces() {
        var random = SeededGenerator(seed: 0x6368_756E_6B)
        let corpus = validChunkedBodies.flatMap { [$0.wire, $0.wire + bytes("GET")] }
        var seen = (done: 0, needMore: 0, invalid: 0)
        for round in 0..<3000 {
            let wire = Self.mutate(corpus.randomElement(using: &random)!, using: &random)
            let maxBody = round % 3 == 0 ? [0, 3, 10].randomElement(using: &random)! : 1024
            let maxTrailer = round % 5 == 0 ? [0, 5, 12].randomElement(using: &random)! : 8192

            var decoder = ChunkedDecoder(maxBodyBytes: maxBody, maxTrailerBytes: maxTrailer)
            var body: [UInt8] = []
            let whole = wire.withUnsafeBytes { decoder.decode($0, into: &body) }
            let pieces = decodeInPieces(wire, maxBody: maxBody, maxTrailer: maxTrailer, using: &random)
            #expect(pieces.result == whole)
            #expect(pieces.body == body)
            switch whole {
            case .done(let consumed):
                seen.done += 1
                #expect(consumed <= wire.count && body.count <= maxBody)
            case .needMore(let consumed):
                seen.needMore += 1
                #expect(consumed == wire.count && body.count <= maxBody)
            case .invalid:
                seen.invalid += 1
            }
        }
        #expect(seen.done > 100)
        #expect(seen.needMore > 100)
        #expect(seen.invalid > 100)
    }

    /// Feeds `wire` in random pieces of 1–7 bytes, reporting consumption
    /// relative to the whole input.
    func decodeInPieces(
        _ wire: [UInt8], maxBody: Int, maxTrailer: Int, using random: inout SeededGenerator
    ) -> (result: ChunkedDecodeResult, body: [UInt8]) {
        var decoder = ChunkedDecoder(maxBodyBytes: maxBody, maxTrailerBytes: maxTrailer)
        var body: [UInt8] = []
        var offset = 0
        while true {
            let size = min(Int.random(in: 1...7, using: &random), wire.count - offset)
            let piece = Array(wire[offset..<offset + size])
            let result = piece.withUnsafeBytes { decoder.decode($0, into: &body) }
            switch result {
            case .needMore(let consumed):
                #expect(consumed == size)
                offset += size
                if offset == wire.count { return (.needMore(consumed: offset), body) }
            case .done(let consumed):
                return (.done(consumed: offset + consumed), body)
            case .invalid:
                return (result, body)
            }
        }
    }
}
