#!/usr/bin/env bash
# The system packages KafkaOnce needs, checked and (on Debian or Ubuntu, as root) installed.
#
# Source it and call the function, as the other scripts do:
#
#   source scripts/dependencies.sh
#   kafka_once_ensure_dependencies build   # what `swift build` needs
#   kafka_once_ensure_dependencies test    # the same, plus the PostgreSQL server the tests start
#
# or run it: scripts/dependencies.sh [build|test]   (build when no argument is given)
#
# Debian and Ubuntu: packages are checked with dpkg. Missing ones are installed with apt-get when
# running as root; otherwise the exact `sudo apt-get install` command is printed and the function
# fails. macOS: librdkafka and libpq are checked through pkg-config (Homebrew's libpq is keg-only,
# so its pkg-config directory is added to PKG_CONFIG_PATH), and the `brew install` command is
# printed when they are missing.

# Debian packages for building: librdkafka, SQLite and libpq headers, and pkg-config to find them.
KAFKA_ONCE_BUILD_PACKAGES=(librdkafka-dev libsqlite3-dev libpq-dev pkg-config)
# Debian packages only the tests need: the PostgreSQL server scripts/postgres.sh runs.
KAFKA_ONCE_TEST_PACKAGES=(postgresql)

kafka_once_dependencies_log() {
    echo "dependencies.sh: $*" >&2
}

# Prints the Debian packages of the selection ("build" or "test") that are not installed.
kafka_once_missing_debian_packages() {
    local packages=("${KAFKA_ONCE_BUILD_PACKAGES[@]}")
    [[ "$1" == test ]] && packages+=("${KAFKA_ONCE_TEST_PACKAGES[@]}")

    local package
    for package in "${packages[@]}"; do
        if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed$'; then
            echo "$package"
        fi
    done
}

kafka_once_ensure_debian_dependencies() {
    local missing
    mapfile -t missing < <(kafka_once_missing_debian_packages "$1")
    ((${#missing[@]} == 0)) && return 0

    if [[ "$(id -u)" -ne 0 ]]; then
        kafka_once_dependencies_log "missing Debian packages: ${missing[*]}; install them with:"
        echo "    sudo apt-get install -y ${missing[*]}" >&2
        return 1
    fi

    kafka_once_dependencies_log "installing ${missing[*]}"
    apt-get update &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" || {
        kafka_once_dependencies_log "apt-get could not install ${missing[*]}; see its output above"
        return 1
    }

    mapfile -t missing < <(kafka_once_missing_debian_packages "$1")
    if ((${#missing[@]} > 0)); then
        kafka_once_dependencies_log "still missing after apt-get install: ${missing[*]}"
        return 1
    fi
}

kafka_once_ensure_macos_dependencies() {
    local formulas=()
    if command -v brew >/dev/null 2>&1; then
        local libpq
        libpq="$(brew --prefix libpq 2>/dev/null)/lib/pkgconfig"
        if [[ -d "$libpq" && ":${PKG_CONFIG_PATH:-}:" != *":$libpq:"* ]]; then
            export PKG_CONFIG_PATH="$libpq${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
        fi
    fi

    if ! command -v pkg-config >/dev/null 2>&1; then
        formulas=(librdkafka libpq pkg-config)
    elif ! pkg-config --exists rdkafka || ! pkg-config --exists libpq; then
        formulas=(librdkafka libpq)
    fi
    if ((${#formulas[@]} > 0)); then
        kafka_once_dependencies_log "pkg-config cannot find librdkafka and libpq; install them with:"
        echo "    brew install ${formulas[*]}" >&2
        return 1
    fi

    if [[ "$1" == test ]] && ! command -v initdb >/dev/null 2>&1; then
        kafka_once_dependencies_log "no PostgreSQL server found; set KAFKA_ONCE_POSTGRES_URL or" \
            "'brew install postgresql' to run the PostgreSQL store's tests"
    fi
}

# Linux without dpkg: the pkg-config modules are what the build looks for.
kafka_once_ensure_other_linux_dependencies() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists rdkafka sqlite3 libpq; then
        return 0
    fi
    kafka_once_dependencies_log "cannot find the pkg-config modules rdkafka, sqlite3 and libpq;" \
        "install pkg-config and the development packages of librdkafka, SQLite and libpq"
    return 1
}

# Checks (and where it can, installs) what the selection needs: "build" (the default) or "test".
kafka_once_ensure_dependencies() {
    local selection=${1:-build}
    if [[ "$selection" != build && "$selection" != test ]]; then
        kafka_once_dependencies_log "unknown selection '$selection'; use build or test"
        return 2
    fi

    case "$(uname -s)" in
    Darwin)
        kafka_once_ensure_macos_dependencies "$selection"
        ;;
    Linux)
        if command -v dpkg >/dev/null 2>&1; then
            kafka_once_ensure_debian_dependencies "$selection"
        else
            kafka_once_ensure_other_linux_dependencies
        fi
        ;;
    *)
        kafka_once_dependencies_log "unsupported system '$(uname -s)'; KafkaOnce builds on Linux and macOS"
        return 1
        ;;
    esac
}

# Run directly rather than sourced: check the selection given as the first argument.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    kafka_once_ensure_dependencies "${1:-build}"
fi
