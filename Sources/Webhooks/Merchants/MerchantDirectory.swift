/// The configured merchants, by id. A callback naming any other merchant is
/// answered `403`.
public struct MerchantDirectory: Sendable {
    private var merchants: [Int64: Merchant] = [:]

    public init(_ merchants: [Merchant] = []) {
        for merchant in merchants { add(merchant) }
    }

    /// Adds a merchant, replacing one with the same id.
    public mutating func add(_ merchant: Merchant) {
        merchants[merchant.id] = merchant
    }

    public subscript(id: Int64) -> Merchant? { merchants[id] }

    public var all: [Merchant] { merchants.values.sorted { $0.id < $1.id } }

    /// The only merchant, when exactly one is configured: the default owner
    /// of card callbacks, which carry no merchant id.
    public var soleMerchant: Merchant? { merchants.count == 1 ? merchants.first?.value : nil }
}
