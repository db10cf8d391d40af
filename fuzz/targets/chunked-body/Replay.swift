#if !FUZZING
import FuzzReplay

/// Without libFuzzer: runs the check over the files given (a corpus, crash inputs).
@main
enum Replay {
    static func main() { FuzzReplay.run(ChunkedBodyCheck.check) }
}
#endif
