import Testing

@testable import Webhooks

/// When a worker that has handed-over events to run also claims
/// (``ClaimPacing``). The instants are made up: nothing here waits.
@Suite struct ClaimPacingTests {
    /// Monotonic nanoseconds, as ``monotonicNanoseconds()`` reads them.
    let start: UInt64 = 7_000_000_000_000
    func at(_ milliseconds: Int) -> UInt64 { start + UInt64(milliseconds) * 1_000_000 }

    /// After a claim that found nothing, a busy worker skips claims until
    /// the interval has passed; a worker with nothing handed over claims
    /// regardless. Fails with claims never paced, or paced for good.
    @Test func aBusyWorkerClaimsAgainOnlyOnceTheIntervalHasPassed() throws {
        let pacing = ClaimPacing(interval: .milliseconds(50))
        let first = try #require(pacing.claim(busy: true, now: at(0)), "the first claim is never skipped")
        pacing.claimed(first, found: false)
        #expect(pacing.claim(busy: true, now: at(10)) == nil)
        #expect(pacing.claim(busy: true, now: at(49)) == nil)
        #expect(pacing.claim(busy: false, now: at(10)) != nil, "an idle worker claims")
        #expect(pacing.claim(busy: true, now: at(50)) != nil)
    }

    /// A claim that found events says there is a backlog: busy workers go
    /// on claiming. Fails when any ended claim paces the next.
    @Test func aClaimThatFoundEventsIsFollowedByMore() throws {
        let pacing = ClaimPacing(interval: .milliseconds(50))
        pacing.claimed(try #require(pacing.claim(busy: true, now: at(0))), found: false)
        pacing.claimed(try #require(pacing.claim(busy: true, now: at(60))), found: true)
        #expect(pacing.claim(busy: true, now: at(61)) != nil)
    }

    /// An event recorded pending here, or a retry due, is claimed at once;
    /// news that comes while a claim is under way is not taken as seen by
    /// it (that claim may have looked before the event was there).
    @Test func newsIsClaimedAtOnceEvenWhenItCameDuringAClaim() throws {
        let pacing = ClaimPacing(interval: .milliseconds(50))
        pacing.claimed(try #require(pacing.claim(busy: true, now: at(0))), found: false)
        pacing.expectClaimable()
        let claim = try #require(pacing.claim(busy: true, now: at(5)), "news: claim now")
        pacing.expectClaimable()  // while that claim runs
        pacing.claimed(claim, found: false)
        let next = try #require(pacing.claim(busy: true, now: at(6)), "the news came during the claim")
        pacing.claimed(next, found: false)
        #expect(pacing.claim(busy: true, now: at(7)) == nil, "all news seen")
    }

    /// An event held behind an earlier one of its order is released by that
    /// one's completion, which says nothing here: claims go unpaced until
    /// one finds events. Fails when a held event counts as news only once.
    @Test func heldEventsKeepClaimsUnpacedUntilAClaimFindsEvents() throws {
        let pacing = ClaimPacing(interval: .milliseconds(50))
        pacing.expectHeld()
        for milliseconds in [0, 1, 2] {
            let claim = try #require(pacing.claim(busy: true, now: at(milliseconds)))
            pacing.claimed(claim, found: false)
        }
        pacing.claimed(try #require(pacing.claim(busy: true, now: at(3))), found: true)
        pacing.claimed(try #require(pacing.claim(busy: true, now: at(4))), found: false)
        #expect(pacing.claim(busy: true, now: at(5)) == nil)
    }

    /// Of two claims ending out of order, the later-begun empty one counts.
    @Test func anOlderEmptyClaimEndingLateDoesNotMoveTheIntervalBack() throws {
        let pacing = ClaimPacing(interval: .milliseconds(50))
        let older = try #require(pacing.claim(busy: false, now: at(0)))
        let newer = try #require(pacing.claim(busy: false, now: at(40)))
        pacing.claimed(newer, found: false)
        pacing.claimed(older, found: false)
        #expect(pacing.claim(busy: true, now: at(60)) == nil, "paced from the claim begun at 40 ms")
        #expect(pacing.claim(busy: true, now: at(90)) != nil)
    }
}
