import HTTPServer

/// Checks a request's `Content-Type`: `application/json`, in any case, with
/// no parameter but an optional `charset=utf-8`.
enum MediaType {
    static func isJSON(_ headers: HTTPHeaders) -> Bool {
        guard let value = headers["Content-Type"] else { return false }
        let parts = value.split(separator: ";").map { $0.trimmingOptionalWhitespace().lowercased() }
        guard parts.first == "application/json" else { return false }
        return parts.dropFirst().allSatisfy { $0 == "charset=utf-8" || $0 == "charset=\"utf-8\"" }
    }
}
