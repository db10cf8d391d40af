/// One address the server listens on, optionally with TLS.
public struct ListenerConfiguration: Sendable, Equatable {
    public var address: SocketAddress
    public var tls: TLSConfiguration?

    public init(host: String, port: Int, tls: TLSConfiguration? = nil) {
        self.address = SocketAddress(host: host, port: port)
        self.tls = tls
    }
}

/// Everything the HTTP server can be tuned with.
public struct HTTPServerConfiguration: Sendable, Equatable {
    public var listeners: [ListenerConfiguration]
    /// Event loop threads; defaults to one per core.
    public var eventLoops: Int = HTTPServerConfiguration.coreCount
    public var limits = HTTPLimits()
    /// A request's head must arrive within this time of its first byte
    /// (or of the connection's start): the slowloris bound.
    public var headerReadTimeout: Duration = .seconds(10)
    /// The whole body must arrive within this time of the head.
    public var bodyReadTimeout: Duration = .seconds(30)
    /// An idle keep-alive connection is closed after this.
    public var idleTimeout: Duration = .seconds(60)
    /// A response that makes no write progress for this long is abandoned.
    public var writeTimeout: Duration = .seconds(30)
    /// Connections beyond this (over all listeners) get a 503 and are closed.
    public var maxConnections: Int = 10_000
    /// Open connections one source address may hold; beyond it a new one
    /// gets a 429 at accept, before any request is read. nil: no cap.
    public var maxConnectionsPerSource: Int?
    /// In-flight requests get this long to finish on shutdown.
    public var drainTimeout: Duration = .seconds(10)
    public var backlog: Int32 = 1024

    public init(listeners: [ListenerConfiguration]) {
        self.listeners = listeners
    }

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.init(listeners: [ListenerConfiguration(host: host, port: port)])
    }

    public static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

import Glibc
