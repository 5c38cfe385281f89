#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(await CommandLineTool.main(Array(CommandLine.arguments.dropFirst())))
