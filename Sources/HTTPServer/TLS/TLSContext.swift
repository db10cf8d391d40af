import COpenSSL

/// Why TLS could not be set up; names the file or OpenSSL's own reason.
public enum TLSError: Error, Sendable, CustomStringConvertible {
    case certificate(path: String, reason: String)
    case privateKey(path: String, reason: String)
    case setup(String)

    public var description: String {
        switch self {
        case .certificate(let path, let reason): "cannot load TLS certificate chain \(path): \(reason)"
        case .privateKey(let path, let reason): "cannot load TLS private key \(path): \(reason)"
        case .setup(let reason): "TLS setup failed: \(reason)"
        }
    }
}

/// PEM files for a TLS listener.
public struct TLSConfiguration: Sendable, Equatable {
    public var certificateChainPath: String
    public var privateKeyPath: String
    /// OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's defaults).
    public var cipherList: String =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    /// Tests only: behave as if OpenSSL could not create any session (as
    /// when it is out of memory), which nothing else provokes reliably.
    var failsNewSessions = false

    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }

    /// Loads the files exactly as a listener will, without binding anything:
    /// for configuration checks that must fail where the server would.
    public func validate() throws(TLSError) {
        _ = try TLSContext(self)
    }
}

/// One OpenSSL `SSL_CTX`, shared read-only by every event loop: TLS 1.2 at
/// least (1.3 is negotiated when the client has it), modern ciphers, ALPN
/// `http/1.1`.
final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    let failsNewSessions: Bool

    init(_ configuration: TLSConfiguration) throws(TLSError) {
        failsNewSessions = configuration.failsNewSessions
        guard let ctx = SSL_CTX_new(TLS_server_method()) else {
            throw .setup(TLSContext.lastError())
        }
        context = ctx
        _ = copenssl_ctx_set_min_proto(ctx, copenssl_tls1_2_version())
        _ = copenssl_ctx_set_options(ctx, copenssl_server_options())
        _ = copenssl_ctx_set_mode(ctx, copenssl_mode_partial_writes())
        guard SSL_CTX_set_cipher_list(ctx, configuration.cipherList) == 1 else {
            throw .setup("cipher list rejected: \(TLSContext.lastError())")
        }
        guard SSL_CTX_use_certificate_chain_file(ctx, configuration.certificateChainPath) == 1 else {
            throw .certificate(path: configuration.certificateChainPath, reason: TLSContext.lastError())
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, configuration.privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw .privateKey(path: configuration.privateKeyPath, reason: TLSContext.lastError())
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw .privateKey(path: configuration.privateKeyPath, reason: "does not match the certificate")
        }
        copenssl_ctx_enable_alpn_http11(ctx)
    }

    deinit { SSL_CTX_free(context) }

    /// Drains this thread's OpenSSL error queue into one line.
    static func lastError() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.isEmpty ? "unknown OpenSSL error" : reasons.joined(separator: "; ")
    }
}
