/// The candidate one or two edits away from `text`, for "did you mean" hints; the closest wins.
func closestMatch(to text: String, among candidates: [String]) -> String? {
    candidates
        .map { (candidate: $0, distance: editDistance(text, $0)) }
        .filter { $0.distance <= 2 && $0.distance < $0.candidate.count }
        .min { $0.distance < $1.distance }?
        .candidate
}

/// The Levenshtein distance: how many insertions, deletions and substitutions turn `a` into `b`.
private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    guard !a.isEmpty else { return b.count }

    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        previous = current
    }
    return previous[b.count]
}
