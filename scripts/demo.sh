#!/usr/bin/env bash
# Runs `kafka-once demo`, built in release mode, on the embedded broker.
#
#   scripts/demo.sh [demo options]     for example: scripts/demo.sh --messages 50000 --json
#
# Checks the system packages first (see scripts/dependencies.sh). Build progress goes to standard
# error, so with --json standard output holds only the demo's JSON object.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/dependencies.sh
source "$root/scripts/dependencies.sh"
kafka_once_ensure_dependencies build

cd -- "$root"
exec swift run -c release kafka-once demo "$@"
