#!/usr/bin/env bash
# `teamotp check` on large plaintext team-CSV vaults (10k, 100k and 200k rows by default): check must stay
# linear in the number of rows (issue 9: it was quadratic, 200k rows took over a minute).
#
#   benches/check.sh [ROWS...]     generate the vaults, time `teamotp check` on each
#
# Environment:
#   TEAMOTP_BIN   the binary to measure (default: target/release/teamotp, built with cargo build --release)
#   RUNS          hyperfine --runs (default 5)
#
# Every vault has the header `name,issuer,secret`, names `account-000001`, ... with one duplicate pair
# per 1,000 rows (so `check` has duplicates to report and exits 1), and random 32-character base32
# secrets. Uses hyperfine when installed (apt-get install -y hyperfine), else bash's `time`.

set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
rows=("$@")
[[ ${#rows[@]} -gt 0 ]] || rows=(10000 100000 200000)
RUNS=${RUNS:-5}

if [[ -z ${TEAMOTP_BIN:-} ]]; then
    cargo build --release --quiet
fi
bin=${TEAMOTP_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/teamotp}
[[ -x $bin ]] || { echo "bench: no teamotp binary at $bin" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/teamotp-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077

for n in "${rows[@]}"; do
    vault=$work/vault-$n.csv
    awk -v n="$n" -v seed=42 'BEGIN {
        srand(seed); alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        print "name,issuer,secret"
        for (i = 1; i <= n; i++) {
            secret = ""
            for (j = 0; j < 32; j++) secret = secret substr(alphabet, int(rand() * 32) + 1, 1)
            # every 1000th row repeats the name of the row before it (in another case)
            name = (i % 1000 == 0) ? sprintf("ACCOUNT-%06d", i - 1) : sprintf("account-%06d", i)
            printf "%s,Issuer %d,%s\n", name, i % 97, secret
        }
    }' >"$vault"
    # The run does the real work: every duplicate is reported, nothing else.
    set +e
    problems=$("$bin" -f "$vault" check 2>/dev/null | wc -l)
    set -e
    [[ $problems -eq $((n / 1000)) ]] || { echo "bench: $n rows: $problems problems, wanted $((n / 1000))" >&2; exit 2; }
    echo "== check, $n rows ($(du -h "$vault" | cut -f1))"
    if command -v hyperfine >/dev/null 2>&1; then
        hyperfine -N --runs "$RUNS" --warmup 1 -i --style basic "$bin -f $vault check"
    else
        for _ in $(seq "$RUNS"); do
            ( time "$bin" -f "$vault" check >/dev/null 2>&1 ) 2>&1 | grep real
        done
    fi
done
