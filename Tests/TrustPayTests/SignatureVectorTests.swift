import Foundation
import Testing
@testable import TrustPay

/// One worked case from `Fixtures/signature-vectors.json`, computed by an
/// independent implementation of CALLBACKS.md.
struct SignatureVector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let secret: String
    let body: String
    let canonical: String?
    let sign: String?
    let valid: Bool

    var testDescription: String { name }

    static func all() throws -> [SignatureVector] {
        struct File: Decodable { let vectors: [SignatureVector] }
        let url = try #require(
            Bundle.module.url(forResource: "signature-vectors", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors
    }
}

@Suite("Signature vectors from the independent implementation")
struct SignatureVectorTests {
    let scheme = TrustPaySignature()

    @Test("the fixture file holds both valid and invalid vectors")
    func fixtureIsLoaded() throws {
        let vectors = try SignatureVector.all()
        #expect(vectors.count >= 15)
        #expect(vectors.contains { $0.valid } && vectors.contains { !$0.valid })
    }

    @Test("valid vectors verify, and the canonical string matches for the form that matched",
          arguments: try SignatureVector.all().filter(\.valid))
    func validVectorVerifies(_ vector: SignatureVector) throws {
        let verdict = scheme.verify(body: Array(vector.body.utf8), secrets: [vector.secret])
        guard case .valid(let secretIndex, let form) = verdict else {
            Issue.record("expected a valid signature, got \(verdict)")
            return
        }
        #expect(secretIndex == 0)
        let fields = try #require(try JSONValue(parsing: Array(vector.body.utf8)).objectValue)
        #expect(scheme.sign(fields, secret: vector.secret, form: form) == vector.sign?.lowercased())
        if let canonical = vector.canonical {
            #expect(scheme.canonicalString(of: fields, secret: vector.secret, form: form) == canonical)
        }
    }

    @Test("invalid vectors are rejected for the right reason",
          arguments: try SignatureVector.all().filter { !$0.valid })
    func invalidVectorIsRejected(_ vector: SignatureVector) {
        let expected: SignatureFailure =
            switch vector.sign {
            case nil: .missingSign
            case ""?: .emptySign
            case _?: .mismatch
            }
        #expect(scheme.verify(body: Array(vector.body.utf8), secrets: [vector.secret]) == .invalid(expected))
    }

    @Test("a valid vector still verifies when its secret is second in a rotation list",
          arguments: try SignatureVector.all().filter(\.valid).prefix(3))
    func rotatedSecretVerifies(_ vector: SignatureVector) {
        let verdict = scheme.verify(body: Array(vector.body.utf8), secrets: ["new-secret", vector.secret])
        #expect(verdict.isValid)
        if case .valid(let index, _) = verdict { #expect(index == 1) }
    }
}
