import ChildProcesses
import Foundation
import Glibc
import Testing

/// What `ChildProcesses` exists for, each checked in the child itself
/// through /proc: what it must not inherit from this process (a blocked or
/// ignored signal, an open descriptor) and the process group it leads, which
/// is what lets a timed-out handler be killed with all its descendants.
@Suite(.serialized) struct SpawnPropertiesTests {
    /// Swift's runtime threads block signals, and this test blocks SIGUSR1
    /// and ignores SIGUSR2 on purpose: neither reaches the child, so a
    /// SIGTERM sent to a handler's command ends it.
    @Test func theChildStartsWithNoBlockedSignalAndDefaultHandlers() async throws {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previousMask)
        let previousHandler = signal(SIGUSR2, SIG_IGN)
        defer {
            signal(SIGUSR2, previousHandler)
            pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        }
        // Spawned from this thread, whose mask now blocks SIGUSR1.
        let child = try ChildProcess.spawn(["cat", "/proc/self/status"], stdout: scratch("status"))
        _ = child.waitBlocking()
        let status = try String(contentsOfFile: scratch("status"), encoding: .utf8)
        let masks = Dictionary(
            status.split(separator: "\n").compactMap { line -> (String, UInt64)? in
                let parts = line.split(separator: ":\t", maxSplits: 1)
                guard parts.count == 2, let bits = UInt64(parts[1], radix: 16) else { return nil }
                return (String(parts[0]), bits)
            }, uniquingKeysWith: { first, _ in first })
        #expect(masks["SigBlk"] == 0, "\(status)")
        // Signals 1-31; glibc keeps 32 and 33 for itself, set as it likes.
        #expect(masks["SigIgn"].map { $0 & 0x7FFF_FFFF } == 0, "\(status)")
    }

    /// Only standard input, output and error: no listening socket, database
    /// or log file of the server leaks into a handler's command.
    @Test func theChildInheritsNoDescriptorButTheStandardThree() async throws {
        // Open descriptors this process holds while it spawns (without O_CLOEXEC).
        let held = (0..<8).map { _ in open("/dev/null", O_RDONLY) }
        defer { held.forEach { close($0) } }
        #expect(held.allSatisfy { $0 > 2 })
        let result = try await ChildProcess.run(["ls", "/proc/self/fd"])
        let descriptors = Set(result.stdout.split(separator: "\n").compactMap { Int32($0) })
        // `ls` itself holds one more: the directory it reads.
        #expect(descriptors.isSuperset(of: [0, 1, 2]))
        #expect(descriptors.subtracting([0, 1, 2]).count <= 1, "\(descriptors.sorted())")
        #expect(descriptors.isDisjoint(with: held), "\(descriptors.sorted()) shares \(held)")
    }

    /// The child leads a process group of its own, so signalling the group
    /// reaches what it started and never this process.
    @Test func theChildLeadsItsOwnProcessGroup() async throws {
        let result = try await ChildProcess.run(["sh", "-c", "cut -d' ' -f5 /proc/$$/stat; echo $$"])
        let lines = result.stdout.split(separator: "\n").compactMap { pid_t($0) }
        #expect(lines.count == 2, "\(result.stdout)")
        #expect(lines.first == lines.last, "process group \(lines.first ?? -1) is not the child \(lines.last ?? -1)")
        #expect(lines.first != getpgrp())
    }

    private func scratch(_ name: String) -> String {
        NSTemporaryDirectory() + "spawn-\(name)-\(getpid())-\(pthread_self())"
    }
}
