import COpenSSL

/// What a non-blocking socket or TLS operation did.
enum IOResult {
    case done(Int)
    /// Try again when the socket is readable (`wantWrite == false`) or writable.
    case wouldBlock(wantWrite: Bool)
    case closed
    case failed
}

/// One server-side TLS connection over a non-blocking socket. Confined to
/// its event loop's thread.
final class TLSSession {
    private let ssl: OpaquePointer
    private(set) var handshakeDone = false

    init?(context: TLSContext, fd: Int32) {
        guard !context.failsNewSessions, let ssl = SSL_new(context.context) else { return nil }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        SSL_set_accept_state(ssl)
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake; `.done(0)` once it has completed.
    func handshake() -> IOResult {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            handshakeDone = true
            return .done(0)
        }
        return classify(rc)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        ERR_clear_error()
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        return rc > 0 ? .done(Int(rc)) : classify(rc)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        ERR_clear_error()
        let rc = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
        return rc > 0 ? .done(Int(rc)) : classify(rc)
    }

    /// Decrypted bytes OpenSSL holds that epoll cannot signal.
    var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }

    /// Sends close_notify, best effort (the socket is closed right after).
    func shutdown() {
        ERR_clear_error()
        if handshakeDone { _ = SSL_shutdown(ssl) }
    }

    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    private func classify(_ rc: Int32) -> IOResult {
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wouldBlock(wantWrite: false)
        case SSL_ERROR_WANT_WRITE: return .wouldBlock(wantWrite: true)
        case SSL_ERROR_ZERO_RETURN: return .closed
        default:
            ERR_clear_error()
            return .failed
        }
    }
}
