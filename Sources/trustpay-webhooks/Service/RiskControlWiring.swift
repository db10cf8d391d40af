import BuiltinHandlers
import ServiceConfiguration
import TrustPay
import Webhooks

/// The standalone binary's risk-control decision: a fixed answer, or a
/// command that reads the request JSON and answers with its exit status.
enum RiskControlWiring {
    static func register(_ settings: RiskControlSettings, environment: [String: String], on server: inout WebhookServer) {
        let command = settings.command
        let fixed: RiskDecision = switch settings.decision {
        case .allow: .allow
        case .deny: .deny
        case .unavailable: .unavailable
        }
        let deadline = settings.deadline
        server.onRiskControl { request in
            guard !command.isEmpty else { return fixed }
            // The command gets the body as TrustPay sent it; exit 0 allow, 1 deny.
            switch try await CommandRunner.run(command, input: request.rawBody, timeout: deadline, environment: environment) {
            case 0: return .allow
            case 1: return .deny
            default: return .unavailable
            }
        }
    }
}
