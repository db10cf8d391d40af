import Foundation
import Glibc

/// Appends one JSON object per event to a file and fsyncs before returning,
/// so an event counted as handled is on disk.
public actor JSONLinesSink: EventSink {
    public nonisolated let name: String
    private let path: String
    private var fd: Int32 = -1

    public init(name: String = "jsonl", path: String) {
        self.name = name
        self.path = path
    }

    public func deliver(_ event: EventEnvelope) async throws {
        if fd < 0 { try open() }
        var line = event.json()
        line.append(UInt8(ascii: "\n"))
        var written = 0
        while written < line.count {
            let n = line[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw HandlerFailure("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw HandlerFailure("cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }

    private func open() throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw HandlerFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { close(fd) } }
}
