import Foundation
import Glibc

/// Appends one JSON object per event to a file and fsyncs before returning,
/// so an event counted as handled is on disk.
///
/// A line is written whole or not at all: when a write stops half-way (the
/// disk is full, the file may not grow), the file is cut back to where it
/// ended, so the event's retry, or the next event, starts on a line of its
/// own. If even that fails, the file is reopened before the next write and
/// any partial last line it ends with is cut off then (the same happens to
/// a line torn by a crash of the whole machine).
package actor JSONLinesSink: EventSink {
    package nonisolated let name: String
    private let path: String
    private var fd: Int32 = -1

    package init(name: String = "jsonl", path: String) {
        self.name = name
        self.path = path
    }

    package func deliver(_ event: EventEnvelope) async throws {
        if fd < 0 { try open() }
        var line = event.json()
        line.append(UInt8(ascii: "\n"))
        let before = lseek(fd, 0, SEEK_END)
        guard before >= 0 else { throw failure("cannot seek in") }
        var written = 0
        while written < line.count {
            let n = line[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let error = failure("cannot write")
                if written > 0 && ftruncate(fd, before) != 0 { closeForRepair() }
                throw error
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw failure("cannot fsync") }
    }

    private func failure(_ what: String) -> SinkFailure {
        SinkFailure("\(what) \(path): \(String(cString: strerror(errno)))")
    }

    private func closeForRepair() {
        close(fd)
        fd = -1
    }

    private func open() throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        fd = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw failure("cannot open") }
        do { try cutPartialLastLine() } catch {
            closeForRepair()
            throw error
        }
    }

    /// Cuts the file back to just after its last newline, if it ends inside a line.
    private func cutPartialLastLine() throws {
        var end = lseek(fd, 0, SEEK_END)
        guard end > 0 else { return }
        var last: UInt8 = 0
        guard pread(fd, &last, 1, end - 1) == 1 else { throw failure("cannot read") }
        guard last != UInt8(ascii: "\n") else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while end > 0 {
            let start = max(0, end - off_t(chunk.count))
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(end - start), start) }
            guard count == Int(end - start) else { throw failure("cannot read") }
            if let newline = chunk[..<count].lastIndex(of: UInt8(ascii: "\n")) {
                end = start + off_t(newline) + 1
                break
            }
            end = start
        }
        guard ftruncate(fd, end) == 0 else { throw failure("cannot repair") }
    }

    deinit { if fd >= 0 { close(fd) } }
}
