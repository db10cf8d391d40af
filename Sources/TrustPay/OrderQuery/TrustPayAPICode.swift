/// The `code` of an answer from TrustPay's merchant API (`880001` … `880023`).
///
/// Only ``success`` means the request was accepted; for an order query the
/// order's outcome is then its `status`. Every other code is an error, and a
/// code this version does not know is kept as ``unknown(_:)``, never rejected.
///
/// ```swift
/// TrustPayAPICode(code: 880011)        // .unauthorized
/// TrustPayAPICode.unauthorized.name    // "unauthorized"
/// ```
public enum TrustPayAPICode: Sendable, Hashable, CustomStringConvertible {
    /// `880001`
    case success
    /// `880002`
    case badRequest
    /// `880003`
    case databaseError
    /// `880004`
    case remoteServiceError
    /// `880005`
    case insufficientBalance
    /// `880006`
    case invalidTransactionType
    /// `880007`
    case systemInternalError
    /// `880008`
    case orderProcessingFailed
    /// `880009`
    case decreasePayoutAmountFailed
    /// `880010`
    case backendSuccess
    /// `880011`: the API key (or the account behind it) was refused.
    case unauthorized
    /// `880012`
    case orderAlreadyExists
    /// `880013`
    case internalError
    /// `880014`
    case allChannelsFailed
    /// `880015`
    case amountRuleViolation
    /// `880016`
    case channelConfigurationError
    /// `880017`
    case userRiskControlFailed
    /// `880018`
    case cardFailureLimitExceeded
    /// `880019`
    case accountLimitExceeded
    /// `880020`
    case dailyAmountLimitExceeded
    /// `880021`
    case dailyTransactionCountLimitExceeded
    /// `880022`
    case transactionAmountLimitExceeded
    /// `880023`
    case channelQuotaLimitExceeded
    /// A code this version does not know.
    case unknown(Int)

    /// Every documented code, in numeric order.
    public static let documented: [TrustPayAPICode] = [
        .success, .badRequest, .databaseError, .remoteServiceError, .insufficientBalance, .invalidTransactionType,
        .systemInternalError, .orderProcessingFailed, .decreasePayoutAmountFailed, .backendSuccess, .unauthorized,
        .orderAlreadyExists, .internalError, .allChannelsFailed, .amountRuleViolation, .channelConfigurationError,
        .userRiskControlFailed, .cardFailureLimitExceeded, .accountLimitExceeded, .dailyAmountLimitExceeded,
        .dailyTransactionCountLimitExceeded, .transactionAmountLimitExceeded, .channelQuotaLimitExceeded,
    ]

    // The documented codes are consecutive, so position in `documented` is the
    // offset from 880001: one table, code and case cannot drift apart.
    private static let first = 880_001

    public init(code: Int) {
        let offset = code - Self.first
        self = Self.documented.indices.contains(offset) ? Self.documented[offset] : .unknown(code)
    }

    /// The code on the wire.
    public var code: Int {
        switch self {
        case .success: 880_001
        case .badRequest: 880_002
        case .databaseError: 880_003
        case .remoteServiceError: 880_004
        case .insufficientBalance: 880_005
        case .invalidTransactionType: 880_006
        case .systemInternalError: 880_007
        case .orderProcessingFailed: 880_008
        case .decreasePayoutAmountFailed: 880_009
        case .backendSuccess: 880_010
        case .unauthorized: 880_011
        case .orderAlreadyExists: 880_012
        case .internalError: 880_013
        case .allChannelsFailed: 880_014
        case .amountRuleViolation: 880_015
        case .channelConfigurationError: 880_016
        case .userRiskControlFailed: 880_017
        case .cardFailureLimitExceeded: 880_018
        case .accountLimitExceeded: 880_019
        case .dailyAmountLimitExceeded: 880_020
        case .dailyTransactionCountLimitExceeded: 880_021
        case .transactionAmountLimitExceeded: 880_022
        case .channelQuotaLimitExceeded: 880_023
        case .unknown(let code): code
        }
    }

    /// The provider's own name: `"unauthorized"`, `"bad_request"`; `"unknown"` for an unknown code.
    public var name: String {
        switch self {
        case .success: "success"
        case .badRequest: "bad_request"
        case .databaseError: "database_error"
        case .remoteServiceError: "remote_service_error"
        case .insufficientBalance: "insufficient_balance"
        case .invalidTransactionType: "invalid_transaction_type"
        case .systemInternalError: "system_internal_error"
        case .orderProcessingFailed: "order_processing_failed"
        case .decreasePayoutAmountFailed: "decrease_payout_amount_failed"
        case .backendSuccess: "backend_success"
        case .unauthorized: "unauthorized"
        case .orderAlreadyExists: "order_already_exists"
        case .internalError: "internal_error"
        case .allChannelsFailed: "all_channels_failed"
        case .amountRuleViolation: "amount_rule_violation"
        case .channelConfigurationError: "channel_configuration_error"
        case .userRiskControlFailed: "user_risk_control_failed"
        case .cardFailureLimitExceeded: "card_failure_limit_exceeded"
        case .accountLimitExceeded: "account_limit_exceeded"
        case .dailyAmountLimitExceeded: "daily_amount_limit_exceeded"
        case .dailyTransactionCountLimitExceeded: "daily_transaction_count_limit_exceeded"
        case .transactionAmountLimitExceeded: "transaction_amount_limit_exceeded"
        case .channelQuotaLimitExceeded: "channel_quota_limit_exceeded"
        case .unknown: "unknown"
        }
    }

    // By code, so `.unknown(880011)` built by hand still equals `.unauthorized`.
    public static func == (lhs: TrustPayAPICode, rhs: TrustPayAPICode) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// `880011 (unauthorized)`
    public var description: String { "\(code) (\(name))" }
}
