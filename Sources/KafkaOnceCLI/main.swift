#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A command run by `kafka-once run` may exit without reading its input; writing the payload to it
// must then fail as an error, not end the tool with SIGPIPE.
signal(SIGPIPE, SIG_IGN)

exit(await CommandLineTool.main(Array(CommandLine.arguments.dropFirst())))
