import Foundation

/// A bar chart of each mode's throughput relative to `raw`, as SVG text a browser displays.
///
/// One horizontal bar per mode, a solid line at 1.0 (the raw loop) and a dashed mark at each
/// mode's target from the design: 0.90 for `memory`, 0.40 for `sqlite`, and 100,000 messages/s
/// for `postgres`, drawn as the ratio that throughput is to `raw`.
struct BenchChart {
    var report: BenchReport

    private let width = 720
    private let labelWidth = 120
    private let barAreaWidth = 420
    private let rowHeight = 34
    private let top = 56

    /// The chart, or `nil` when `raw` was not measured and there are no ratios to draw.
    func svg() -> String? {
        let rows = report.rows.compactMap { row in row.ratioToRaw.map { (row, $0) } }
        guard !rows.isEmpty else { return nil }

        let largest = max(1.0, rows.map(\.1).max() ?? 1.0)
        let scale = Double(barAreaWidth) / (largest * 1.05)
        let height = top + rows.count * rowHeight + 40
        let rawMessagesPerSecond = report.rows.first { $0.mode == .raw }?.messagesPerSecond

        var lines = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
                + "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"13\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            text(
                x: 12,
                y: 22,
                "Throughput relative to the raw consume loop (higher is better)",
                extra: "font-weight=\"bold\""
            ),
            text(x: 12, y: 40, subtitle(), extra: "fill=\"#555\" font-size=\"11\""),
        ]
        for (index, (row, ratio)) in rows.enumerated() {
            lines += bar(row, ratio: ratio, y: top + index * rowHeight, scale: scale)
            if let target = target(of: row.mode, rawMessagesPerSecond: rawMessagesPerSecond) {
                lines.append(targetMark(target, y: top + index * rowHeight, scale: scale))
            }
        }

        let rawX = labelWidth + Int(scale)
        let bottom = top + rows.count * rowHeight
        lines.append(
            "<line x1=\"\(rawX)\" y1=\"\(top - 6)\" x2=\"\(rawX)\" y2=\"\(bottom)\" "
                + "stroke=\"#333\" stroke-width=\"1\"/>"
        )
        lines.append(text(x: rawX - 14, y: bottom + 16, "1.0 = raw", extra: "fill=\"#333\" font-size=\"11\""))
        lines.append(
            text(
                x: labelWidth + 110,
                y: bottom + 16,
                "dashed: target from the design",
                extra: "fill=\"#b00\" font-size=\"11\""
            )
        )
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    private func subtitle() -> String {
        "\(BenchReport.grouped(report.plan.messages)) messages of \(report.plan.payloadBytes) bytes, "
            + "\(report.plan.partitions) partitions, median of \(report.plan.repetitions) repetition(s)"
    }

    private func bar(_ row: BenchReport.Row, ratio: Double, y: Int, scale: Double) -> [String] {
        let barWidth = max(1, Int((ratio * scale).rounded()))
        let color = row.mode == .raw ? "#888" : "#3b6ea8"
        let value =
            "\(BenchReport.fixed(ratio, places: 2))×  "
            + "\(BenchReport.grouped(Int(row.messagesPerSecond.rounded()))) msg/s"
        return [
            text(x: 12, y: y + 19, row.mode.rawValue),
            "<rect x=\"\(labelWidth)\" y=\"\(y + 5)\" width=\"\(barWidth)\" height=\"20\" fill=\"\(color)\"/>",
            text(x: labelWidth + barWidth + 8, y: y + 19, value, extra: "fill=\"#222\""),
        ]
    }

    private func targetMark(_ ratio: Double, y: Int, scale: Double) -> String {
        let x = labelWidth + Int((ratio * scale).rounded())
        return "<line x1=\"\(x)\" y1=\"\(y + 1)\" x2=\"\(x)\" y2=\"\(y + 29)\" stroke=\"#b00\" "
            + "stroke-width=\"2\" stroke-dasharray=\"4,3\"/>"
    }

    /// The design's target for `mode` as a ratio to raw, if it has one.
    private func target(of mode: BenchMode, rawMessagesPerSecond: Double?) -> Double? {
        switch mode {
        case .memory: 0.90
        case .sqlite: 0.40
        case .postgres: rawMessagesPerSecond.map { 100_000 / $0 }
        case .raw, .none, .sqlitePlain: nil
        }
    }

    private func text(x: Int, y: Int, _ content: String, extra: String = "") -> String {
        let escaped = content.replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
        return "<text x=\"\(x)\" y=\"\(y)\"\(extra.isEmpty ? "" : " " + extra)>\(escaped)</text>"
    }
}
