import Foundation
import Testing
@testable import HTTPServer

/// Real clients: curl and Python's http.client.
@Suite struct ClientInteropTests {
    @Test func curlGetsHealthAndPostsABody() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration())
        defer { live.stop() }
        let get = try await ExternalProgram.run("curl", ["-sS", "-o", "-", "-w", "|%{http_code}|%{http_version}",
                                                   "\(live.url)/healthz"])
        #expect(get.stdout == "ok\n|200|1.1")
        let post = try await ExternalProgram.run("curl", ["-sS", "--data-binary", "@-", "-H", "Content-Type: text/plain",
                                                    "\(live.url)/echo"], input: String(repeating: "z", count: 5000))
        #expect(post.stdout == String(repeating: "z", count: 5000))
        // curl sends `Expect: 100-continue` for bodies over 1 MiB only; force it.
        let expect = try await ExternalProgram.run("curl", ["-sS", "-H", "Expect: 100-continue", "--data-binary", "abc",
                                                      "\(live.url)/echo"])
        #expect(expect.stdout == "abc")
        let chunked = try await ExternalProgram.run("curl", ["-sS", "-H", "Transfer-Encoding: chunked", "--data-binary",
                                                       "@-", "\(live.url)/echo"], input: "streamed")
        #expect(chunked.stdout == "streamed")
    }

    @Test func curlReusesOneConnectionForSeveralURLs() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration())
        defer { live.stop() }
        let result = try await ExternalProgram.run("curl", ["-sS", "-v", "\(live.url)/healthz", "\(live.url)/healthz",
                                                      "\(live.url)/nope"])
        #expect(result.stdout.hasPrefix("ok\nok\n{\"error\":\"not_found\""))
        #expect(result.stderr.contains("Re-using existing connection") || result.stderr.contains("Reusing existing"))
    }

    @Test func pythonHttpClientKeepsTheConnectionAlive() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration())
        defer { live.stop() }
        let script = """
            import http.client, sys
            c = http.client.HTTPConnection("127.0.0.1", \(live.port), timeout=5)
            out = []
            for i in range(3):
                c.request("POST", "/echo", body=("n%d" % i).encode(), headers={"Content-Type": "text/plain"})
                r = c.getresponse()
                out.append("%d:%s" % (r.status, r.read().decode()))
            c.request("GET", "/healthz")
            r = c.getresponse()
            out.append("%d:%s:%s" % (r.status, r.read().decode().strip(), r.getheader("Content-Length")))
            print(",".join(out))
            peers = set()
            for i in range(3):
                c.request("GET", "/peer")
                peers.add(c.getresponse().read().decode())
            print("one-connection" if len(peers) == 1 else "reconnected %s" % peers)
            """
        let result = try await ExternalProgram.run("python3", ["-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "200:n0,200:n1,200:n2,200:ok:3\none-connection\n")
    }
}
