import AsyncHTTPClient
import Durations
import NIOCore
import TrustPay

/// One callback the simulator posted (or tried to), with every attempt.
public struct DeliveryRecord: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// An attempt was answered `200`.
        case delivered
        /// Every attempt of the retry schedule failed.
        case gaveUp
    }

    public let merchantID: Int64
    public let orderNo: String
    public let status: OrderStatus
    /// 1 for the first copy of this callback, 2 for its first repeat, ….
    public let copy: Int
    public let attempts: [DeliveryAttempt]
    public let outcome: Outcome
    /// The signed body, the same for every attempt and copy.
    public let body: [UInt8]
}

/// What one attempt got.
public enum DeliveryAttempt: Sendable, Equatable {
    /// The receiver answered with this HTTP status (only `200` is a success).
    case answered(Int)
    /// No answer: refused, reset, timed out, ….
    case failed(String)
}

/// Posts one signed body to the notify_url, retrying on the schedule.
struct CallbackPoster: Sendable {
    let client: HTTPClient
    let url: String
    let schedule: [Duration]
    let timeout: Duration

    /// Tries each slot of the schedule until one attempt is answered `200`.
    /// Returns early (as given up) when the task is cancelled.
    func post(_ body: [UInt8]) async -> (attempts: [DeliveryAttempt], delivered: Bool) {
        var attempts: [DeliveryAttempt] = []
        for wait in schedule {
            if wait > .zero {
                do { try await Task.sleep(for: wait) } catch { return (attempts, false) }
            }
            let attempt = await once(body)
            attempts.append(attempt)
            if attempt == .answered(200) { return (attempts, true) }
        }
        return (attempts, false)
    }

    private func once(_ body: [UInt8]) async -> DeliveryAttempt {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "trustpay-simulator")
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.wholeNanoseconds))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return .answered(Int(response.status.code))
        } catch {
            return .failed(String(describing: error))
        }
    }
}
