#!/usr/bin/env bash
# Performance benchmark of teamotp's core commands, against age, oathtool and fixed targets.
#
#   benches/run.sh                 build (cargo build --release), generate vaults, measure, summarise
#
# Environment:
#   RESULTS_DIR   where to write the results (default: target/bench-results/UTC-TIMESTAMP, git-ignored)
#   TEAMOTP_BIN   measure this binary instead of building target/release/teamotp (e.g. an experiment)
#   MIN_RUNS      hyperfine --min-runs (default 30)
#   MEM_RUNS      runs per command for the peak-memory figures (default 20)
#   NICE          run the measurements under `nice -n NICE` (e.g. -10, as root) on a busy machine
#
# Needs, besides the repository and a Rust toolchain: hyperfine, age and age-keygen (the Go age CLI),
# oathtool and GNU time, i.e. the Debian packages hyperfine, age, oathtool and time; plus coreutils and
# awk. Not part of CI: the figures depend on the machine and on what else it is doing.
# See benches/README.md and docs/performance.md.

set -euo pipefail
export LC_ALL=C
# A running teamotp agent would answer instead of the identity file: measure the file path.
export TEAMOTP_NO_AGENT=1

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# --- parameters -------------------------------------------------------------------------------------
AT=1700000000                      # --at for teamotp: every run computes the same codes
AT_TEXT="2023-11-14 22:13:20 UTC"  # the same instant for oathtool --now
CODE_ACCOUNTS=1000                 # vault size for the `code` comparison
LIST_ACCOUNTS=10000                # vault size for `list`
ACCOUNT=account-0501               # the account `code` asks for (30 s period, middle of the file)
CODE_TARGET_RATIO=0.60             # teamotp code / age -d of the same 1,000-account file, at most (issue 10)
LIST_TARGET_RATIO=3.00             # teamotp list --format csv / age -d of the same 10,000-account file (issue 10)
LIST_TARGET_MS=25                  # teamotp list --format csv, 10,000 accounts: mean wall time, at most
LIST_TARGET_KIB=16384              # ... and peak RSS (16 MiB), at most
GAUTH_REFERENCE_MS=71              # gauth printing 10,000 accounts from plaintext (team notes; NOT measured)
MIN_RUNS=${MIN_RUNS:-30}
MEM_RUNS=${MEM_RUNS:-20}
NICE=${NICE:-}

# The measuring commands, under `nice` when NICE is set.
run() { if [[ -n $NICE ]]; then nice -n "$NICE" "$@"; else "$@"; fi; }

die() { echo "bench: $*" >&2; exit 2; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"; }

need hyperfine "apt-get install -y hyperfine"
need age "apt-get install -y age"
need age-keygen "apt-get install -y age"
need oathtool "apt-get install -y oathtool"
need base32 "it is part of coreutils"
need awk "apt-get install -y mawk"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found: apt-get install -y time"
grep -q -- "--shell=none" <<<"$(hyperfine --help)" || die "hyperfine is too old (need -N, hyperfine 1.13 or later)"

# --- build ------------------------------------------------------------------------------------------
if [[ -n ${TEAMOTP_BIN:-} ]]; then
    bin=$TEAMOTP_BIN
    echo "== using $bin (no build)"
else
    echo "== cargo build --release"
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-$repo/target}/release/teamotp
fi
[[ -x $bin ]] || die "no teamotp binary at $bin"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=${RESULTS_DIR:-$repo/target/bench-results/$stamp}
mkdir -p "$results"
results=$(cd "$results" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/teamotp-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077

# --- the machine ------------------------------------------------------------------------------------
{
    echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "repo:      $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes to src/Cargo')"
    echo "binary:    $bin${TEAMOTP_BIN:+ (from TEAMOTP_BIN, not built by this run)}"
    echo "nproc:     $(nproc)"
    echo "cpu:       $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "kernel:    $(uname -sr)"
    echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at start)"
    echo "nice:      ${NICE:-not set (normal priority)}"
    echo "hyperfine: $(hyperfine --version)"
    echo "age:       $(age --version)"
    echo "oathtool:  $(oathtool --version | head -n1)"
} | tee "$results/machine.txt"

# --- vaults -----------------------------------------------------------------------------------------
# Team CSV, names account-0001..., random 32-character base32 secrets (20 random bytes each: valid and
# unpadded), periods alternating 30 s (odd rows) and 60 s (even rows), 50 issuers.
generate() {
    local n=$1 out=$2
    {
        echo "name,issuer,secret,digits,period,algorithm,type"
        head -c $((n * 20)) /dev/urandom | base32 -w 32 |
            awk '{ printf "account-%04d,Issuer %02d,%s,6,%d,SHA1,totp\n", NR, NR % 50, $0, (NR % 2 ? 30 : 60) }'
    } >"$out"
    [[ $(wc -l <"$out") -eq $((n + 1)) ]] || die "generating $out failed"
}

