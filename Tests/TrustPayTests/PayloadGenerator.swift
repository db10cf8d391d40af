@testable import TrustPay
import TrustPayWebhooksTesting

/// Random callback-like payloads: unicode and escape-worthy strings, integer
/// and decimal literals (with trailing zeros), booleans, nulls, arrays and
/// small nested objects.
struct PayloadGenerator {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    private static let knownKeys = [
        "type", "merchant_id", "order_no", "status", "reason", "pay_time", "order_amount", "paid_amount",
        "balance_amount", "refund_amount", "fee", "merchant_refund_no", "orderNo", "card_id", "amount", "balance",
    ]
    private static let characters: [Character] = Array("abcXYZ019 _-&=:,.\"\\/") + [
        "\n", "\t", "\r", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "ß", "中", "文", "😀", "\u{301}", "\u{2028}",
    ]

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

    mutating func key() -> String {
        if chance(50) { return Self.knownKeys.randomElement(using: &rng)! }
        let letters = Array("abcdefghijklmnopqrstuvwxyz_ABCZ0129")
        var key = String((0..<int(1...10)).map { _ in letters.randomElement(using: &rng)! })
        if chance(10) { key += ["é", "键", "😀"].randomElement(using: &rng)! }
        return key
    }

    /// A string, possibly empty.
    mutating func string() -> String {
        String((0..<int(0...16)).map { _ in Self.characters.randomElement(using: &rng)! })
    }

    mutating func nonEmptyString() -> String { "s" + string() }

    mutating func integerLiteral() -> String {
        switch int(0...3) {
        case 0: "0"
        case 1: String(int(1...9))
        case 2: String(UInt64.random(in: 1...8_820_250_900_009, using: &rng))
        default: "-" + String(int(1...100_000))
        }
    }

    mutating func decimalLiteral() -> String {
        let digits = String((0..<int(1...4)).map { _ in "0123456789".randomElement(using: &rng)! })
        return (chance(10) ? "-" : "") + String(int(0...100_000)) + "." + digits
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        switch int(0...(depth < 2 ? 9 : 7)) {
        case 0, 1: .string(string())
        case 2: .number(integerLiteral())
        case 3, 4: .number(decimalLiteral())
        case 5: .bool(chance(50))
        case 6: .null
        case 7: .string(nonEmptyString())
        case 8: .array((0..<int(0...4)).map { _ in value(depth: depth + 1) })
        default: .object(object(depth: depth + 1, maxCount: 3))
        }
    }

    /// An object with unique keys, none of them `sign`.
    mutating func object(depth: Int = 0, maxCount: Int = 12) -> JSONObject {
        var object = JSONObject()
        for _ in 0..<int(1...maxCount) {
            let key = key()
            if key != TrustPaySignature.signKey { object[key] = value(depth: depth) }
        }
        return object
    }
}
