import AsyncHTTPClient
import Durations
import Foundation
import Logging
import NIOCore
import NIOSSL
import TrustPay

/// Queries TrustPay's Order Query API (`POST {baseURL}/v4/query/order`) for
/// the merchants it was given.
///
/// Each request is `Content-Type: application/json` with `X-Api-Key`, its
/// body signed with the merchant's current secret. A query waits for its
/// merchant's turn (``TrustPayAPIConfiguration/maxConcurrentRequests``,
/// ``TrustPayAPIConfiguration/requestsPerSecond``), then is tried up to
/// ``TrustPayAPIConfiguration/maxAttempts`` times with doubling back-off when
/// the transport fails, times out or the answer is a 5xx; a provider code is
/// final. The answer must be about the order asked for.
///
/// The `HTTPClient` is the caller's: it is shared (connection pooling) and
/// the caller shuts it down after the last query. Build it with
/// ``recommendedHTTPClientConfiguration`` so that a refused connection fails
/// the attempt at once (this client's back-off then applies) and redirects,
/// which would carry the API key elsewhere, are not followed.
///
/// ```swift
/// let http = HTTPClient(eventLoopGroupProvider: .singleton,
///                       configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
/// let api = try TrustPayAPIClient(httpClient: http, merchants: [merchantID: configuration], logger: logger)
/// let answer = try await api.queryOrder(orderNo: "ORD-1", merchantID: merchantID)
/// try await http.shutdown()
/// ```
public final class TrustPayAPIClient: OrderQuerying {
    /// Answers longer than this are refused rather than buffered.
    public static let maxAnswerBytes = 1 << 20
    public static let queryPath = "/v4/query/order"

    private struct Merchant: Sendable {
        let configuration: TrustPayAPIConfiguration
        let url: String
        let tls: TLSConfiguration?
        let gate: RequestGate
    }

    private let httpClient: HTTPClient
    private let merchants: [Int64: Merchant]
    private let logger: Logger

    /// - Throws: when a configuration cannot work (empty key, bad URL, an
    ///   unreadable CA file, …), naming the merchant.
    public init(
        httpClient: HTTPClient, merchants: [Int64: TrustPayAPIConfiguration],
        logger: Logger = Logger(label: "trustpay-webhooks.api")
    ) throws(TrustPayAPIConfigurationError) {
        self.httpClient = httpClient
        self.logger = logger
        var built: [Int64: Merchant] = [:]
        for (merchantID, configuration) in merchants {
            if let problem = configuration.problem() {
                throw TrustPayAPIConfigurationError(merchantID: merchantID, reason: problem)
            }
            var base = configuration.baseURL
            while base.hasSuffix("/") { base.removeLast() }
            built[merchantID] = Merchant(
                configuration: configuration, url: base + Self.queryPath,
                tls: try Self.tls(caCertificatePath: configuration.caCertificatePath, merchantID: merchantID),
                gate: RequestGate(
                    limit: configuration.maxConcurrentRequests, requestsPerSecond: configuration.requestsPerSecond))
        }
        self.merchants = built
    }

    /// Full certificate verification against the system store, no
    /// redirects, no in-pool retrying of failed connections.
    public static var recommendedHTTPClientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            certificateVerification: .fullVerification, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// The merchants this client can query.
    public var merchantIDs: [Int64] { merchants.keys.sorted() }

    /// Queries waiting for their merchant's turn now (not yet sent): for metrics.
    public func waitingQueries(merchantID: Int64) -> Int { merchants[merchantID]?.gate.waiting ?? 0 }

    public func queryOrder(orderNo: String, merchantID: Int64) async throws(TrustPayAPIError) -> OrderQueryAnswer {
        guard let merchant = merchants[merchantID] else { throw .noCredentials(merchantID: merchantID) }
        let configuration = merchant.configuration
        let body = OrderQueryRequest(orderNo: orderNo, merchantID: configuration.sendsMerchantID ? merchantID : nil)
            .signedBody(secret: configuration.secret)
        var attempt = 1
        while true {
            let outcome = await merchant.gate.run { await self.attempt(body, to: merchant) }
            let failure: TrustPayAPIError
            switch outcome {
            case nil:
                throw .transport("cancelled")
            case .success(let answer)?:
                guard answer.orderNo == orderNo, answer.merchantID == merchantID else {
                    throw .malformedAnswer(
                        "it describes order \(quoted(answer.orderNo, limit: 60)) of merchant \(answer.merchantID), "
                            + "not \(quoted(orderNo, limit: 60)) of merchant \(merchantID)")
                }
                logger.debug(
                    "order query answered",
                    metadata: ["merchant_id": "\(merchantID)", "order_no": "\(quoted(orderNo))",
                               "status": "\(answer.status)", "attempt": "\(attempt)"])
                return answer
            case .failure(let error)?:
                failure = error
            }
            guard failure.isRetryable, attempt < configuration.maxAttempts else {
                logger.debug(
                    "order query failed",
                    metadata: ["merchant_id": "\(merchantID)", "order_no": "\(quoted(orderNo))",
                               "error": "\(failure)", "attempts": "\(attempt)"])
                throw failure
            }
            let wait = configuration.backoff(after: attempt)
            logger.debug(
                "order query will be retried",
                metadata: ["merchant_id": "\(merchantID)", "order_no": "\(quoted(orderNo))", "error": "\(failure)",
                           "attempt": "\(attempt)", "backoff": "\(wait)"])
            do {
                try await Task.sleep(for: wait)
            } catch {
                throw .transport("cancelled")
            }
            attempt += 1
        }
    }

