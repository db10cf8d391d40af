import Testing
@testable import TrustPay
