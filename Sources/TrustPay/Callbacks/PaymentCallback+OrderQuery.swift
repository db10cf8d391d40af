/// Reconciliation: the callback an Order Query answer stands for.
extension PaymentCallback {
    /// The answer's fields a payment callback also has, by the answer's name
    /// (snake_case and the v3 API's camelCase) and the callback's.
    static let orderQueryFields: [(answer: String, callback: String)] = [
        ("type_id", "type"), ("typeId", "type"), ("merchant_id", "merchant_id"), ("merchantId", "merchant_id"),
        ("order_no", "order_no"), ("orderNo", "order_no"), ("status", "status"), ("reason", "reason"),
        ("order_amount", "order_amount"), ("orderAmount", "order_amount"), ("paid_amount", "paid_amount"),
        ("paidAmount", "paid_amount"), ("refund_amount", "refund_amount"), ("refundAmount", "refund_amount"),
        ("fee", "fee"),
    ]

    /// The payment callback a successful Order Query answer
    /// (`{"code":880001,"message":"success","data":{…}}`) stands for: the
    /// order's type, merchant, number, status, reason and amounts (exact,
    /// written as numbers or strings; `type_id`, `merchant_id` and `status`
    /// as integers or strings of digits), taken from `data`. The answer has no
    /// refund numbers, pay time, balance or signature, so neither has the
    /// callback; ``rawBody`` is the whole answer.
    ///
    /// Reconciled events keep the answer as their raw body, and handlers
    /// receive this callback for them.
    ///
    /// - Throws: when the answer is not JSON, its `code` is not `880001`,
    ///   or its `data` lacks what a callback must have.
    public init(orderQueryAnswer body: some Collection<UInt8>) throws(CallbackDecodingError) {
        let bytes = Array(body)
        let answer = try CallbackFields.parse(bytes)
        guard answer["code"]?.numberLiteral == "880001" else {
            throw .wrongType(field: "code", expected: "880001 (success)")
        }
        guard let data = answer["data"]?.objectValue else { throw .missingField("data") }
        var pairs: [(String, JSONValue)] = []
        for (answerName, callbackName) in Self.orderQueryFields {
            guard var value = data[answerName], !pairs.contains(where: { $0.0 == callbackName }) else { continue }
            // The answer writes amounts as numbers or strings, and may do
            // the same with its integers: a string of digits is the integer.
            if ["type", "merchant_id", "status"].contains(callbackName), let text = value.stringValue,
                !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
            {
                value = .number(text)
            }
            pairs.append((callbackName, value))
        }
        let fields: JSONObject
        do { fields = try JSONObject(pairs) } catch { throw .conflictingSpellings(error.key, error.key) }
        try self.init(fields: fields, rawBody: bytes)
    }
}

extension PaymentCallback {
    /// The content hash of an event recorded from an Order Query answer: the
    /// lower-case hex MD5 of the answer's bytes as received (a callback's is
    /// that of its signed text; the two are never compared, as the store
    /// matches a callback and an answer by order and status).
    public static func contentHash(ofOrderQueryAnswer answer: [UInt8]) -> String {
        MD5.hex(MD5.digest(answer))
    }
}
