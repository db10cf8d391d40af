import TrustPay

/// The genuine seed bodies by their signature, so that any body carrying one
/// of those signatures can be held to the meaning of the body that earned it.
public struct GenuineBodyIndex: Sendable {
    private let bySign: [String: GenuineCallbacks.Callback]
    let check = SameEventCheck()

    public init(_ callbacks: [GenuineCallbacks.Callback] = GenuineCallbacks.seeds()) {
        var bySign: [String: GenuineCallbacks.Callback] = [:]
        for callback in callbacks {
            if let sign = callback.fields[TrustPaySignature.signKey]?.stringValue { bySign[sign] = callback }
        }
        self.bySign = bySign
    }

    /// Any bytes at all: refused on both routes, or the same event as the
    /// genuine body whose `sign` they carry. A body that verifies with a
    /// signature no genuine body has would be a forgery of MD5 itself.
    public func check(_ bytes: [UInt8]) -> SameEventCheck.Outcome {
        let sign = (try? JSONValue(parsing: bytes))?.objectValue?[TrustPaySignature.signKey]?.stringValue
        if let original = sign.flatMap({ bySign[$0.lowercased()] }) {
            return check.check(bytes, against: original)
        }
        for route in GenuineCallbacks.Callback.Route.allCases {
            if case .success(let meaning) = check.meaning(of: bytes, on: route) {
                return .violation("accepted on the \(route) route with no genuine signature: \(meaning)")
            }
        }
        return .refused(code: "no genuine signature")
    }
}
