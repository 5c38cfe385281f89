/// The exit codes of `kafka-once`.
enum ExitCode {
    /// The command did what it was asked.
    static let success: Int32 = 0
    /// The command failed at run time: a store, a broker or a file it could not use.
    static let failure: Int32 = 1
    /// The command line was wrong: an unknown option, a missing or malformed value.
    static let usage: Int32 = 2
}