    /// One request and its answer, read in full.
    private func attempt(_ body: [UInt8], to merchant: Merchant) async -> Result<OrderQueryAnswer, TrustPayAPIError> {
        var request = HTTPClientRequest(url: merchant.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "trustpay-webhooks")
        request.headers.add(name: "X-Api-Key", value: merchant.configuration.apiKey)
        request.body = .bytes(body)
        request.tlsConfiguration = merchant.tls

        let exchange = await Self.exchange(request, within: merchant.configuration.timeout, on: httpClient, logger: logger)
        let status: Int
        let answer: [UInt8]
        switch exchange {
        case .success(let received): (status, answer) = received
        case .failure(let error): return .failure(Self.transportFailure(error))
        }

        guard (200..<300).contains(status) else {
            // A refusal may come with an error status; its code says more than the status.
            if case .provider(let code, let message)? = Self.providerRefusal(answer) {
                return .failure(.provider(code: code, message: message))
            }
            return .failure(.httpStatus(status))
        }
        do {
            return .success(try OrderQueryAnswer.parse(answer))
        } catch {
            switch error {
            case .provider(let code, let message): return .failure(.provider(code: code, message: message))
            case .malformed(let why): return .failure(.malformedAnswer(why))
            }
        }
    }

    /// Sends `request` and reads the whole answer, all within `timeout`.
    ///
    /// AsyncHTTPClient's deadline stops counting once the answer's head has
    /// arrived, so a body that trickles in would outlive it: the timeout is a
    /// race between the exchange and a sleep, in one task group, and the
    /// loser is cancelled.
    private static func exchange(
        _ request: HTTPClientRequest, within timeout: Duration, on client: HTTPClient, logger: Logger
    ) async -> Result<(Int, [UInt8]), any Error> {
        let deadline = ContinuousClock.now + timeout
        return await withTaskGroup(of: Result<(Int, [UInt8]), any Error>?.self) { group in
            group.addTask {
                do {
                    let response = try await client.execute(
                        request, timeout: .nanoseconds(timeout.wholeNanoseconds), logger: logger)
                    let body = try await response.body.collect(upTo: maxAnswerBytes)
                    return .success((Int(response.status.code), Array(body.readableBytesView)))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil  // the timeout, or the exchange finished and this was cancelled
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(HTTPClientError.deadlineExceeded)
        }
    }

    private static func providerRefusal(_ body: [UInt8]) -> OrderQueryAnswerError? {
        do {
            _ = try OrderQueryAnswer.parse(body)
            return nil
        } catch {
            return error
        }
    }

    private static func transportFailure(_ error: any Error) -> TrustPayAPIError {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout: return .timedOut
            default: return .transport(String(describing: error))
            }
        }
        if error is NIOTooManyBytesError {
            return .malformedAnswer("the answer is longer than \(maxAnswerBytes) bytes")
        }
        if error is CancellationError { return .transport("cancelled") }
        if let error = error as? NIOSSLError { return .transport("TLS: \(error)") }
        return .transport(String(describing: error))
    }

    private static func tls(caCertificatePath: String?, merchantID: Int64) throws(TrustPayAPIConfigurationError)
        -> TLSConfiguration?
    {
        guard let caCertificatePath else { return nil }  // the client's own: the system trust store
        guard FileManager.default.isReadableFile(atPath: caCertificatePath) else {
            throw TrustPayAPIConfigurationError(merchantID: merchantID, reason: "cannot read the CA file \(caCertificatePath)")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(caCertificatePath)
            guard !certificates.isEmpty else {
                throw TrustPayAPIConfigurationError(
                    merchantID: merchantID, reason: "the CA file \(caCertificatePath) holds no PEM certificate")
            }
            tls.trustRoots = .certificates(certificates)
        } catch let error as TrustPayAPIConfigurationError {
            throw error
        } catch {
            throw TrustPayAPIConfigurationError(
                merchantID: merchantID, reason: "the CA file \(caCertificatePath) holds no PEM certificate (\(error))")
        }
        return tls
    }
}
