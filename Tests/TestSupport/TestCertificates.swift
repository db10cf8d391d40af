import ChildProcesses
import Foundation
import HTTPServer

/// A throwaway CA and a server certificate for localhost/127.0.0.1/::1,
/// made by the openssl command line at test time.
package struct TestCertificates: Sendable {
    package let directory: String
    package var caPath: String { directory + "/ca.pem" }
    package var certificatePath: String { directory + "/server.pem" }
    package var keyPath: String { directory + "/server.key" }

    private init(directory: String) {
        self.directory = directory
    }

    package static func make() async throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
            .write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=trustpay-webhooks test CA"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "1", "-extfile", "san.ext"],
        ]
        for step in steps {
            let result = try await ChildProcess.run(["openssl"] + step, directory: directory)
            guard result.status == 0 else { throw TLSError.setup("openssl \(step[0]): \(result.stderr)") }
        }
        return TestCertificates(directory: directory)
    }

    package func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// The server side: this certificate and key for a Server listener.
    package var tls: TLSConfiguration { TLSConfiguration(certificateChainPath: certificatePath, privateKeyPath: keyPath) }
}
