#!/usr/bin/env bash
# Runs the test suite and every example against real servers: a Kafka broker and a PostgreSQL
# database, by default the ones compose.yaml starts.
#
#   docker compose up -d --wait
#   scripts/integration.sh
#
# KAFKA_BOOTSTRAP_SERVERS names the brokers (localhost:9092 by default) and KAFKA_ONCE_POSTGRES_URL
# the database (postgres://postgres@localhost:5432/kafka_once by default). Both must answer before
# anything is built; when one does not, one line names its variable and how to start it.
#
# Then, with both variables exported:
# 1. `swift test`: the whole suite, so the real-broker integration tests and the PostgreSQL store's
#    tests run instead of being skipped;
# 2. each package under examples/: built, then run in a temporary working directory, bounded to
#    EXAMPLE_LIMIT seconds (a package with an executable target with `swift run`, one with tests
#    only with `swift test`). Each example ends by itself once its work is checked.
# A failed step does not stop the next ones. The end of the output lists each step with its result
# and time; the exit status is 0 when every step passed, 1 otherwise.
#
# KAFKA_ONCE_INTEGRATION_SCRATCH=DIR builds the package in DIR/KafkaOnce and each example in
# DIR/NAME, instead of each package's own .build directory.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/dependencies.sh
source "$root/scripts/dependencies.sh"

readonly DEFAULT_BOOTSTRAP_SERVERS=localhost:9092
readonly DEFAULT_POSTGRES_URL=postgres://postgres@localhost:5432/kafka_once
# The examples stop themselves well before this: within 60 s per consumer run (OrderCharges,
# Replay) or 90 s per wave of orders (ScaledOut). The bound is for a run that hangs.
readonly EXAMPLE_LIMIT=600

log() {
    echo "integration.sh: $*" >&2
}

