import Foundation
import Testing

/// `kafka-once mock-cluster`: announces its address first, serves, and stops cleanly on a signal.
@Suite struct MockClusterCommandTests {
    @Test(arguments: [SIGTERM, SIGINT])
    func printsBootstrapServersFirstAndExitsZeroOnSignal(signal: Int32) async throws {
        let tool = try ToolProcess(["mock-cluster", "--brokers", "2", "--topic", "orders:3"])

        let firstLine = try await tool.firstLineOfOutput()
        let servers = try #require(firstLine.split(separator: "=", maxSplits: 1).last.map(String.init))
        let accepts = servers.split(separator: ",").map { acceptsConnections(String($0)) }
        tool.send(signal)
        let result = try await tool.finish()

        #expect(firstLine.hasPrefix("bootstrap.servers=127.0.0.1:"))
        #expect(accepts == [true, true])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput == firstLine + "\n")
    }

    @Test func jsonAnnouncementIsOneObjectOnTheFirstLine() async throws {
        let tool = try ToolProcess(["mock-cluster", "--topic", "orders:2", "--json"])

        let firstLine = try await tool.firstLineOfOutput()
        tool.send(SIGTERM)
        let result = try await tool.finish()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(firstLine.utf8)) as? [String: Any])

        #expect(result.exitCode == 0)
        #expect((object["bootstrapServers"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(object["brokers"] as? Int == 1)
        #expect((object["topics"] as? [[String: Any]])?.first?["partitions"] as? Int == 2)
    }

    /// Whether a TCP connection to `HOST:PORT` succeeds.
    private func acceptsConnections(_ address: String) -> Bool {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return false }

        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }

        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        inet_pton(AF_INET, String(parts[0]), &socketAddress.sin_addr)
        let status = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return status == 0
    }
}
