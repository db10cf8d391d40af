import ArgumentParser
import Foundation
import Inbox
import ServiceConfiguration
import TrustPay
import Webhooks

/// `--type`: the order types reconciliation can query.
enum OrderTypeArgument: String, ExpressibleByArgument, CaseIterable {
    case payin, payout

    var type: OrderType { self == .payin ? .payin : .payout }
}

/// The merchant of `--merchant`, or the only configured one.
func chosenMerchant(_ id: Int64?, in settings: ServiceSettings) throws -> MerchantSettings {
    if let id {
        guard let merchant = settings.merchants.first(where: { $0.id == id }) else {
            throw ToolError.exit(
                "merchant \(id) is not configured (configured: \(settings.merchants.map { String($0.id) }.joined(separator: ", ")))")
        }
        return merchant
    }
    guard settings.merchants.count == 1, let only = settings.merchants.first else {
        throw ToolError.exit("several merchants are configured: give --merchant")
    }
    return only
}

struct Expect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register an order you created and expect a callback for, in the configured store.",
        discussion: """
            If no callback for it arrives within reconcile.after, serve's reconciliation asks TrustPay's Order \
            Query API about it (for merchants with an API key). Registering an order again keeps the first time.
            """)

    @Option(help: "The order number you gave TrustPay.")
    var orderNo: String

    @Option(help: "The merchant id (optional with a single merchant configured).")
    var merchant: Int64?

    @Option(help: "payin or payout.")
    var type: OrderTypeArgument = .payin

    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard !orderNo.isEmpty, orderNo.utf8.count <= 256 else {
            throw ValidationError("--order-no must be 1 to 256 bytes")
        }
    }

    func run() async throws {
        let settings = try store.config.load(environment: ProcessInfo.processInfo.environment)
        let merchant = try chosenMerchant(merchant, in: settings)
        let reconciliation = try await store.open()
        let isNew = try await reconciliation.expect(
            ExpectedOrder(merchantID: merchant.id, type: type.type, orderNo: orderNo, expectedAt: Date()))
        print("\(type.rawValue) order \(orderNo) of merchant \(merchant.id) is \(isNew ? "now" : "already") expected")
    }
}
