// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ChaosTested",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "OrderBilling", targets: ["OrderBilling"])
    ],
    dependencies: [
        // Named, so that the products below resolve whatever the checkout's directory is called.
        .package(name: "KafkaOnce", path: "../..")
    ],
    targets: [
        .target(
            name: "OrderBilling",
            dependencies: [
                .product(name: "KafkaOnce", package: "KafkaOnce"),
                .product(name: "KafkaOnceSQLite", package: "KafkaOnce"),
            ]
        ),
        .testTarget(
            name: "OrderBillingTests",
            dependencies: [
                "OrderBilling",
                .product(name: "KafkaOnceSQLite", package: "KafkaOnce"),
                .product(name: "KafkaOnceTesting", package: "KafkaOnce"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
