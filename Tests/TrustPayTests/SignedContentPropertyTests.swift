import CallbackReshaping
import Foundation
import Testing
import TrustPay

@Suite("Signed content property over generated bodies and reshapings")
struct SignedContentPropertyTests {
    let check = SameEventCheck()

    @Test("every reshaping of a genuine body is refused or the same event as the original, never another")
    func reshapedBodiesAreRefusedOrTheSameEvent() {
        var outcomes: [String: (same: Int, refused: Int)] = [:]
        let trials: UInt64 = 6_000
        for seed in 0..<trials {
            var generator = GenuineCallbacks(seed: seed)
            var reshaper = Reshaper(seed: seed &* 31 &+ 7)
            let original = generator.next()
            let reshaped = reshaper.reshape(original.fields)
            let outcome = check.check(reshaped.body, against: original)
            let label = reshaped.steps.joined(separator: "+")
            switch outcome {
            case .violation(let what):
                Issue.record("seed \(seed), \(label): \(what)\nbody: \(String(decoding: reshaped.body, as: UTF8.self))")
            case .sameEvent:
                for step in Set(reshaped.steps) { outcomes[step, default: (0, 0)].same += 1 }
            case .refused:
                for step in Set(reshaped.steps) { outcomes[step, default: (0, 0)].refused += 1 }
            }
        }
        // The generator must reach both outcomes, or the property proves nothing.
        for harmless in ["whitespace", "member order", "upper-case sign"] {
            #expect((outcomes[harmless]?.same ?? 0) > 100, "\(harmless): \(String(describing: outcomes[harmless]))")
        }
        for attack in ["type swap", "moved key", "spliced value", "crafted key", "number form", "explicit empty",
                       "duplicate spelling", "escapes"] {
            #expect((outcomes[attack]?.refused ?? 0) > 100, "\(attack): \(String(describing: outcomes[attack]))")
        }
    }

    @Test("every genuine body is accepted on its own route and refused on the other")
    func genuineBodiesAreAcceptedOnTheirRouteOnly() {
        for seed in 0..<UInt64(2_000) {
            var generator = GenuineCallbacks(seed: seed)
            let original = generator.next()
            let other: GenuineCallbacks.Callback.Route = original.route == .payment ? .card : .payment
            guard case .success = check.meaning(of: original.body, on: original.route) else {
                Issue.record("seed \(seed): genuine \(original.route) body refused: \(original.fields.compactJSON)")
                continue
            }
            if case .success = check.meaning(of: original.body, on: other) {
                Issue.record("seed \(seed): a \(original.route) body was accepted on the \(other) route")
            }
        }
    }

    @Test("the committed fuzz seed corpus is exactly the generated genuine bodies")
    func committedCorpusMatchesTheSeeds() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../fuzz/signed-content-corpus").standardized
        let seeds = GenuineCallbacks.seeds()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count == seeds.count)
        for (file, seed) in zip(files, seeds) {
            let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
            #expect(bytes == seed.body, "\(file)")
            #expect(GenuineBodyIndex().check(bytes) == .sameEvent, "\(file)")
        }
    }
}
