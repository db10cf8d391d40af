import HTTPServer
import TrustPay

extension WebhookPipeline {
    /// Media type, then the JSON object: the steps every callback route
    /// shares. The body's size is the HTTP server's to bound
    /// (`HTTPServerConfiguration.limits.maxBodyBytes`): a larger one never
    /// reaches a route.
    func parseJSONObject(_ request: HTTPRequest) throws(Rejection) -> JSONObject {
        guard MediaType.isJSON(request.headers) else { throw .unsupportedMediaType }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: request.body)
        } catch {
            throw .invalidJSON("the body is not valid JSON (\(error))")
        }
        guard case .object(let fields) = value else { throw .invalidJSON("the body is JSON but not an object") }
        return fields
    }
}
