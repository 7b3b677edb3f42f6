#!/usr/bin/env bash
# The age header, issue 20: a planted vault whose header holds many lines (the age crate re-parsed the
# whole header after every line it read: quadratic), measured side by side with the Go age CLI.
#
#   benches/header.sh              build (cargo build --release), make the files, measure
#
# Environment: TEAMOTP_BIN (measure this binary, no build), MIN_RUNS (hyperfine --min-runs, default 10).
# Needs hyperfine, age, python3. Not part of CI. Figures: docs/performance.md, "The age header".

set -euo pipefail
export LC_ALL=C TEAMOTP_NO_AGENT=1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
for tool in hyperfine age age-keygen python3; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' not found" >&2; exit 2; }
done
bin=${TEAMOTP_BIN:-}
if [[ -z $bin ]]; then
    cargo build --release --locked >&2
    bin=$repo/target/release/teamotp
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
age-keygen -o "$work/key.txt" 2>/dev/null
# 1,200 stanzas of 25 body lines (about 1.9 MiB, 31,000 lines: under teamotp's caps of 2 MiB and 2,048
# stanzas), and 300 tiny stanzas (about 5 KiB) for the common case.
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
mac = "--- HK2NmOBN9Dpq0Gw6xMCuhFcQlQLvZ/wQUi/2scLG75s\n"
def planted(name, count, body):
    text = "age-encryption.org/v1\n"
    for i in range(count):
        text += f"-> x stanza{i}\n" + ("A" * 64 + "\n") * (body // 64) + "A" * (body % 64) + "\n"
    open(f"{work}/{name}", "wb").write((text + mac).encode() + bytes([7] * 80))
planted("large.age", 1200, 1550)
planted("small.age", 300, 0)
PY
for file in small large; do
    hyperfine -N -i --warmup 2 --min-runs "${MIN_RUNS:-10}" \
        -n "teamotp list ($file header)" "$bin -i $work/key.txt -f $work/$file.age list" \
        -n "age -d ($file header)" "age -d -i $work/key.txt $work/$file.age"
done
