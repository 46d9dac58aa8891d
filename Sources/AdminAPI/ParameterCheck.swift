import Foundation
import Hummingbird
import OpenAPIRuntime

/// Integer parameters (path, query, header) checked against the document before the generated
/// code decodes them: the generator neither checks `minimum`/`maximum` nor says which parameter
/// or value it could not decode. A bad one is a 400 naming the parameter and the value.
struct ParameterCheck: ServerMiddleware {
    let document: OpenAPIDocument

    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?))
        async throws -> (HTTPResponse, HTTPBody?)
    {
        let query = URLComponents(string: request.path ?? "")?.queryItems ?? []
        for parameter in document.operation(id: operationID)?.parameters ?? [] where parameter.type == "integer" {
            let raw: String?
            switch parameter.location {
            case "path": raw = metadata.pathParameters[parameter.name].map(String.init)
            case "query": raw = query.last { $0.name == parameter.name }?.value
            case "header": raw = request.headerFields.first { $0.name.canonicalName == parameter.name.lowercased() }?.value
            default: raw = nil
            }
            guard let raw else { continue }
            let range = (parameter.minimum ?? Int64.min)...(parameter.maximum ?? Int64.max)
            guard let value = Int64(raw), range.contains(value) else {
                let what = parameter.location == "header" ? "header '\(parameter.name)'" : "\(parameter.location) parameter '\(parameter.name)'"
                throw APIError(.invalidRequest, what, "'\(raw)' is not a whole number in \(describe(range))")
            }
        }
        return try await next(request, body, metadata)
    }

    private func describe(_ range: ClosedRange<Int64>) -> String {
        range.upperBound == .max ? "\(range.lowerBound)..." : "\(range.lowerBound)...\(range.upperBound)"
    }
}
