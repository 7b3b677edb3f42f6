#!/usr/bin/env bash
# Copies the committed seeds of a fuzz target into its (git-ignored) corpus and fuzzes it for N minutes.
#
#   fuzz/run.sh TARGET [MINUTES] [extra libFuzzer flags...]
#   fuzz/run.sh vault_parse 10
#   fuzz/run.sh all 10          # every main target, one after the other
#
# Needs a nightly toolchain and cargo-fuzz (cargo install cargo-fuzz). The corpus grows in
# fuzz/corpus/TARGET/ and crashes land in fuzz/artifacts/TARGET/ (both git-ignored).
set -euo pipefail
cd "$(dirname "$0")"

TARGETS=(vault_parse base32 otpauth importers bytes_to_accounts)
target=${1:?usage: fuzz/run.sh TARGET|all [MINUTES] [libFuzzer flags...]}
minutes=${2:-10}
shift $(( $# >= 2 ? 2 : 1 ))

if [ "$target" = all ]; then
    for t in "${TARGETS[@]}"; do "$0" "$t" "$minutes" "$@"; done
    exit 0
fi
if [ ! -d "seeds/$target" ]; then
    echo "run.sh: unknown target '$target' (no seeds/$target)" >&2
    exit 2
fi

mkdir -p "corpus/$target" "artifacts/$target"
cp -n "seeds/$target"/* "corpus/$target"/ 2>/dev/null || true
cargo +nightly fuzz build -O "$target"
# -print_final_stats=1 ends the log with stat::number_of_executed_units and friends.
cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
    -max_total_time=$((minutes * 60)) -print_final_stats=1 "$@"
