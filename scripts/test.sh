#!/usr/bin/env bash
# Runs the test suite, with a throwaway PostgreSQL server for the PostgreSQL store's tests.
#
#   scripts/test.sh [swift test options]     for example: scripts/test.sh --filter KafkaOnceCLITests
#
# Checks the system packages first, including the PostgreSQL server (see scripts/dependencies.sh).
# When KAFKA_ONCE_POSTGRES_URL is set, the tests use that database. Otherwise, when the server is
# installed, one is started with scripts/postgres.sh in a temporary directory on a free loopback
# port, its URL is exported as KAFKA_ONCE_POSTGRES_URL, and it is stopped and deleted on exit.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/dependencies.sh
source "$root/scripts/dependencies.sh"
kafka_once_ensure_dependencies test

log() {
    echo "test.sh: $*" >&2
}

# Whether initdb and pg_ctl are installed, where scripts/postgres.sh looks for them.
has_postgres_server() {
    local bindir
    bindir=$(pg_config --bindir 2>/dev/null || true)
    [[ -n "$bindir" && -x "$bindir/initdb" && -x "$bindir/pg_ctl" ]] && return 0
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

# A loopback TCP port nothing listens on right now.
free_port() {
    local port attempt
    for attempt in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    log "found no free port between 20000 and 60000"
    return 1
}

postgres_dir=""

stop_postgres() {
    [[ -n "$postgres_dir" ]] || return 0
    "$root/scripts/postgres.sh" stop "$postgres_dir" || log "could not stop the server in $postgres_dir"
    rm -rf -- "$postgres_dir"
}

# Starts a server, trying another port when the chosen one was taken in the meantime.
start_postgres() {
    postgres_dir=$(mktemp -d "${TMPDIR:-/tmp}/kafka-once-postgres.XXXXXX")
    trap stop_postgres EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local attempt port url
    for attempt in 1 2 3; do
        port=$(free_port)
        if url=$("$root/scripts/postgres.sh" start "$postgres_dir" "$port"); then
            export KAFKA_ONCE_POSTGRES_URL=$url
            log "PostgreSQL for the tests at $url (data in $postgres_dir)"
            return 0
        fi
    done
    log "could not start PostgreSQL; see $postgres_dir/server.log, or set KAFKA_ONCE_POSTGRES_URL"
    return 1
}

if [[ -n "${KAFKA_ONCE_POSTGRES_URL:-}" ]]; then
    log "using the PostgreSQL database in KAFKA_ONCE_POSTGRES_URL"
elif [[ -x "$root/scripts/postgres.sh" ]] && has_postgres_server; then
    start_postgres
else
    log "no PostgreSQL server to start; the PostgreSQL store's tests need KAFKA_ONCE_POSTGRES_URL"
fi

cd -- "$root"
swift test "$@"
