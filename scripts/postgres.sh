#!/usr/bin/env bash
# Runs a throwaway PostgreSQL server for the KafkaOncePostgres tests and examples.
#
#   scripts/postgres.sh start DIR PORT   initialise a cluster in DIR (if needed), start it on
#                                        127.0.0.1:PORT, create the database kafka_once, and print
#                                        its URL on stdout
#   scripts/postgres.sh stop DIR         stop the server started in DIR
#
# The cluster lives in DIR/data, its log in DIR/server.log and its socket in DIR. Connections from
# loopback are trusted, so never point this at a directory shared with real data.
# Run as root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

readonly DATABASE=kafka_once
readonly SUPERUSER=postgres

fail() {
    echo "postgres.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: scripts/postgres.sh start DIR PORT | scripts/postgres.sh stop DIR" >&2
    exit 2
}

# The directory holding initdb, pg_ctl and psql: pg_config's answer first, then Debian's layout.
find_bindir() {
    local candidate
    if command -v pg_config >/dev/null 2>&1; then
        candidate=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n "$candidate" && -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return
        fi
    fi
    for candidate in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return
        fi
    done
    fail "cannot find initdb and pg_ctl (tried pg_config --bindir and /usr/lib/postgresql/*/bin); install the postgresql package"
}

# Runs a server-side command as the postgres user when this script runs as root.
as_server_user() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$SUPERUSER" -- "$@"
    else
        "$@"
    fi
}

start() {
    local dir=$1 port=$2
    [[ "$port" =~ ^[0-9]+$ ]] && ((port >= 1 && port <= 65535)) ||
        fail "the port '$port' is not a number from 1 to 65535"

    local bindir
    bindir=$(find_bindir)
    dir=$(realpath -m -- "$dir")
    local data="$dir/data"
    mkdir -p -- "$dir" || fail "cannot create the directory '$dir'"

    if [[ "$(id -u)" -eq 0 ]]; then
        id "$SUPERUSER" >/dev/null 2>&1 ||
            fail "there is no '$SUPERUSER' user to run the server as; install the postgresql package"
        chown "$SUPERUSER": -- "$dir"
        as_server_user test -w "$dir" ||
            fail "the '$SUPERUSER' user cannot write '$dir'; choose a directory every user can reach, such as one under /tmp"
    fi

    if [[ -f "$data/postmaster.pid" ]] && as_server_user "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        fail "a server is already running in '$dir'; stop it first with: scripts/postgres.sh stop $dir"
    fi

    if [[ ! -f "$data/PG_VERSION" ]]; then
        if [[ -e "$data" && -n "$(ls -A -- "$data" 2>/dev/null)" ]]; then
            fail "'$data' exists but holds no PostgreSQL cluster; remove it or choose another directory"
        fi
        as_server_user "$bindir/initdb" -D "$data" -U "$SUPERUSER" --auth=trust --encoding=UTF8 --locale=C \
            >"$dir/initdb.log" 2>&1 ||
            fail "initdb failed for '$data'; see $dir/initdb.log"
    fi

    as_server_user "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=on" \
        start >/dev/null 2>&1 ||
        fail "the server in '$data' did not start on 127.0.0.1:$port; see $dir/server.log (is the port taken?)"

    local attempt
    for attempt in $(seq 1 60); do
        if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$SUPERUSER"; then
            break
        fi
        ((attempt == 60)) && fail "the server on 127.0.0.1:$port did not accept connections within 30 s; see $dir/server.log"
        sleep 0.5
    done

    local psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres)
    local exists
    exists=$("${psql[@]}" -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") ||
        fail "cannot query the server on 127.0.0.1:$port; see $dir/server.log"
    if [[ "$exists" != "1" ]]; then
        "${psql[@]}" -c "CREATE DATABASE $DATABASE" >/dev/null ||
            fail "cannot create the database '$DATABASE' on 127.0.0.1:$port; see $dir/server.log"
    fi

    echo "postgres://$SUPERUSER@127.0.0.1:$port/$DATABASE"
}

stop() {
    local dir
    dir=$(realpath -m -- "$1")
    local data="$dir/data"
    [[ -f "$data/PG_VERSION" ]] || fail "there is no cluster in '$dir'; nothing to stop"
    [[ -f "$data/postmaster.pid" ]] || return 0

    local bindir
    bindir=$(find_bindir)
    as_server_user "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
        fail "the server in '$data' did not stop; see $dir/server.log"
}

case "${1:-}" in
start)
    [[ $# -eq 3 ]] || usage
    start "$2" "$3"
    ;;
stop)
    [[ $# -eq 2 ]] || usage
    stop "$2"
    ;;
*)
    usage
    ;;
esac
