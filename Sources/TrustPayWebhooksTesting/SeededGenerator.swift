import CallbackReshaping

/// SplitMix64: a tiny deterministic generator, so a randomized test or drill
/// can be replayed exactly from the seed it printed.
public typealias SeededGenerator = SplitMix64
