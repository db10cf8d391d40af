import ArgumentParser
import AsyncHTTPClient
import Foundation
import OperatorConsole
import Reconciliation
import ServiceConfiguration
import TrustPay
import TrustPayAPI
import Webhooks

struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask TrustPay's Order Query API about one order now, and record a status the store does not hold.",
        discussion: """
            Uses the merchant's merchants[].api (base_url, key) and first secret, and the store of store.kind, \
            as serve does. Prints what TrustPay answered and what was recorded (source order-query). Exits 1 \
            when the query failed or TrustPay answered an error code (an unknown order, a refused API key): \
            nothing is recorded then.
            """)

    @Option(help: "The order number you gave TrustPay.")
    var orderNo: String

    @Option(help: "The merchant id (optional with a single merchant configured).")
    var merchant: Int64?

    @Flag(help: "Print a JSON object: order_no, merchant_id, answer (or null), recorded, event, error.")
    var json = false

    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard !orderNo.isEmpty, orderNo.utf8.count <= 256 else {
            throw ValidationError("--order-no must be 1 to 256 bytes")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings = try store.config.load(environment: environment)
        let merchant = try chosenMerchant(merchant, in: settings)
        let index = settings.merchants.firstIndex { $0.id == merchant.id } ?? 0
        guard let key = merchant.api.key else {
            throw ToolError.exit("merchant \(merchant.id) has no API key: set merchants[\(index)].api.key")
        }
        var api = try ConfigOptions.orExit2 {
            try ReconciliationWiring.apiConfiguration(merchant, index: index, key: key, settings, environment: environment)
        }
        api.maxConcurrentRequests = 1
        let inbox = try await store.open()
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
        let finding: Reconciler.Finding
        do {
            let client = try TrustPayAPIClient(httpClient: http, merchants: [merchant.id: api], logger: ToolLogging.logger)
            let reconciler = Reconciler(
                client: client, merchants: [merchant.id], record: { try await inbox.record($0, lease: .none, now: Date()) },
                logger: ToolLogging.logger)
            finding = await reconciler.reconcile(orderNo: orderNo, merchantID: merchant.id)
        } catch {
            try? await http.shutdown()
            throw ToolError.exit("merchants[\(index)].api: \(error.reason)")
        }
        try? await http.shutdown()
        let (object, failure) = Self.report(finding, orderNo: orderNo, merchantID: merchant.id)
        if json {
            print(object.compactJSON)
        } else {
            print(Self.text(finding, orderNo: orderNo, merchantID: merchant.id), terminator: "")
        }
        if let failure {
            if json { throw ExitCode.failure }
            throw ToolError.exit(failure)
        }
    }

    /// The JSON report, and the failure to exit 1 with (if any).
    static func report(_ finding: Reconciler.Finding, orderNo: String, merchantID: Int64) -> (JSONObject, String?) {
        var object: JSONObject = ["order_no": .string(orderNo), "merchant_id": .integer(merchantID)]
        var failure: String?
        switch finding {
        case .recorded(let answer, let event), .known(let answer, let event):
            object["answer"] = .object(answerObject(answer))
            if case .recorded = finding { object["recorded"] = .bool(true) } else { object["recorded"] = .bool(false) }
            object["event"] = .object(EventRendering.summary(event))
        case .failed(let error):
            object["answer"] = .null
            object["recorded"] = .bool(false)
            if case .provider(let code, _) = error { object["code"] = .integer(code.code) }
            failure = "\(error); nothing recorded"
        case .unusable(let answer, let why):
            object["answer"] = answer.map { .object(answerObject($0)) } ?? .null
            object["recorded"] = .bool(false)
            failure = "\(why); nothing recorded"
        case .storeUnavailable(let why):
            object["recorded"] = .bool(false)
            failure = "the store is unavailable (\(why)); nothing recorded"
        case .notConfigured:
            object["recorded"] = .bool(false)
            failure = "merchant \(merchantID) has no API key; nothing recorded"
        }
        if let failure { object["error"] = .string(failure) }
        return (object, failure)
    }

    static func answerObject(_ answer: OrderQueryAnswer) -> JSONObject {
        [
            "order_no": .string(answer.orderNo), "type": .string("\(answer.orderType)"),
            "merchant_id": .integer(answer.merchantID), "status": .integer(answer.statusCode),
            "status_name": .string("\(answer.status)"),
            "order_amount": answer.orderAmount.map { .string($0.description) } ?? .null,
            "paid_amount": answer.paidAmount.map { .string($0.description) } ?? .null,
            "refund_amount": answer.refundAmount.map { .string($0.description) } ?? .null,
            "fee": answer.fee.map { .string($0.description) } ?? .null,
            "notify_status": answer.notifyStatus.map { .integer($0) } ?? .null,
        ]
    }

    static func text(_ finding: Reconciler.Finding, orderNo: String, merchantID: Int64) -> String {
        switch finding {
        case .recorded(let answer, let event):
            "TrustPay: \(answer)\nrecorded event \(event.id) (status \(event.status), source order-query)\n"
        case .known(let answer, let event):
            "TrustPay: \(answer)\nalready recorded: event \(event.id) (status \(event.status), source \(event.source)); nothing new\n"
        case .unusable(let answer?, _):
            "TrustPay: \(answer)\n"
        case .failed, .unusable, .storeUnavailable, .notConfigured:
            ""
        }
    }
}
