/// The outcome of one ``ChunkedDecoder/decode(_:into:)`` call.
public enum ChunkedDecodeResult: Sendable, Equatable {
    /// All `consumed` bytes were used (always the whole input); the body is
    /// not finished, so call again with more.
    case needMore(consumed: Int)
    /// The body ended after `consumed` bytes of this input (right after the
    /// final CRLF). The rest of the input belongs to the next request.
    case done(consumed: Int)
    /// The body is malformed or too large; reject and close the connection.
    case invalid(HTTPParseError)
}

/// An incremental decoder for `Transfer-Encoding: chunked` request bodies
/// (RFC 9112 §7.1), as a value-type state machine that can be fed any split
/// of the bytes.
///
/// ```swift
/// var decoder = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes)
/// var body: [UInt8] = []
/// switch decoder.decode(received, into: &body) {
/// case .needMore(let used): pending.removeFirst(used)  // read more, decode again
/// case .done(let used): pending.removeFirst(used)      // next request starts here
/// case .invalid(let error): reject(error.statusCode)   // and close
/// }
/// ```
///
/// Chunk extensions and trailer fields are validated and then ignored. After
/// `.done` or `.invalid` the decoder keeps returning that result.
public struct ChunkedDecoder: Sendable {
    private enum State: Sendable, Equatable {
        case sizeDigits, sizeWhitespace, sizeLF
        /// `chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )` (RFC 9112 §7.1.1).
        case extBeforeName, extName, extAfterName, extBeforeValue, extToken, extQuoted, extQuotedEscape, extAfterValue
        case data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        case done
        case failed(HTTPParseError)
    }

    /// Bound on one chunk-size line, extensions included, CRLF excluded:
    /// extensions are ignored, so they must not be a way to keep the server
    /// scanning without limit.
    static let maxChunkLineBytes = 4096

    private let maxBodyBytes: Int
    private let maxTrailerBytes: Int
    private var state = State.sizeDigits
    private var chunkSize = 0
    private var sizeDigitCount = 0
    private var lineBytes = 0
    private var remainingInChunk = 0
    private var bodyBytes = 0
    private var trailerBytes = 0

