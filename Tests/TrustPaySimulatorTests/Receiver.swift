import HTTPServer
import Locking

/// A merchant's notify_url on a real loopback socket: answers each callback
/// with the next scripted status (the last one repeats) and keeps the bodies.
final class Receiver: Sendable {
    private struct State {
        var statuses: [Int]
        var bodies: [[UInt8]] = []
    }

    private let state: Locked<State>
    private let server: Server
    let url: String

    init(answering statuses: [Int]) throws {
        precondition(!statuses.isEmpty)
        let state = Locked(State(statuses: statuses))
        var router = Router()
        router.add(.post, "/trustpay/payment", .immediate { request in
            let status = state.withLock { state in
                state.bodies.append(request.body)
                return state.statuses.count > 1 ? state.statuses.removeFirst() : state.statuses[0]
            }
            return HTTPResponse(status: HTTPStatus(status), contentType: "application/json", body: "{}")
        })
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.eventLoops = 1
        server = Server(configuration: configuration, router: router)
        url = "http://127.0.0.1:\(try server.start()[0].port)/trustpay/payment"
        self.state = state
    }

    var bodies: [[UInt8]] { state.withLock { $0.bodies } }

    func stop() async {
        server.shutdown(drainTimeout: .seconds(1))
        await server.waitUntilStopped()
    }
}
