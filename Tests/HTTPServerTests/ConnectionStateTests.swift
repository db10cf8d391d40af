import Testing
@testable import HTTPServer

/// A connection's protocol rules without sockets: each test walks the value
/// through the events a live connection would see and checks the phase,
/// the answer's persistence and the deadline that runs.
@Suite struct ConnectionStateTests {
    static let timeouts = ConnectionState.Timeouts(header: 10, body: 20, idle: 30, write: 40, linger: 50)

    func fresh(tls: Bool = false, now: UInt64 = 1_000) -> ConnectionState {
        ConnectionState(tls: tls, timeouts: Self.timeouts, now: now)
    }

    @Test func aNewConnectionWaitsForItsFirstRequestWithinTheHeaderTimeout() {
        let plain = fresh()
        #expect(plain.phase == .head)
        #expect(plain.nextDeadline == 1_010)
        var tls = fresh(tls: true)
        #expect(tls.phase == .handshake)
        tls.handshakeDone()
        #expect(tls.phase == .head)
    }

    @Test func aKeepAliveExchangeEndsIdleWithTheIdleTimeout() {
        var state = fresh()
        state.requestBytesArrived(now: 1_005)
        #expect(state.nextDeadline == 1_015)
        state.requestBytesArrived(now: 1_009)  // more bytes: the timer keeps running, not restarted
        #expect(state.nextDeadline == 1_015)
        state.dispatched(async: false)
        #expect(state.nextDeadline == nil)
        let result1 = state.answering(requestWantsKeepAlive: true)
        #expect(result1 == .keepAlive)
        let result2 = state.outputFlushed(now: 1_012)
        #expect(result2 == false)
        state.inputEmpty(now: 1_012)
        #expect(state.phase == .head)
        #expect(state.nextDeadline == 1_042, "idle timeout after a served request")
        #expect(state.isIdle)
    }

    @Test func aBodyIsReadWithinTheBodyTimeout() {
        var state = fresh()
        state.requestBytesArrived(now: 1_001)
        state.bodyExpected(now: 1_002)
        #expect(state.phase == .body)
        #expect(state.nextDeadline == 1_022)
        let result3 = state.expire(now: 1_021)
        #expect(result3 == .nothing)
        let result4 = state.expire(now: 1_022)
        #expect(result4 == .requestTimedOut)
        #expect(state.nextDeadline == nil)
    }

    @Test func aSlowHeadIsAnswered408ButAQuietIdleConnectionIsJustClosed() {
        var slow = fresh()
        slow.requestBytesArrived(now: 1_000)
        let result5 = slow.expire(now: 1_010)
        #expect(result5 == .requestTimedOut)
        var quiet = fresh()
        let result6 = quiet.expire(now: 1_010)
        #expect(result6 == .close)
    }

    @Test func aRunningHandlerIsNeverTimedOutByTheReadSide() {
        var state = fresh()
        state.requestBytesArrived(now: 1_000)
        state.dispatched(async: true)
        #expect(state.phase == .handling)
        #expect(state.nextDeadline == nil)
        #expect(!state.isIdle)
        let result7 = state.drain(outputPending: false)
        #expect(result7 == false, "shutdown waits for the answer")
        let result8 = state.answering(requestWantsKeepAlive: true)
        #expect(result8 == .close, "a draining server closes after it")
    }

    @Test func connectionCloseLingersAfterTheLastByteThenCloses() {
        var state = fresh()
        state.requestBytesArrived(now: 1_000)
        state.dispatched(async: false)
        let result9 = state.answering(requestWantsKeepAlive: false)
        #expect(result9 == .close)
        #expect(state.phase == .lingering)
        state.writeBlocked(now: 1_001)
        #expect(state.nextDeadline == 1_041)
        state.writeBlocked(now: 1_030)  // still blocked: the first deadline stands
        #expect(state.nextDeadline == 1_041)
        let result10 = state.outputFlushed(now: 1_035)
        #expect(result10 == true)
        #expect(state.nextDeadline == 1_085, "lingering drains for the linger time")
        let result11 = state.expire(now: 1_085)
        #expect(result11 == .close)
    }

    @Test func aBlockedWriteThatNeverDrainsCloses() {
        var state = fresh()
        state.requestBytesArrived(now: 1_000)
        state.dispatched(async: false)
        _ = state.answering(requestWantsKeepAlive: true)
        state.writeBlocked(now: 1_000)
        let result12 = state.expire(now: 1_039)
        #expect(result12 == .nothing)
        let result13 = state.expire(now: 1_040)
        #expect(result13 == .close)
    }

    @Test func aPeerThatHalfClosesGetsTheAnswerItIsOwedThenTheConnectionCloses() {
        var state = fresh()
        state.requestBytesArrived(now: 1_000)
        state.dispatched(async: true)
        state.peerHalfClosed()
        #expect(!state.closesNow(outputPending: false), "the handler's answer is still owed")
        let result14 = state.answering(requestWantsKeepAlive: true)
        #expect(result14 == .close, "nobody reads a next answer")
        #expect(state.closesNow(outputPending: true) == false)
        #expect(state.closesNow(outputPending: false))
    }

    @Test func shutdownClosesIdleConnectionsAtOnce() {
        var idle = fresh()
        let result15 = idle.drain(outputPending: false)
        #expect(result15)
        var handshaking = fresh(tls: true)
        let result16 = handshaking.drain(outputPending: false)
        #expect(result16)
        var writing = fresh()
        let result17 = writing.drain(outputPending: true)
        #expect(result17 == false)
        var reading = fresh()
        reading.requestBytesArrived(now: 1_000)
        let result18 = reading.drain(outputPending: false)
        #expect(result18 == false)
    }

    @Test func aClosedConnectionHasNoDeadline() {
        var state = fresh()
        state.writeBlocked(now: 1_000)
        state.closed()
        #expect(state.phase == .closed)
        #expect(state.nextDeadline == nil)
    }
}
