import ServiceLifecycle

/// The server as a swift-service-lifecycle `Service`, the way a
/// Hummingbird server is one: a `ServiceGroup` composes it with the rest of
/// a process and decides when it stops. The server never installs signal
/// handlers itself; a group configured with `gracefulShutdownSignals` does.
extension Server: Service {
    /// Starts the server unless ``start()`` already did (a caller that wants
    /// the bound addresses before the group runs calls it first), then
    /// serves until the group's graceful shutdown, which drains requests in
    /// flight within the configuration's drain timeout, or until the task is
    /// cancelled, which closes every connection at once. Returns when every
    /// loop has stopped.
    public func run() async throws {
        if !isStarted { try start() }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await waitUntilStopped()
            } onCancel: {
                self.shutdown(drainTimeout: .zero)
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }
}
