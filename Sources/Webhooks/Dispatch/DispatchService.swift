import HTTPServer
import ServiceLifecycle

/// The dispatch side of a ``WebhookPipeline`` as a `Service`: the workers
/// that claim and run due events, the alarm that wakes them when a retry
/// falls due, and the conflict handlers.
///
/// Everything runs on ``Server/handlerExecutor``, as route handlers
/// do: a merchant handler that blocks its thread blocks one of the server's
/// handler threads, never Swift's cooperative pool. On graceful shutdown the
/// workers claim nothing more and let the handlers in progress finish; put
/// the service before the HTTP server in the group so that it stops after
/// the server has drained (a group stops services in reverse order).
public struct DispatchService: Service {
    let pipeline: WebhookPipeline

    public func run() async {
        let pipeline = pipeline
        await withTaskExecutorPreference(Server.handlerExecutor) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await pipeline.retryAlarm.run { pipeline.wakeWorkers() } }
                let conflictHandlers = pipeline.handlers.conflict
                if !conflictHandlers.isEmpty {
                    group.addTask { await pipeline.conflictReports.run(conflictHandlers) }
                }
                // Ends on graceful shutdown or cancellation; the alarm and the
                // conflict handlers end with the workers.
                await pipeline.workers.run()
                group.cancelAll()
            }
        }
    }
}
