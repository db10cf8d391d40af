import Deadlines
import Inbox
import PostgresNIO

/// How a failure talking to PostgreSQL reaches the pipeline: always as
/// ``StoreError/unavailable(_:)``, so that a callback is answered `503` and
/// delivered again later. The reason names the cause without query text,
/// parameters or stored data.
enum DatabaseFailure {
    static func storeError(_ error: any Error, timeout: Duration) -> StoreError {
        if let error = error as? StoreError { return error }
        return .unavailable(reason(error, timeout: timeout))
    }

    /// A conflict between concurrent transactions that the server resolved
    /// by aborting one of them; running it again succeeds.
    static func isTransient(_ error: any Error) -> Bool {
        if innermost(error) is UnexpectedlyEmpty { return true }
        guard let state = sqlState(error) else { return false }
        return state == "40001" || state == "40P01"  // serialization_failure, deadlock_detected
    }

    /// The database could not be reached, or did not answer in time, as
    /// opposed to refusing one statement: later calls would fare the same.
    static func meansUnreachable(_ error: any Error) -> Bool {
        switch innermost(error) {
        case is DeadlineExceeded:
            return true
        case let error as PSQLError:
            if let state = error.serverInfo?[.sqlState] {
                // connection_exception, admin_shutdown, crash_shutdown, cannot_connect_now.
                return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
            }
            return [.connectionError, .serverClosedConnection, .uncleanShutdown].contains(error.code)
        default:
            return false
        }
    }

    /// The call ran out of time (rather than being refused or cut off).
    static func isTimeout(_ error: any Error) -> Bool {
        innermost(error) is DeadlineExceeded
    }

    static func sqlState(_ error: any Error) -> String? {
        (innermost(error) as? PSQLError)?.serverInfo?[.sqlState]
    }

    private static func reason(_ error: any Error, timeout: Duration) -> String {
        let error = innermost(error)
        switch error {
        case is DeadlineExceeded:
            return "PostgreSQL did not answer within \(timeout)"
        case is CancellationError:
            return "the request was cancelled before PostgreSQL answered"
        case let error as PSQLError:
            if let info = error.serverInfo {
                let state = info[.sqlState] ?? "?????"
                return "PostgreSQL refused the request (SQLSTATE \(state)): \(info[.message] ?? "no message")"
            }
            if let underlying = error.underlying {
                return "cannot reach PostgreSQL (\(error.code)): \(underlying)"
            }
            return "cannot reach PostgreSQL (\(error.code))"
        case let error as SchemaError:
            return error.description
        case let error as PostgresDecodingError:
            return "unexpected data in column \(error.columnName) (\(error.code))"
        default:
            return "cannot reach PostgreSQL: \(error)"
        }
    }

    /// The error a transaction wrapper reports as its cause.
    private static func innermost(_ error: any Error) -> any Error {
        guard let wrapper = error as? PostgresTransactionError else { return error }
        if let cause = wrapper.closureError ?? wrapper.beginError ?? wrapper.commitError { return innermost(cause) }
        return error
    }
}
