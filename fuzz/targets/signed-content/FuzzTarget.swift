import CallbackReshaping

// libFuzzer's entry point: every input must be refused or be the same event
// as the genuine seed body whose signature it carries. A violation traps, so
// libFuzzer saves the input as a crash.

let index = GenuineBodyIndex()

@_cdecl("LLVMFuzzerTestOneInput")
public func signedContentFuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if case .violation(let what) = index.check(bytes) {
        fatalError("signed content violated: \(what)\ninput: \(String(decoding: bytes, as: UTF8.self))")
    }
    return 0
}