echo "== generating vaults in $work"
age-keygen -o "$work/key.txt" 2>/dev/null
chmod 600 "$work/key.txt"
recipient=$(age-keygen -y "$work/key.txt")
for n in "$CODE_ACCOUNTS" "$LIST_ACCOUNTS"; do
    generate "$n" "$work/vault-$n.csv"
    age -r "$recipient" -o "$work/vault-$n.csv.age" "$work/vault-$n.csv"
done
code_vault=$work/vault-$CODE_ACCOUNTS.csv.age
list_plain=$work/vault-$LIST_ACCOUNTS.csv
list_enc=$work/vault-$LIST_ACCOUNTS.csv.age
key=$work/key.txt
secret=$(awk -F, -v a="$ACCOUNT" '$1 == a {print $3}' "$work/vault-$CODE_ACCOUNTS.csv")
period=$(awk -F, -v a="$ACCOUNT" '$1 == a {print $5}' "$work/vault-$CODE_ACCOUNTS.csv")
ls -l "$work" | awk 'NR > 1 {print "   ", $5, $9}'

# --- sanity: everything measured must do the real work and agree ------------------------------------
ours=$("$bin" code "$ACCOUNT" -f "$code_vault" -i "$key" --at "$AT")
theirs=$(oathtool --totp -b -s "${period}s" --now "$AT_TEXT" "$secret")
[[ $ours == "$theirs" ]] || die "teamotp code says $ours, oathtool says $theirs"
cmp -s <(age -d -i "$key" "$code_vault") "$work/vault-$CODE_ACCOUNTS.csv" || die "age -d does not round-trip"
for v in "$list_enc" "$list_plain"; do
    lines=$("$bin" list --format csv -f "$v" -i "$key" --at "$AT" 2>"$work/stderr" | wc -l)
    [[ $lines -eq $((LIST_ACCOUNTS + 1)) ]] || die "list of $v printed $lines lines, expected $((LIST_ACCOUNTS + 1))"
    [[ ! -s $work/stderr ]] || die "list of $v wrote to stderr: $(head -n3 "$work/stderr")"
done
echo "== sanity checks passed (teamotp and oathtool agree: $ours)"

# --- timing -----------------------------------------------------------------------------------------
# -N: no intermediate shell, so nothing but the command is timed. Output goes to /dev/null (hyperfine's
# default), which is also why `age -d` needs no redirection here.
bench() {
    local name=$1
    shift
    echo
    echo "== hyperfine: $name"
    run hyperfine -N --warmup 3 --min-runs "$MIN_RUNS" \
        --export-json "$results/$name.json" \
        --export-markdown "$results/$name.md" \
        --export-csv "$results/$name.csv" \
        "$@"
}

bench code \
    -n "teamotp code" "$bin code $ACCOUNT -f $code_vault -i $key --at $AT" \
    -n "age -d" "age -d -i $key -o /dev/null $code_vault" \
    -n "oathtool" "oathtool --totp -b $secret"

bench list \
    -n "teamotp list encrypted" "$bin list --format csv -f $list_enc -i $key --at $AT" \
    -n "age -d 10k" "age -d -i $key -o /dev/null $list_enc" \
    -n "teamotp list plaintext" "$bin list --format csv -f $list_plain --at $AT"

# Where the time goes: process start, the embedded 5-account demo vault, `code` on plaintext (no
# decryption), reading + parsing 10,000 rows without computing their codes (`code` computes one), and
# decryption alone.
bench breakdown \
    -n "teamotp --version" "$bin --version" \
    -n "teamotp --demo list" "$bin --demo list --format csv --at $AT" \
    -n "teamotp code 1k plaintext" "$bin code $ACCOUNT -f ${code_vault%.age} --at $AT" \
    -n "teamotp code 10k plaintext" "$bin code $ACCOUNT -f $list_plain --at $AT" \
    -n "teamotp code 10k encrypted" "$bin code $ACCOUNT -f $list_enc -i $key --at $AT" \
    -n "age -d 10k" "age -d -i $key -o /dev/null $list_enc"

# --- peak memory ------------------------------------------------------------------------------------
# Max RSS in KiB from GNU time (%M, from wait4's rusage; teamotp makes itself non-dumpable, so its
# /proc/PID/status is not the place to read VmHWM from). MEM_RUNS runs each; the maximum is reported.
peak() {
    local name=$1 file=$results/memory-$1.txt
    shift
    : >"$file"
    for _ in $(seq "$MEM_RUNS"); do
        run /usr/bin/time -a -o "$file" -f %M "$@" >/dev/null
    done
    sort -n "$file" | awk -v name="$name" '{v[NR] = $1} END {
        printf "%s %d %d\n", name, v[NR], v[int((NR + 1) / 2)] }' >>"$results/memory.txt"
}
echo
echo "== peak memory (/usr/bin/time -f %M, $MEM_RUNS runs each)"
: >"$results/memory.txt"
peak list-encrypted "$bin" list --format csv -f "$list_enc" -i "$key" --at "$AT"
peak list-plaintext "$bin" list --format csv -f "$list_plain" --at "$AT"
peak code "$bin" code "$ACCOUNT" -f "$code_vault" -i "$key" --at "$AT"
peak age-d-1k age -d -i "$key" -o /dev/null "$code_vault"
peak age-d-10k age -d -i "$key" -o /dev/null "$list_enc"
peak oathtool oathtool --totp -b "$secret"