    /// - Parameters:
    ///   - maxBodyBytes: Largest decoded body accepted; a chunk that would
    ///     exceed it is refused (413) as soon as its size line is read.
    ///   - maxTrailerBytes: Largest trailer section, final CRLF included (431).
    public init(maxBodyBytes: Int, maxTrailerBytes: Int = 8192) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// Decodes as much of `input` as possible, appending chunk data to `body`.
    /// On `.invalid`, `body` may hold part of the data already decoded.
    public mutating func decode(
        _ input: UnsafeRawBufferPointer, into body: inout [UInt8]
    ) -> ChunkedDecodeResult {
        var index = 0
        while true {
            switch state {
            case .done: return .done(consumed: index)
            case .failed(let error): return .invalid(error)
            case .data:
                // Chunk data is copied in bulk, not stepped through.
                let count = min(remainingInChunk, input.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<index + count]))
                index += count
                remainingInChunk -= count
                if remainingInChunk == 0 { state = .dataCR }
            default:
                break
            }
            guard index < input.count else { break }
            if let error = step(input[index]) {
                state = .failed(error)
                return .invalid(error)
            }
            index += 1
        }
        return .needMore(consumed: index)
    }

    /// One byte of a chunk extension: validated, then ignored.
    private mutating func stepExtension(_ byte: UInt8) -> HTTPParseError? {
        let quote = UInt8(ascii: "\""), equals = UInt8(ascii: "=")
        switch state {
        case .extBeforeName:
            if byte.isWhitespace { return nil }
            guard byte.isTokenByte else { return bad("chunk extension without a name") }
            state = .extName
        case .extName, .extAfterName:
            if state == .extName, byte.isTokenByte { return nil }
            switch byte {
            case .space, .htab: state = .extAfterName
            case equals: state = .extBeforeValue
            case .semicolon: state = .extBeforeName
            case .cr: state = .sizeLF
            default: return bad("malformed chunk extension")
            }
        case .extBeforeValue:
            if byte.isWhitespace { return nil }
            if byte == quote {
                state = .extQuoted
            } else {
                guard byte.isTokenByte else { return bad("malformed chunk extension value") }
                state = .extToken
            }
        case .extToken, .extAfterValue:
            if state == .extToken, byte.isTokenByte { return nil }
            switch byte {
            case .space, .htab: state = .extAfterValue
            case .semicolon: state = .extBeforeName
            case .cr: state = .sizeLF
            default: return bad("malformed chunk extension value")
            }
        case .extQuoted:
            // qdtext: HTAB, SP, VCHAR but `"` and `\`, obs-text.
            if byte == quote {
                state = .extAfterValue
            } else if byte == UInt8(ascii: "\\") {
                state = .extQuotedEscape
            } else if !(byte.isFieldVisibleByte || byte.isWhitespace) {
                return bad("invalid byte in chunk extension")
            }
        case .extQuotedEscape:
            guard byte.isFieldVisibleByte || byte.isWhitespace else { return bad("invalid byte in chunk extension") }
            state = .extQuoted
        default:
            break
        }
        return nil
    }

    /// Advances the state machine over one framing byte.
    private mutating func step(_ byte: UInt8) -> HTTPParseError? {
        switch state {
        case .sizeDigits, .sizeWhitespace, .extBeforeName, .extName, .extAfterName, .extBeforeValue, .extToken,
            .extQuoted, .extQuotedEscape, .extAfterValue:
            if byte != .cr { lineBytes += 1 }
            if lineBytes > Self.maxChunkLineBytes { return bad("chunk-size line too long") }
        case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
            trailerBytes += 1
            if trailerBytes > maxTrailerBytes { return .headersTooLarge }
        default:
            break
        }

        switch state {
        case .sizeDigits:
            if let digit = byte.hexDigitValue {
                // Leading zeros never overflow; a value needing more than Int's bits does.
                guard chunkSize <= Int.max >> 4 else { return bad("chunk size overflows") }
                chunkSize = chunkSize << 4 | digit
                sizeDigitCount += 1
                return nil
            }
            guard sizeDigitCount > 0 else { return bad("missing chunk size") }
            switch byte {
            case .space, .htab: state = .sizeWhitespace
            case .semicolon: state = .extBeforeName
            case .cr: state = .sizeLF
            default: return bad("malformed chunk size")
            }
        case .sizeWhitespace:
            // BWS is only allowed before a chunk extension.
            switch byte {
            case .space, .htab: break
            case .semicolon: state = .extBeforeName
            default: return bad("malformed chunk size")
            }
        case .extBeforeName, .extName, .extAfterName, .extBeforeValue, .extToken, .extQuoted, .extQuotedEscape,
            .extAfterValue:
            return stepExtension(byte)
        case .sizeLF:
            guard byte == .lf else { return bad("bare CR in chunk-size line") }
            return finishSizeLine()
        case .dataCR:
            guard byte == .cr else { return bad("chunk data not followed by CRLF") }
            state = .dataLF
        case .dataLF:
            guard byte == .lf else { return bad("chunk data not followed by CRLF") }
            state = .sizeDigits
        case .trailerLineStart:
            switch byte {
            case .cr: state = .finalLF
            case .space, .htab: return bad("trailer line starts with whitespace")
            default:
                guard byte.isTokenByte else { return bad("malformed trailer field name") }
                state = .trailerName
            }
        case .trailerName:
            if byte == .colon {
                state = .trailerValue
            } else if byte.isWhitespace {
                return bad("whitespace between trailer name and colon")
            } else if !byte.isTokenByte {
                return bad("malformed trailer field name")
            }
        case .trailerValue:
            if byte == .cr {
                state = .trailerLF
            } else if !(byte.isFieldVisibleByte || byte.isWhitespace) {
                return bad("control character in trailer value")
            }
        case .trailerLF:
            guard byte == .lf else { return bad("bare CR in trailer") }
            state = .trailerLineStart
        case .finalLF:
            guard byte == .lf else { return bad("bare CR at end of chunked body") }
            state = .done
        case .data, .done, .failed:
            // decode(_:into:) never steps through these.
            return bad("chunked decoder misuse")
        }
        return nil
    }

    private mutating func finishSizeLine() -> HTTPParseError? {
        let size = chunkSize
        chunkSize = 0
        sizeDigitCount = 0
        lineBytes = 0
        if size == 0 {
            state = .trailerLineStart
            return nil
        }
        // Refused before any of the chunk is buffered.
        guard size <= maxBodyBytes - bodyBytes else { return .payloadTooLarge }
        bodyBytes += size
        remainingInChunk = size
        state = .data
        return nil
    }

    private func bad(_ reason: String) -> HTTPParseError { .badRequest(reason) }
}
