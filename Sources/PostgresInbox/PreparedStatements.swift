import PostgresNIO

/// The text of a statement the write path runs for every callback or
/// batch, with `$n` parameters.
protocol WritePathStatement {
    static var sql: String { get }
}

/// A write-path statement prepared once per connection (PostgresNIO
/// prepares it on a connection's first use and executes it by name after).
///
/// Sent as text, each was parsed and planned at every call: with
/// `trustpay_events`' ten indexes, most of them partial, that planning was
/// 30-70 µs a statement, and with the parsing about a tenth of
/// PostgreSQL's CPU per callback (perf, BENCHMARKS.md session 21). A
/// prepared statement's plan is kept: each of these calls a function, or
/// looks up one unique key, whatever the values, so PostgreSQL settles on
/// the generic plan after its first few custom ones.
///
/// A pooler in front of PostgreSQL must let named prepared statements
/// through (PgBouncer in transaction mode: 1.21 or later, with
/// `max_prepared_statements` set).
struct Prepared<Statement: WritePathStatement>: PostgresPreparedStatement {
    typealias Row = PostgresRow

    static var sql: String { Statement.sql }

    /// Short and plain for `pg_prepared_statements`; PostgreSQL keeps at
    /// most 63 bytes of a statement's name.
    static var name: String { "trustpay_\(Statement.self)" }

    private let bindings: PostgresBindings

    /// `bindings` for `$1`, `$2`, … in order, appended by the caller one
    /// concrete value at a time, so that each value's encoding is
    /// specialized for its type there. Through an array of
    /// `any PostgresThrowingDynamicTypeEncodable` (or a parameter pack,
    /// which the optimizer left generic too) every element of every array
    /// went through PostgresNIO's unspecialized generic code, ~1,400
    /// instructions an element: 72,000 of the server's ~303,000 per
    /// PostgreSQL callback (callgrind, BENCHMARKS.md session 22). The
    /// batches' arrays go in as ``ArrayBinding``s (session 23).
    init(_ bindings: PostgresBindings) {
        self.bindings = bindings
    }

    func makeBindings() -> PostgresBindings { bindings }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

extension PostgresInbox {
    /// Bindings of a few scalars, for the statements that are not per-array.
    static func bindings(_ values: any PostgresThrowingDynamicTypeEncodable...) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { try bindings.append(value) }
        return bindings
    }
}

/// `PostgresInbox.writeRecords`: a batch of new events, each array one
/// column in the batch's order (see `trustpay_record_events`).
enum RecordEvents: WritePathStatement {
    static let sql = """
        SELECT r.ord, \(PostgresInbox.recordedColumns) FROM trustpay_record_events(
            $1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::integer[], $7::boolean[], $8::text[],
            $9::integer[], $10::text[], $11::integer[], $12::boolean[], $13::bytea[], $14::timestamptz[],
            $15::text[], $16::integer[], $17::text[], $18::timestamptz[]
        ) AS r
        """
}

/// `PostgresInbox.writeEndings`: a batch of attempt endings (see `trustpay_end_attempts`).
enum EndAttempts: WritePathStatement {
    static let sql = """
        SELECT trustpay_end_attempts(
            $1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::timestamptz[],
            $7::timestamptz[], $8::text[], $9::text[], $10::boolean[])
        """
}

/// `PostgresInbox.claimDue`: owner, lease end, now, limit (see `trustpay_claim_due`).
enum ClaimDue: WritePathStatement {
    static let sql = """
        SELECT \(eventColumns) FROM trustpay_claim_due($1::text, $2::timestamptz, $3::timestamptz, $4::integer)
        ORDER BY seq
        """
}

/// The stored event of an idempotency key: what a repeat is answered with.
enum StoredEventOfKey: WritePathStatement {
    static let sql = "SELECT \(eventColumns) FROM trustpay_events WHERE idempotency_key = $1"
}
