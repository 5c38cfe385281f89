// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "KafkaOnce",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KafkaOnce", targets: ["KafkaOnce"]),
        .library(name: "KafkaOnceSQLite", targets: ["KafkaOnceSQLite"]),
        .library(name: "KafkaOncePostgres", targets: ["KafkaOncePostgres"]),
        .library(name: "KafkaOnceTesting", targets: ["KafkaOnceTesting"]),
        .executable(name: "kafka-once", targets: ["KafkaOnceCLI"]),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(
            name: "CRDKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"]), .brew(["librdkafka"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),

        // The C shim: the few librdkafka entry points Swift cannot call directly.
        .target(name: "CKafkaOnceShim", dependencies: ["CRDKafka"]),

        // Libraries.
        .target(name: "KafkaOnce", dependencies: ["CRDKafka", "CKafkaOnceShim"]),
        .target(name: "KafkaOnceSQLite", dependencies: ["KafkaOnce", "CSQLite"]),
        .target(name: "KafkaOncePostgres", dependencies: ["KafkaOnce", "CLibPQ"]),
        .target(name: "KafkaOnceTesting", dependencies: ["KafkaOnce", "CRDKafka", "CKafkaOnceShim"]),

        // The command-line tool.
        .executableTarget(
            name: "KafkaOnceCLI",
            dependencies: ["KafkaOnce", "KafkaOnceSQLite", "KafkaOncePostgres", "KafkaOnceTesting"]
        ),

        // Tests.
        .testTarget(name: "KafkaOnceTests", dependencies: ["KafkaOnce", "KafkaOnceTesting"]),
        .testTarget(name: "KafkaOnceSQLiteTests", dependencies: ["KafkaOnceSQLite", "KafkaOnceTesting"]),
        .testTarget(name: "KafkaOncePostgresTests", dependencies: ["KafkaOncePostgres", "KafkaOnceTesting"]),
        .testTarget(
            name: "KafkaOnceCLITests",
            dependencies: ["KafkaOnceCLI", "KafkaOnce", "KafkaOnceSQLite", "KafkaOnceTesting"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
