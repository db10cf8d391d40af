import Webhooks

/// A merchant id and secret for tests. The secret is test material, yet
/// `description` still leaves it out.
public struct TestMerchant: Sendable, CustomStringConvertible {
    public let id: Int64
    public let secret: String

    public init(id: Int64 = 8_820_250_900_009, secret: String = "test-secret") {
        self.id = id
        self.secret = secret
    }

    /// The configuration entry that accepts this merchant's callbacks.
    public var merchant: Merchant { Merchant(id: id, secret: secret) }

    public var description: String { "TestMerchant(\(id))" }
}