if (($# > 0)); then
    log "usage: scripts/integration.sh (no arguments; set KAFKA_BOOTSTRAP_SERVERS and KAFKA_ONCE_POSTGRES_URL)"
    exit 2
fi

export KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS:-$DEFAULT_BOOTSTRAP_SERVERS}
export KAFKA_ONCE_POSTGRES_URL=${KAFKA_ONCE_POSTGRES_URL:-$DEFAULT_POSTGRES_URL}
scratch=${KAFKA_ONCE_INTEGRATION_SCRATCH:-}

# MARK: - Are the servers there?

# Whether something accepts TCP connections at HOST PORT, within 5 seconds.
answers_tcp() {
    local host=${1#[} port=$2
    host=${host%]}
    # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
    "$timeout_command" 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
}

# Whether one of the brokers in KAFKA_BOOTSTRAP_SERVERS (HOST:PORT,...) accepts connections.
kafka_answers() {
    local entry host port
    local -a entries
    IFS=, read -r -a entries <<<"$KAFKA_BOOTSTRAP_SERVERS"
    for entry in "${entries[@]}"; do
        entry=${entry// /}
        entry=${entry#*://}
        [[ -n "$entry" ]] || continue
        host=${entry%:*}
        port=${entry##*:}
        [[ "$host" != "$entry" ]] || port=9092
        answers_tcp "$host" "$port" && return 0
    done
    return 1
}

# The URL without its password, if it has one, for messages.
postgres_url_for_display() {
    sed -E 's#^([a-z]+://[^:/@]*):[^@/]*@#\1:***@#' <<<"$KAFKA_ONCE_POSTGRES_URL"
}

# Why the database in KAFKA_ONCE_POSTGRES_URL does not answer; nothing when it does. With psql, a
# query checks the login and the database too; without it, only that the port accepts connections.
postgres_problem() {
    if command -v psql >/dev/null 2>&1; then
        local output
        output=$(PGCONNECT_TIMEOUT=5 "$timeout_command" 10 \
            psql "$KAFKA_ONCE_POSTGRES_URL" -X -q -tA -c 'SELECT 1' 2>&1) && return 0
        output=$(head -n 1 <<<"$output" | tr -s ' ')
        echo "${output##*failed: }"
        return 0
    fi

    # postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMETERS]
    local authority=${KAFKA_ONCE_POSTGRES_URL#*://}
    authority=${authority%%[/?]*}
    authority=${authority##*@}
    local host=${authority%:*} port=${authority##*:}
    [[ "$host" != "$authority" ]] || port=5432
    answers_tcp "${host:-localhost}" "$port" || echo "nothing accepts connections at ${host:-localhost}:$port"
}

# MARK: - Steps

results=()
failures=0

# Records a step's outcome for the summary: STATUS (0 is passed) NAME DETAIL STARTED.
record() {
    local status=$1 name=$2 detail=$3 started=$4
    local verdict=passed
    if ((status != 0)); then
        verdict=FAILED
        failures=$((failures + 1))
    fi
    results+=("$(printf '  %-6s  %-22s  %s (%d s)' "$verdict" "$name" "$detail" $((SECONDS - started)))")
}

# `swift test` output without terminal colours.
plain() {
    sed -E $'s/\x1b\\[[0-9;]*m//g' -- "$1"
}

# `121 tests in 33 suites passed`, from Swift Testing's last line, and the suites it skipped, with why.
test_counts() {
    local counts skipped
    counts=$(plain "$1" | sed -nE 's/.*Test run with ([0-9]+ tests? in [0-9]+ suites? [a-z]+).*/\1/p' | tail -n 1)
    skipped=$(plain "$1" | sed -nE 's/.*Suite ([A-Za-z0-9_]+) skipped: (.*)/\1 (\2)/p' | paste -sd ';' -)
    echo "${counts:-no summary from Swift Testing: a crash?}${skipped:+; skipped: $skipped}"
}

# The last line an example wrote: its verdict, such as "every order was charged exactly once", or
# the error that stopped it.
last_line() {
    plain "$1" | grep -v '^[[:space:]]*$' | tail -n 1
}

scratch_options() {
    [[ -z "$scratch" ]] || echo "--scratch-path=$scratch/$1"
}

run_package_tests() {
    local started=$SECONDS status=0
    log "swift test, against Kafka at $KAFKA_BOOTSTRAP_SERVERS and PostgreSQL at $(postgres_url_for_display)"
    # shellcheck disable=SC2046 # no option or one, without spaces
    swift test --package-path "$root" $(scratch_options KafkaOnce) 2>&1 | tee "$work/tests.log" ||
        status=$?
    local detail
    detail=$(test_counts "$work/tests.log")
    ((status == 0)) || detail="exited with $status ($detail); see its output above"
    record "$status" "swift test" "$detail" "$started"
}

run_example() {
    local dir=$1
    local name
    name=$(basename -- "$dir")
    local started=$SECONDS status=0 kind=run
    grep -q executableTarget "$dir/Package.swift" || kind="test"
    # A package whose code never reads KAFKA_BOOTSTRAP_SERVERS runs on the embedded broker.
    local broker=""
    grep -rqs KAFKA_BOOTSTRAP_SERVERS "$dir/Sources" "$dir/Tests" || broker="embedded broker only; "

    log "examples/$name: building"
    local -a build=(swift build --package-path "$dir")
    [[ "$kind" == run ]] || build+=(--build-tests)
    # shellcheck disable=SC2046 # no option or one, without spaces
    if ! "${build[@]}" $(scratch_options "$name"); then
        record 1 "examples/$name" "the build failed; see its output above" "$started"
        return
    fi

    # Its own working directory: OrderCharges, on a real broker, keeps its store in the current one.
    local directory="$work/$name"
    mkdir -p -- "$directory"
    log "examples/$name: swift $kind (at most $EXAMPLE_LIMIT s)"
    # shellcheck disable=SC2046 # no option or one, without spaces
    (cd -- "$directory" &&
        "$timeout_command" --foreground --kill-after=30 "$EXAMPLE_LIMIT" ${line_buffered[@]+"${line_buffered[@]}"} \
            swift "$kind" --skip-build --package-path "$dir" $(scratch_options "$name")) 2>&1 |
        tee "$work/$name.log" || status=$?

    local detail
    if ((status == 124 || status == 137)); then
        detail="did not finish within $EXAMPLE_LIMIT s; stopped"
    elif ((status != 0)); then
        detail="exited with $status: $(last_line "$work/$name.log")"
    elif [[ "$kind" == test ]]; then
        detail="$broker$(test_counts "$work/$name.log")"
    else
        detail="$broker$(last_line "$work/$name.log")"
    fi
    record "$status" "examples/$name" "$detail" "$started"
}

# MARK: - Run

timeout_command=$(command -v timeout || command -v gtimeout || true)
if [[ -z "$timeout_command" ]]; then
    log "needs GNU timeout to bound each example; install coreutils (macOS: brew install coreutils)"
    exit 1
fi

# Through a pipe, an example's standard output would show only when it ends; stdbuf (GNU, Linux)
# makes it line-buffered.
line_buffered=()
if command -v stdbuf >/dev/null 2>&1; then
    line_buffered=(stdbuf -oL)
fi

unreachable=0
if ! kafka_answers; then
    log "no Kafka broker answers at KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS;" \
        "start compose.yaml's with 'docker compose up -d --wait', or point the variable at a running broker"
    unreachable=1
fi
problem=$(postgres_problem)
if [[ -n "$problem" ]]; then
    log "cannot connect to PostgreSQL at KAFKA_ONCE_POSTGRES_URL=$(postgres_url_for_display) ($problem);" \
        "start compose.yaml's with 'docker compose up -d --wait', or point the variable at a running database"
    unreachable=1
fi
((unreachable == 0)) || exit 1

kafka_once_ensure_dependencies build

work=$(mktemp -d "${TMPDIR:-/tmp}/kafka-once-integration.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run_package_tests
for package in "$root"/examples/*/Package.swift; do
    run_example "$(dirname -- "$package")"
done

echo
echo "integration.sh: against Kafka at $KAFKA_BOOTSTRAP_SERVERS and PostgreSQL at $(postgres_url_for_display)"
printf '%s\n' "${results[@]}"
if ((failures > 0)); then
    echo "integration.sh: $failures of ${#results[@]} steps failed"
    exit 1
fi
echo "integration.sh: all ${#results[@]} steps passed"
