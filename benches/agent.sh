#!/usr/bin/env bash
# The agent's benchmark (docs/performance.md, "The agent"): `teamotp code` on the 1,000-account X25519
# vault through the agent, against `age -d` and against teamotp reading the key itself; and `code` on a
# 1,000-account passphrase vault (scrypt work factor 18) through the agent, against teamotp and `age -d`
# running scrypt themselves.
#
#   benches/agent.sh        build (cargo build --release), generate vaults, unlock, measure
#
# Environment: TEAMOTP_BIN (measure this binary, no build), MIN_RUNS (default 30), RESULTS_DIR.
# Needs hyperfine, age, age-keygen and python3 (benches/pty_answer.py types the passphrases).

set -euo pipefail
export LC_ALL=C
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
AT=1700000000
ACCOUNTS=1000
ACCOUNT=account-0501
MIN_RUNS=${MIN_RUNS:-30}
export BENCH_PASSPHRASE=bench-vault-pass

die() { echo "bench: $*" >&2; exit 2; }
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
for tool in hyperfine age age-keygen "$PYTHON"; do
    command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install -y hyperfine age python3)"
done
if [[ -n ${TEAMOTP_BIN:-} ]]; then
    bin=$TEAMOTP_BIN
else
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-$repo/target}/release/teamotp
fi
answer=$repo/benches/pty_answer.py
results=${RESULTS_DIR:-$repo/target/bench-results/agent-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"

work=$(mktemp -d "${TMPDIR:-/tmp}/teamotp-agent-bench.XXXXXX")
export TEAMOTP_AGENT_SOCK=$work/run/agent.sock HOME=$work
cleanup() { "$bin" lock >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
umask 077

{
    echo "name,issuer,secret,digits,period,algorithm,type"
    head -c $((ACCOUNTS * 20)) /dev/urandom | base32 -w 32 |
        awk '{ printf "account-%04d,Issuer %02d,%s,6,%d,SHA1,totp\n", NR, NR % 50, $0, (NR % 2 ? 30 : 60) }'
} >"$work/vault.csv"
age-keygen -o "$work/key.txt" 2>/dev/null
age -r "$(age-keygen -y "$work/key.txt")" -o "$work/x25519.csv.age" "$work/vault.csv"
"$PYTHON" "$answer" age -p -o "$work/pass.csv.age" "$work/vault.csv"
[[ -s $work/pass.csv.age ]] || die "age -p made no file"

"$bin" -i "$work/key.txt" -f "$work/pass.csv.age" unlock --timeout 1h 2>/dev/null </dev/null ||
    "$PYTHON" "$answer" "$bin" -i "$work/key.txt" -f "$work/pass.csv.age" unlock --timeout 1h
"$bin" agent status
ours=$("$bin" -f "$work/x25519.csv.age" code "$ACCOUNT" --at "$AT" </dev/null)
theirs=$(TEAMOTP_NO_AGENT=1 "$bin" -i "$work/key.txt" -f "$work/x25519.csv.age" code "$ACCOUNT" --at "$AT")
[[ $ours == "$theirs" ]] || die "through the agent: $ours, without: $theirs"
[[ $("$bin" -f "$work/pass.csv.age" code "$ACCOUNT" --at "$AT" </dev/null) == "$ours" ]] || die "passphrase vault"

hyperfine -N --warmup 3 --min-runs "$MIN_RUNS" --export-markdown "$results/x25519.md" \
    -n "teamotp code (agent)" "$bin -f $work/x25519.csv.age code $ACCOUNT --at $AT" \
    -n "teamotp code (key file, no agent)" "env TEAMOTP_NO_AGENT=1 $bin -i $work/key.txt -f $work/x25519.csv.age code $ACCOUNT --at $AT" \
    -n "age -d" "age -d -i $work/key.txt $work/x25519.csv.age"
hyperfine -N --warmup 3 --min-runs "$MIN_RUNS" --export-markdown "$results/passphrase-agent.md" \
    -n "teamotp code, passphrase vault (agent)" "$bin -f $work/pass.csv.age code $ACCOUNT --at $AT"
hyperfine -N --warmup 1 --runs 5 --export-markdown "$results/passphrase-scrypt.md" \
    -n "teamotp code, passphrase vault (no agent, typed on a pty)" "env TEAMOTP_NO_AGENT=1 $PYTHON $answer $bin -f $work/pass.csv.age code $ACCOUNT --at $AT" \
    -n "age -d, passphrase vault (typed on a pty)" "$PYTHON $answer age -d -o /dev/null $work/pass.csv.age" \
    -n "python3 pty wrapper alone (overhead)" "$PYTHON $answer true"
cat "$results"/*.md
