import AsyncHTTPClient
import Testing
import TestSupport
import TrustPay
@testable import TrustPayAPI

@Suite("TrustPay API client over TLS")
struct TLSTrustTests {
    func query(_ provider: ScriptedProvider, caCertificatePath: String?) async throws -> Result<OrderQueryAnswer, TrustPayAPIError> {
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
        let configuration = TrustPayAPIConfiguration(
            baseURL: provider.baseURL, apiKey: "k", secret: "s", maxAttempts: 1, caCertificatePath: caCertificatePath)
        let client = try TrustPayAPIClient(httpClient: http, merchants: [8_820_250_900_009: configuration])
        let result: Result<OrderQueryAnswer, TrustPayAPIError>
        do {
            result = .success(try await client.queryOrder(orderNo: "ORD-1", merchantID: 8_820_250_900_009))
        } catch {
            result = .failure(error)
        }
        try await http.shutdown()
        return result
    }

    @Test("a private CA is trusted only when given as caCertificatePath, as send --cacert does")
    func privateCA() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let provider = try ScriptedProvider([.answer(200, ScriptedProvider.success())], tls: certificates.tls)
        #expect(provider.baseURL.hasPrefix("https://"))

        let trusted = try await query(provider, caCertificatePath: certificates.caPath)
        #expect((try? trusted.get())?.status == .unliquidated, "\(trusted)")

        // The system store does not know the private CA; a leaf is no CA.
        for path in [nil, certificates.certificatePath] {
            let refused = try await query(provider, caCertificatePath: path)
            guard case .failure(.transport(let why)) = refused else {
                Issue.record("expected a TLS transport error, got \(refused)")
                continue
            }
            #expect(why.lowercased().contains("certificate") || why.contains("TLS") || why.contains("SSL"), "\(why)")
        }
        #expect(provider.received.count == 1, "only the trusted connection got a request through")
        await provider.stop()
    }
}
