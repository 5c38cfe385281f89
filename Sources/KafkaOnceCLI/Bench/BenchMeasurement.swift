/// What a worker measured, written by the child as one JSON line on standard output.
struct BenchMeasurement: Codable, Sendable {
    var mode: BenchMode
    /// Messages consumed (raw) or processed and recorded (runtime modes) in the timed window.
    var consumed: Int
    /// From the start of consuming until the last message was consumed or recorded.
    var seconds: Double
    /// Processor time (user and system, every thread) the child spent in the same window.
    var processorSeconds: Double
    /// The child's peak resident memory.
    var peakResidentBytes: Int
}
