import Foundation

/// How to reach TrustPay's API for one merchant, and how hard to push it.
///
/// ```swift
/// let merchant = TrustPayAPIConfiguration(apiKey: key, secret: secrets[0])
/// let client = try TrustPayAPIClient(httpClient: .shared, merchants: [8820250900009: merchant])
/// ```
public struct TrustPayAPIConfiguration: Sendable {
    public static let defaultBaseURL = "https://api.trustpay.money"

    /// `https://api.trustpay.money`, or a simulator's `http://127.0.0.1:PORT`;
    /// `/v4/query/order` is appended.
    public var baseURL: String
    /// Sent as `X-Api-Key`. Never logged.
    public var apiKey: String
    /// The merchant's current secret (the first of its `secrets`): signs requests. Never logged.
    public var secret: String
    /// For one attempt, connection to last byte of the answer.
    public var timeout: Duration
    /// Attempts per query, the first included. Only transport errors,
    /// timeouts and 5xx answers are tried again, never a provider code.
    public var maxAttempts: Int
    /// The wait before the second attempt; it doubles for each next one, up to ``maxBackoff``.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Requests in flight at once for this merchant; further calls wait their turn.
    public var maxConcurrentRequests: Int
    /// Request starts per second for this merchant (attempts count), spaced
    /// evenly; `nil` for no limit.
    public var requestsPerSecond: Double?
    /// A PEM file of CA certificates to trust instead of the system store
    /// (a private CA, tests); `nil` trusts the system store.
    public var caCertificatePath: String?
    /// Whether `merchant_id` is sent (and signed) beside `order_no`. The v4
    /// page names only `order_no`, so it is off unless a deployment needs it.
    public var sendsMerchantID: Bool

    public init(
        baseURL: String = TrustPayAPIConfiguration.defaultBaseURL, apiKey: String, secret: String,
        timeout: Duration = .seconds(10), maxAttempts: Int = 3, initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(10), maxConcurrentRequests: Int = 4, requestsPerSecond: Double? = 5,
        caCertificatePath: String? = nil, sendsMerchantID: Bool = false
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.secret = secret
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxConcurrentRequests = maxConcurrentRequests
        self.requestsPerSecond = requestsPerSecond
        self.caCertificatePath = caCertificatePath
        self.sendsMerchantID = sendsMerchantID
    }

    /// The wait after failed attempt number `attempt` (1-based).
    func backoff(after attempt: Int) -> Duration {
        var wait = initialBackoff
        for _ in 1..<max(attempt, 1) {
            wait *= 2
            if wait >= maxBackoff { return maxBackoff }
        }
        return min(wait, maxBackoff)
    }

    /// The first rule this configuration breaks, if any.
    func problem() -> String? {
        guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty, url.query == nil
        else {
            return "base_url must be an http(s) URL without a query, e.g. \(Self.defaultBaseURL)"
        }
        if apiKey.isEmpty { return "the API key is empty" }
        if secret.isEmpty { return "the secret is empty" }
        if timeout <= .zero { return "the timeout must be positive" }
        if maxAttempts < 1 { return "max attempts must be at least 1" }
        if initialBackoff < .zero || maxBackoff < .zero { return "back-off durations cannot be negative" }
        if maxConcurrentRequests < 1 { return "max concurrent requests must be at least 1" }
        if let requestsPerSecond, !(requestsPerSecond > 0 && requestsPerSecond.isFinite) {
            return "requests per second must be a positive number"
        }
        return nil
    }
}

extension TrustPayAPIConfiguration: CustomStringConvertible {
    /// The settings without the API key and the secret.
    public var description: String {
        "TrustPayAPIConfiguration(baseURL: \(baseURL), timeout: \(timeout), maxAttempts: \(maxAttempts), "
            + "maxConcurrentRequests: \(maxConcurrentRequests), requestsPerSecond: "
            + "\(requestsPerSecond.map { "\($0)" } ?? "unlimited")"
            + (caCertificatePath.map { ", caCertificatePath: \($0)" } ?? "") + ")"
    }
}

/// A merchant's API configuration that cannot work, found when the client is built.
public struct TrustPayAPIConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let merchantID: Int64
    public let reason: String

    public init(merchantID: Int64, reason: String) {
        self.merchantID = merchantID
        self.reason = reason
    }

    public var description: String { "merchant \(merchantID)'s API configuration: \(reason)" }
}
