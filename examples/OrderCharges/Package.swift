// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "OrderCharges",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so that the products below resolve whatever the checkout's directory is called.
        .package(name: "KafkaOnce", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "OrderCharges",
            dependencies: [
                .product(name: "KafkaOnce", package: "KafkaOnce"),
                .product(name: "KafkaOnceSQLite", package: "KafkaOnce"),
                .product(name: "KafkaOnceTesting", package: "KafkaOnce"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
