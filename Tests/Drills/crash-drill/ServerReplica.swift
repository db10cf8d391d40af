import ChildProcesses
import Foundation
import Glibc
import Locking

/// One `trustpay-webhooks serve` process on a fixed loopback port, started
/// again in place after each `kill -9`. Every process it ever ran is
/// remembered by its generation (`a-1`, `a-2`, …), with whether it was
/// killed, so handler runs can be traced to the process that made them:
/// each process has its generation in `CRASH_DRILL_SERVER`, which its
/// handler children inherit.
final class ServerReplica: Sendable {
    let name: String
    let port: Int
    let configPath: String
    private let binary: String
    private let directory: String
    private let state = Locked(State())

    private struct State {
        var current: pid_t?
        var generations = 0
        var killed: Set<String> = []
        var startTimes: [Duration] = []
        var lastSpawn: ContinuousClock.Instant?
    }

    init(name: String, port: Int, config: String, binary: String, directory: String) throws {
        self.name = name
        self.port = port
        self.binary = binary
        self.directory = directory
        configPath = "\(directory)/serve-\(name).yaml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    var pid: pid_t? { state.withLock { $0.current } }
    var killedGenerations: Set<String> { state.withLock { $0.killed } }
    var generations: Int { state.withLock { $0.generations } }
    /// From spawn to the first `200` of `/readyz`, per start.
    var startTimes: [Duration] { state.withLock { $0.startTimes } }
    /// When the latest process was spawned.
    var lastSpawn: ContinuousClock.Instant? { state.withLock { $0.lastSpawn } }

    /// Starts a new process and blocks until it reports ready.
    func start() throws {
        let generation = state.withLock { state in
            state.generations += 1
            return state.generations
        }
        let log = "\(directory)/serve-\(name)-\(generation).log"
        let started = ContinuousClock.now
        let child = try ChildProcess.spawn(
            ["/usr/bin/env", "CRASH_DRILL_SERVER=\(name)-\(generation)", binary, "serve", "--config", configPath],
            stdout: log, stderr: log + ".err")
        state.withLock { state in
            state.current = child.pid
            state.lastSpawn = started
        }
        try waitUntilReady(child.pid, log: log + ".err", started: started)
        state.withLock { $0.startTimes.append(ContinuousClock.now - started) }
    }

    /// SIGKILL, the way a crash or an OOM kill ends a process: no handler,
    /// no drain, no flush.
    func kill9() {
        guard let pid = state.withLock({ $0.current }) else { return }
        kill(pid, SIGKILL)
        reap(pid)
        state.withLock { state in
            state.killed.insert("\(name)-\(state.generations)")
            state.current = nil
        }
    }

    /// SIGTERM and wait: the graceful end of the drill. The exit status.
    func stop() -> Int32? {
        guard let pid = state.withLock({ $0.current }) else { return nil }
        kill(pid, SIGTERM)
        let status = reap(pid)
        state.withLock { $0.current = nil }
        return status
    }

    private func waitUntilReady(_ pid: pid_t, log: String, started: ContinuousClock.Instant) throws {
        let client = LoopbackClient(port: port)
        while ContinuousClock.now - started < .seconds(60) {
            if client.send(getRequest(path: "/readyz")) == 200 { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                state.withLock { $0.current = nil }
                throw DrillError("replica \(name) exited while starting:\n\(Self.tail(log))")
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        reap(pid)
        throw DrillError("replica \(name) was not ready within 60 s:\n\(Self.tail(log))")
    }

    @discardableResult
    private func reap(_ pid: pid_t) -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(3000))
    }
}

struct DrillError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
