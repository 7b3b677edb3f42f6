#!/usr/bin/env bash
# `teamotp audit` over a long history (issue 23): a 200-account vault with 1,000 commits (members joining
# and leaving, secrets rotated), audited with the key in an identity file and with the agent holding it.
#
#   benches/audit.sh               build (cargo build --release), make the repository, measure
#
# Environment: TEAMOTP_BIN (measure this binary, no build), COMMITS (default 1000), ACCOUNTS (default
# 200), MIN_RUNS (hyperfine --min-runs, default 3). Needs hyperfine and git. Not part of CI: the figures
# depend on the machine. audit exits 1 here (removed members could read current secrets): -i. Figures:
# docs/performance.md, "Access review over history".

set -euo pipefail
export LC_ALL=C
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
for tool in hyperfine git; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' not found" >&2; exit 2; }
done
bin=${TEAMOTP_BIN:-}
if [[ -z $bin ]]; then
    cargo build --release --locked >&2
    bin=$repo/target/release/teamotp
fi
commits=${COMMITS:-1000}
accounts=${ACCOUNTS:-200}
work=$(mktemp -d)
trap 'TEAMOTP_NO_AGENT= HOME=$work/home XDG_RUNTIME_DIR=$work/run "$bin" lock >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/home" "$work/run" "$work/repo"
chmod 700 "$work/run"
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_STATE_HOME=$work/home/.state \
    XDG_RUNTIME_DIR=$work/run GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@x \
    GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@x
t() { TEAMOTP_NO_AGENT=1 "$bin" -f vault.csv.age "$@"; }
cd "$work/repo"
git init -q -b main
"$bin" keygen >/dev/null
t init >/dev/null 2>&1
t git-setup >/dev/null 2>&1
# 200 accounts in one write: a plaintext team CSV encrypted once (never kept: written to a pipe).
secret() { printf '%s' "$1" | sha256sum | head -c 32 | tr 'a-f0-9' 'A-P' | tr -d '\n'; }
{
    echo "name,secret"
    for i in $(seq 1 "$accounts"); do echo "account-$i,$(secret "s$i")"; done
} | t import --format gauth - >/dev/null 2>&1
for i in 1 2 3 4; do "$bin" keygen -o "$work/member$i.txt" >"$work/member$i.pub"; done
git add -A && git commit -qm "the vault"
echo "bench: making $commits commits" >&2
for c in $(seq 2 "$commits"); do
    case $((c % 50)) in
        10) t members add "$(cat "$work/member$(( (c / 50) % 4 + 1 )).pub")" >/dev/null 2>&1 ;;
        40) t members rm "$(cat "$work/member$(( (c / 50) % 4 + 1 )).pub")" --yes >/dev/null 2>&1 ;;
        *) printf '%s\n' "$(secret "r$c")" | t rotate "account-$(( c % accounts + 1 ))" >/dev/null 2>&1 ;;
    esac
    t members ack --yes >/dev/null 2>&1 || true
    git commit -qam "change $c"
done
echo "bench: $(git rev-list --count HEAD) commits, $(t list --format csv 2>/dev/null | tail -n +2 | wc -l) accounts" >&2
hyperfine -N -i --warmup 1 --min-runs "${MIN_RUNS:-3}" \
    -n "audit, identity file" "env TEAMOTP_NO_AGENT=1 $bin -f vault.csv.age audit --format csv"
TEAMOTP_NO_AGENT= "$bin" unlock >/dev/null 2>&1
hyperfine -N -i --warmup 1 --min-runs "${MIN_RUNS:-3}" \
    -n "audit, agent" "$bin -f vault.csv.age audit --format csv"
