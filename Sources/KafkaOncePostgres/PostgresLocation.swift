import CLibPQ
import Foundation
import KafkaOnce

/// Where the store connects: the URL or libpq parameters as given, and a form safe to show.
struct PostgresLocation: Sendable {
    /// The connection string handed to libpq, password included.
    let connectionString: String
    /// The connection string without its password, for messages and logs.
    let redacted: String

    /// Checks that libpq can parse `connectionString`.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` when it is empty or malformed.
    init(_ connectionString: String) throws(DeduplicationStoreError) {
        let redacted = Self.redact(connectionString)
        guard !connectionString.allSatisfy(\.isWhitespace) else {
            throw DeduplicationStoreError(
                .invalidArgument,
                "the PostgreSQL store URL is empty; pass one such as postgres://user@host:5432/database"
            )
        }
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &message) else {
            let reason = message.map { String(cString: $0).trimmedLine } ?? "libpq cannot parse it"
            PQfreemem(message)
            throw DeduplicationStoreError(
                .invalidArgument,
                "the PostgreSQL store URL '\(redacted)' is malformed: \(reason); use the form "
                    + "postgres://user@host:5432/database or libpq's key=value parameters"
            )
        }
        PQconninfoFree(options)
        self.connectionString = connectionString
        self.redacted = redacted
    }

    /// `text` without the password of a `postgres://user:password@host` URL, of a `password=`
    /// query parameter, or of a `password=` key/value parameter.
    static func redact(_ text: String) -> String {
        if let scheme = text.range(of: "://") {
            return redactURL(text, authorityStart: scheme.upperBound)
        }
        return redactKeyValues(text)
    }

    private static func redactURL(_ text: String, authorityStart: String.Index) -> String {
        var result = text
        let rest = text[authorityStart...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = text[authorityStart..<authorityEnd]
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            result.replaceSubrange(colon..<at, with: "")
        }
        guard let query = result.firstIndex(of: "?") else { return result }
        let parameters = result[result.index(after: query)...]
            .split(separator: "&", omittingEmptySubsequences: false)
        let kept = parameters.filter { !$0.lowercased().hasPrefix("password=") }
        let head = String(result[..<query])
        return kept.isEmpty ? head : head + "?" + kept.joined(separator: "&")
    }

    private static func redactKeyValues(_ text: String) -> String {
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let remainder = text[index...]
            let startsWord = index == text.startIndex || text[text.index(before: index)].isWhitespace
            guard startsWord, remainder.lowercased().hasPrefix("password"),
                let equals = remainder.dropFirst("password".count).firstIndex(where: { !$0.isWhitespace }),
                remainder[equals] == "="
            else {
                result.append(text[index])
                index = text.index(after: index)
                continue
            }
            index = skipValue(in: text, from: text.index(after: equals))
        }
        return result.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// The index after a key/value parameter's value: a quoted string with backslash escapes, or a word.
    private static func skipValue(in text: String, from start: String.Index) -> String.Index {
        var index = text[start...].firstIndex { !$0.isWhitespace } ?? text.endIndex
        guard index < text.endIndex else { return index }
        if text[index] != "'" {
            return text[index...].firstIndex(where: \.isWhitespace) ?? text.endIndex
        }
        index = text.index(after: index)
        while index < text.endIndex {
            if text[index] == "\\" {
                index = text.index(after: index)
                if index < text.endIndex { index = text.index(after: index) }
                continue
            }
            if text[index] == "'" { return text.index(after: index) }
            index = text.index(after: index)
        }
        return index
    }
}

extension String {
    /// The text on one line: its lines trimmed and joined, with a period added where a line ended
    /// without punctuation, as libpq's multi-line messages do.
    var trimmedLine: String {
        let lines = split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var result = ""
        for line in lines {
            if let last = result.last {
                result += ".,:;?!".contains(last) ? " " : ". "
            }
            result += line
        }
        return result
    }
}
