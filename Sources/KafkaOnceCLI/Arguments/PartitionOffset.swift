/// A partition and an offset in it, typed `PARTITION:OFFSET`, as in `--to-offsets 0:1200,1:980`.
struct PartitionOffset: ArgumentValue, Hashable {
    var partition: Int32
    var offset: Int64

    init(partition: Int32, offset: Int64) {
        self.partition = partition
        self.offset = offset
    }

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let partition = Int32(argument: String(parts[0])), partition >= 0,
            let offset = Int64(argument: String(parts[1])), offset >= 0
        else { return nil }
        self.init(partition: partition, offset: offset)
    }

    static var expectation: String { "PARTITION:OFFSET with non-negative integers, such as 0:1200" }
}
