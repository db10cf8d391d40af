import HTTPServer

// libFuzzer's entry point. The chunked decoder must decode the same body,
// with the same verdict and the same end, whether the input comes at once
// or in pieces cut where the input's first byte says.

@_cdecl("LLVMFuzzerTestOneInput")
public func chunkedBodyFuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let violation = ChunkedBodyCheck.check(Array(UnsafeBufferPointer(start: data, count: size))) {
        fatalError("chunked body: \(violation)")
    }
    return 0
}

enum ChunkedBodyCheck {
    static func check(_ input: [UInt8]) -> String? {
        guard let first = input.first else { return nil }
        let bytes = Array(input.dropFirst())
        let (once, onceBody) = decode([bytes[...]])
        let step = Int(first % 13) + 1
        let pieces = stride(from: 0, to: bytes.count, by: step).map { bytes[$0..<min(bytes.count, $0 + step)] }
        let (split, splitBody) = decode(pieces)
        if once != split { return "at once \(once), in pieces of \(step): \(split)" }
        if onceBody != splitBody { return "bodies differ in pieces of \(step)" }
        if onceBody.count > 4096 { return "body over the limit: \(onceBody.count)" }
        return nil
    }

    /// Feeds `pieces` as reads would arrive, keeping what was not consumed.
    /// Returns "done at N", "need more" or the error, and the body.
    static func decode(_ pieces: [ArraySlice<UInt8>]) -> (String, [UInt8]) {
        var decoder = ChunkedDecoder(maxBodyBytes: 4096, maxTrailerBytes: 512)
        var body: [UInt8] = []
        var pending: [UInt8] = []
        var offset = 0  // input bytes consumed before `pending`
        for piece in pieces {
            pending.append(contentsOf: piece)
            let result = pending.withUnsafeBytes { decoder.decode($0, into: &body) }
            switch result {
            case .needMore(let consumed):
                guard consumed <= pending.count else { return ("consumed past the input", body) }
                pending.removeFirst(consumed)
                offset += consumed
            case .done(let consumed):
                guard consumed <= pending.count else { return ("consumed past the input", body) }
                return ("done at \(offset + consumed)", body)
            case .invalid(let error):
                return ("invalid \(error.statusCode)", body)
            }
        }
        return ("need more", body)
    }
}