# --- summary ----------------------------------------------------------------------------------------
# hyperfine's CSV: command,mean,stddev,median,user,system,min,max (seconds). Names contain no commas.
stat() { awk -F, -v name="$2" -v col="$3" '$1 == name {print $col * 1000}' "$results/$1.csv"; }
mem() { awk -v name="$1" '$1 == name {print $2}' "$results/memory.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b ? "MET" : "MISSED")}'; }
# One line per command: mean +- stddev, median, min, CPU (user + system), all in ms.
line() {
    awk -F, -v name="$2" '$1 == name {
        printf "   %-28s mean %6.1f +- %5.1f   median %6.1f   min %6.1f   cpu %6.1f\n",
            name, $2 * 1000, $3 * 1000, $4 * 1000, $7 * 1000, ($5 + $6) * 1000 }' "$results/$1.csv"
}

code_mean=$(stat code "teamotp code" 2)
age_mean=$(stat code "age -d" 2)
oath_mean=$(stat code oathtool 2)
code_vs_age=$(ratio "$code_mean" "$age_mean")
enc_mean=$(stat list "teamotp list encrypted" 2)
plain_mean=$(stat list "teamotp list plaintext" 2)
enc_kib=$(mem list-encrypted)
plain_kib=$(mem list-plaintext)

{
    echo "teamotp benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load at end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "(all times in ms; cpu = user + system time)"
    echo
    echo "1. code: one account of a $CODE_ACCOUNTS-account X25519 vault"
    line code "teamotp code"
    line code "age -d"
    line code oathtool
    echo "   teamotp/age      = $code_vs_age on means, $(ratio "$(stat code "teamotp code" 4)" "$(stat code "age -d" 4)") on medians" \
        "(target <= $CODE_TARGET_RATIO on medians: $(at_most "$(ratio "$(stat code "teamotp code" 4)" "$(stat code "age -d" 4)")" "$CODE_TARGET_RATIO"))"
    echo "   teamotp/oathtool = $(ratio "$code_mean" "$oath_mean") on means, $(ratio "$(stat code "teamotp code" 4)" "$(stat code oathtool 4)") on medians"
    echo
    echo "2. list --format csv, $LIST_ACCOUNTS accounts (target: mean <= $LIST_TARGET_MS ms and peak RSS <= $((LIST_TARGET_KIB / 1024)) MiB)"
    line list "teamotp list encrypted"
    line list "teamotp list plaintext"
    printf '   %-28s time %s, peak RSS %d KiB = %.1f MiB %s\n' \
        encrypted "$(at_most "$enc_mean" "$LIST_TARGET_MS")" "$enc_kib" "$(awk -v k="$enc_kib" 'BEGIN {print k / 1024}')" "$(at_most "$enc_kib" "$LIST_TARGET_KIB")" \
        plaintext "$(at_most "$plain_mean" "$LIST_TARGET_MS")" "$plain_kib" "$(awk -v k="$plain_kib" 'BEGIN {print k / 1024}')" "$(at_most "$plain_kib" "$LIST_TARGET_KIB")"
    echo "   teamotp encrypted/age -d = $(ratio "$(stat list "teamotp list encrypted" 4)" "$(stat list "age -d 10k" 4)") on medians," \
        "$(ratio "$enc_mean" "$(stat list "age -d 10k" 2)") on means," \
        "$(ratio "$(awk -F, '$1 == "teamotp list encrypted" {print $5 + $6}' "$results/list.csv")" "$(awk -F, '$1 == "age -d 10k" {print $5 + $6}' "$results/list.csv")") on CPU time" \
        "(target <= $LIST_TARGET_RATIO on medians: $(at_most "$(ratio "$(stat list "teamotp list encrypted" 4)" "$(stat list "age -d 10k" 4)")" "$LIST_TARGET_RATIO"))"
    echo "   reference, NOT measured here: gauth printing $LIST_ACCOUNTS accounts from plaintext took" \
        "$GAUTH_REFERENCE_MS ms on this machine (team notes; gauth is not installable here);" \
        "teamotp plaintext / that = $(ratio "$plain_mean" "$GAUTH_REFERENCE_MS")"
    echo
    echo "3. breakdown"
    for name in "teamotp --version" "teamotp --demo list" "teamotp code 1k plaintext" "teamotp code 10k plaintext" \
        "teamotp code 10k encrypted" "age -d 10k"; do
        line breakdown "$name"
    done
    echo "   list minus code, same 10k plaintext vault (computing and printing 30,000 codes):" \
        "$(awk -v a="$plain_mean" -v b="$(stat breakdown "teamotp code 10k plaintext" 2)" 'BEGIN {printf "%.1f", a - b}') ms on means"
    echo
    echo "4. peak RSS in KiB (max and median of $MEM_RUNS runs)"
    awk '{printf "   %-28s max %7d   median %7d\n", $1, $2, $3}' "$results/memory.txt"
    echo
    echo "results: $results"
} | tee "$results/summary.txt"
