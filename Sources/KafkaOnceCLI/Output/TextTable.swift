/// Rows of text in aligned columns, for human output.
///
/// ```swift
/// var table = TextTable(columns: [.init("scenario"), .init("effects", alignment: .right)])
/// table.append(["commit rejected", "10000"])
/// Console.output(table.rendered())
/// ```
///
/// Columns are separated by two spaces; the last column is not padded, so lines carry no
/// trailing spaces.
struct TextTable: Sendable {
    /// How a column lines up its cells.
    enum Alignment: Sendable {
        case left
        /// For numbers.
        case right
    }

    /// One column: its heading (empty for none) and alignment.
    struct Column: Sendable {
        var heading: String
        var alignment: Alignment

        init(_ heading: String = "", alignment: Alignment = .left) {
            self.heading = heading
            self.alignment = alignment
        }
    }

    var columns: [Column]
    private(set) var rows: [[String]] = []

    init(columns: [Column]) {
        self.columns = columns
    }

    /// Label–value lines without headings, such as `completed  3`.
    static func keyValue(_ pairs: [(String, String)]) -> TextTable {
        var table = TextTable(columns: [Column(), Column()])
        for (key, value) in pairs {
            table.append([key, value])
        }
        return table
    }

    /// Adds a row; missing cells are empty and extra cells are dropped.
    mutating func append(_ cells: [String]) {
        rows.append(columns.indices.map { $0 < cells.count ? cells[$0] : "" })
    }

    /// The table as lines joined by newlines, with a heading line when any column has a heading.
    func rendered() -> String {
        let headings = columns.map(\.heading)
        let lines = headings.contains(where: { !$0.isEmpty }) ? [headings] + rows : rows
        let widths = columns.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }

        return lines.map { cells in
            var line = ""
            for (index, cell) in cells.enumerated() {
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                let isLast = index == cells.count - 1
                switch columns[index].alignment {
                case .left: line += isLast ? cell : cell + padding
                case .right: line += padding + cell
                }
                if !isLast { line += "  " }
            }
            return line
        }
        .joined(separator: "\n")
    }
}
