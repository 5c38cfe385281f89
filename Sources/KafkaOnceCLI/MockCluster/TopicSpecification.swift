/// A topic to create, typed `NAME:PARTITIONS`, or `NAME` for one partition.
struct TopicSpecification: ArgumentValue, Hashable {
    var name: String
    var partitions: Int

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), Self.isValidName(parts[0]) else { return nil }
        name = String(parts[0])

        if parts.count == 1 {
            partitions = 1
        } else {
            guard let count = Int(argument: String(parts[1])), count >= 1 else { return nil }
            partitions = count
        }
    }

    static var expectation: String {
        "NAME:PARTITIONS, such as orders:4, with a name of letters, digits, '.', '_' and '-'"
    }

    /// Kafka's rule: 1 to 249 characters among letters, digits, `.`, `_` and `-`.
    private static func isValidName(_ name: Substring) -> Bool {
        (1...249).contains(name.count)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
