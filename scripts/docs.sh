#!/usr/bin/env bash
# Builds the DocC documentation of the four libraries, and fails on any DocC warning.
#
#   scripts/docs.sh [output directory]     for example: scripts/docs.sh /tmp/kafka-once-docs
#
# Extracts the public symbols with `swift package dump-symbol-graph`, then runs `docc convert` per
# library on its catalog (Sources/MODULE/Documentation.docc, when there is one) and its own symbol
# graphs only, so no module is documented again inside another. KafkaOnce is converted first and
# the others resolve links against it: their doc comments name its symbols with absolute links,
# such as ``/KafkaOnce/DeduplicationStore``. A member with no doc comment of its own that
# implements a standard library protocol shows the protocol's documentation.
#
# Writes MODULE.doccarchive for each library, and KafkaOnce-all.doccarchive with the four together,
# into the output directory (a new temporary directory when none is given) and prints where.
# KAFKA_ONCE_DOCS_SCRATCH sets the build directory, .build by default.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/dependencies.sh
source "$root/scripts/dependencies.sh"
kafka_once_ensure_dependencies build

modules=(KafkaOnce KafkaOnceSQLite KafkaOncePostgres KafkaOnceTesting)
scratch=${KAFKA_ONCE_DOCS_SCRATCH:-.build}

log() {
    echo "docs.sh: $*" >&2
}

if (($# > 1)); then
    log "usage: scripts/docs.sh [output directory]"
    exit 2
fi
cd -- "$root"
output=${1:-$(mktemp -d "${TMPDIR:-/tmp}/kafka-once-docs.XXXXXX")}
mkdir -p -- "$output"
output=$(cd -- "$output" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/kafka-once-docs-work.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# The build's own output goes to a log, shown only when something fails. SwiftPM also tries the
# test runner's modules, which have no symbols to extract, and exits 1 after those errors alone;
# they are ignored when every library's symbol graph was written by this run.
log "extracting symbol graphs (build in $scratch)"
touch -- "$work/started"
status=0
swift package --scratch-path "$scratch" dump-symbol-graph --minimum-access-level public \
    >"$work/dump-symbol-graph.log" 2>&1 || status=$?
graphs=$(sed -n 's/^Files written to //p' "$work/dump-symbol-graph.log" | tail -n 1)

fresh=true
for module in "${modules[@]}"; do
    [[ -n "$graphs" && "$graphs/$module.symbols.json" -nt "$work/started" ]] || fresh=false
done
other_errors=$(grep '^error: ' "$work/dump-symbol-graph.log" \
    | grep -v "^error: Failed to emit symbol graph for '[A-Za-z]*Package[A-Za-z]*Tests'" || true)
if [[ "$fresh" != true || ( "$status" -ne 0 && -n "$other_errors" ) ]]; then
    cat -- "$work/dump-symbol-graph.log" >&2
    log "could not build the symbol graphs"
    exit 1
fi

failed=()
for module in "${modules[@]}"; do
    # MODULE.symbols.json, and MODULE@OTHER.symbols.json for its extensions of other modules' types.
    mkdir -p -- "$work/$module"
    cp -- "$graphs/$module.symbols.json" "$work/$module/"
    find "$graphs" -maxdepth 1 -name "$module@*.symbols.json" -exec cp -- {} "$work/$module/" \;

    catalog=()
    if [[ -d "Sources/$module/Documentation.docc" ]]; then
        catalog=("Sources/$module/Documentation.docc")
    fi
    dependency=()
    if [[ "$module" != KafkaOnce ]]; then
        dependency=(--dependency "$output/KafkaOnce.doccarchive")
    fi

    log "converting $module"
    rm -rf -- "$output/$module.doccarchive"
    if ! docc convert ${catalog[@]+"${catalog[@]}"} \
        --additional-symbol-graph-dir "$work/$module" \
        --output-dir "$output/$module.doccarchive" \
        --fallback-display-name "$module" \
        --fallback-bundle-identifier "$module" \
        --enable-experimental-external-link-support \
        --enable-inherited-docs \
        ${dependency[@]+"${dependency[@]}"} \
        --warnings-as-errors; then
        failed+=("$module")
        # The others link to KafkaOnce's archive, which DocC did not write.
        [[ "$module" != KafkaOnce ]] || break
    fi
done
if ((${#failed[@]} > 0)); then
    log "DocC reported warnings in ${failed[*]}"
    exit 1
fi

# One archive with the four libraries, where the links between them work.
rm -rf -- "$output/KafkaOnce-all.doccarchive"
archives=()
for module in "${modules[@]}"; do
    archives+=("$output/$module.doccarchive")
done
docc merge "${archives[@]}" \
    --output-path "$output/KafkaOnce-all.doccarchive" \
    --synthesized-landing-page-name KafkaOnce

log "documentation in $output"
