#!/usr/bin/env bash
# Other platforms, checked from this Linux machine (issue 15):
#   1. macOS: type-check every target (--all-targets) for x86_64-apple-darwin and aarch64-apple-darwin;
#   2. Windows: build the exe (x86_64-pc-windows-gnu, linked by mingw-w64);
#   2b. Windows: clippy on the library and the binary, -D warnings;
#   3. Windows smoke suite under wine: the same commands, at the same --at, run by the Linux binary and by
#      the Windows exe, every stdout and exit code compared byte for byte. Paths printed on stderr differ
#      only in their separators: stderr is compared after turning every '\' into '/' (the one
#      normalisation, done explicitly below in `normalise`); the commands use relative paths so no drive
#      letter appears. `init`'s closing hints name the config file and the vault's absolute path, which
#      differ by design (%APPDATA% against ~/.config): those hint lines alone are left out of its comparison.
#
# The route (docs in ../shared/DEPENDENCIES.md, "Other platforms"): Debian's rustc-web (1.96) and
# rust-web-src build std for the target (-Zbuild-std with RUSTC_BOOTSTRAP=1), rust-web-clippy lints,
# gcc-mingw-w64-x86-64 links, wine 8 runs. Wine 8 lacks bcryptprimitives.dll (ProcessPrng, Rust std's random
# source): scripts/wine/bcryptprimitives.c is a shim built beside the exe.
#
# Times measured on the 2-core machine (2026-11-29, other builds running beside it, so upper bounds):
#   step                               first run (std built for the target)   later runs
#   1. macOS x86_64 check              not timed alone (as aarch64)           26 s
#   1. macOS aarch64 check             299 s                                  not timed (as x86_64)
#   2. Windows exe                     10 min (beside a release build)        2 min 54 s after a source change
#   2b. Windows clippy (lib, bin)      2 min 27 s (deps already checked)      same order: teamotp only
#   3. smoke suite, 20 commands        19 s, wine prefix included (the Linux binary already built by
#                                      `cargo test`; building it from nothing adds the debug build)
#   total, cold                        about 21 min; warm about 5 min
#
# Usage: scripts/cross-check.sh [all|macos|windows|smoke]   (default all; smoke needs the exe already built)
# Needs: apt-get install rustc-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 wine (.ci/run does it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
what=${1:-all}

export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_INCREMENTAL=0
cross_dir=$root/target/cross
build_std=(-Zbuild-std=std,panic_abort)
win=x86_64-pc-windows-gnu
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="

step_start=0
step() {
    step_start=$(date +%s)
    echo "cross-check: $1"
}
done_step() {
    echo "cross-check: $1 took $(($(date +%s) - step_start)) s"
}

macos() {
    for target in x86_64-apple-darwin aarch64-apple-darwin; do
        step "type-check $target (--all-targets)"
        cargo check --locked -q "${build_std[@]}" --target "$target" --all-targets --target-dir "$cross_dir"
        done_step "$target"
    done
}

windows() {
    step "build the Windows exe ($win)"
    cargo build --locked -q "${build_std[@]}" --target "$win" --target-dir "$cross_dir"
    done_step "Windows exe"
    step "clippy for $win"
    # Debian's clippy-driver matches Debian's rustc (rustup's would not); the tests are Unix-shaped
    # (PTYs, modes), so the library and the binary are linted.
    /usr/bin/cargo-clippy clippy --locked -q "${build_std[@]}" --target "$win" --target-dir "$cross_dir" \
        --lib --bins -- -D warnings
    done_step "Windows clippy"
}

normalise() {
    # With $where set: also drop init's closing hints, which name where this machine keeps its config
    # (%APPDATA% against ~/.config) and the vault's absolute path: different by design, not a defect.
    if [ -n "${where:-}" ]; then
        tr '\\' '/' | grep -v -e '^teamotp: hint: other commands find it' -e '^teamotp: hint: or let teamotp add' \
            -e '^    \[vaults\.' -e '^    file = ' || true
    else
        tr '\\' '/'
    fi
}

smoke() {
    step "smoke suite under wine"
    local exe=$cross_dir/$win/debug/teamotp.exe
    [ -x "$exe" ] || { echo "cross-check: no $exe; run '$0 windows' first" >&2; exit 2; }
    cargo build --locked -q
    local linux=$root/target/debug/teamotp
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    # Beside the exe: the ProcessPrng shim.
    mkdir -p "$work/bin"
    cp "$exe" "$work/bin/teamotp.exe"
    x86_64-w64-mingw32-gcc -shared -o "$work/bin/bcryptprimitives.dll" scripts/wine/bcryptprimitives.c -ladvapi32
    # A fresh wine prefix: wine sets %APPDATA%, %LOCALAPPDATA% and %USERPROFILE% from it (whatever the Unix
    # environment says), so the Windows side starts with no config and no pins, like the Linux side's HOME.
    export WINEPREFIX=$work/wineprefix
    wineboot -i >/dev/null 2>&1 || true

    local fixtures=$root/tests/fixtures/age
    local at=1700000000 failed=0 count=0
    for side in linux windows; do
        mkdir -p "$work/$side/home" "$work/$side/out"
        cp "$fixtures"/{x25519.csv.age,x25519.key,multi.csv.age,id_ed25519} "$work/$side/"
        printf 'Acme:JBSWY3DPEHPK3PXP\nBeta:GEZDGNBVGY3TQOJQ\n' >"$work/$side/gauth.csv"
        chmod 600 "$work/$side/x25519.key" "$work/$side/id_ed25519"
    done

    # run NAME [ARGS...]: the same command on both sides, stdin from $input (empty by default).
    input=/dev/null
    run() {
        local name=$1
        shift
        count=$((count + 1))
        for side in linux windows; do
            local dir=$work/$side
            local -a cmd=("$linux")
            [ "$side" = windows ] && cmd=(wine "$work/bin/teamotp.exe")
            (
                cd "$dir"
                env -i PATH="$PATH" HOME="$dir/home" XDG_CONFIG_HOME="$dir/home/.config" \
                    XDG_STATE_HOME="$dir/home/.local/state" WINEPREFIX="$WINEPREFIX" \
                    WINEDEBUG="$WINEDEBUG" WINEDLLOVERRIDES="$WINEDLLOVERRIDES" \
                    USER=ci USERNAME=ci NO_COLOR=1 \
                    "${cmd[@]}" "$@" <"$input" >"out/$name.out" 2>"out/$name.err"
                echo $? >"out/$name.rc"
            ) || true
        done
        local l=$work/linux/out w=$work/windows/out verdict=equal
        if ! cmp -s "$l/$name.out" "$w/$name.out" || ! cmp -s "$l/$name.rc" "$w/$name.rc" ||
            ! cmp -s <(normalise <"$l/$name.err") <(normalise <"$w/$name.err"); then
            verdict=DIFFERENT
            failed=$((failed + 1))
            diff <(cat "$l/$name.rc" "$l/$name.out" "$l/$name.err") \
                <(cat "$w/$name.rc" "$w/$name.out" <(normalise <"$w/$name.err")) | head -20 || true
        fi
        printf 'cross-check:   %-22s exit %s, %5s stdout bytes: %s\n' "$name" "$(cat "$l/$name.rc")" \
            "$(wc -c <"$l/$name.out")" "$verdict"
    }

    run demo-list --demo list --at "$at"
    run demo-code --demo code "GitHub ops" --at "$at"
    run demo-check --demo check
    run x25519-list -f x25519.csv.age -i x25519.key list --at "$at"
    run x25519-json -f x25519.csv.age -i x25519.key list --format json --at "$at"
    run ssh-list -f multi.csv.age -i id_ed25519 list --at "$at"
    run ssh-check -f multi.csv.age -i id_ed25519 check
    run wrong-key -f x25519.csv.age -i id_ed25519 list --at "$at"
    # Writes: a new vault of our own (init records the pin), then add / rename / rm through the atomic write.
    where=1 run init -f team.age -i x25519.key init
    input=$work/secret
    printf 'JBSWY3DPEHPK3PXP\n' >"$input"
    run add -f team.age -i x25519.key add Gamma --issuer Example --at "$at"
    input=/dev/null
    run after-add -f team.age -i x25519.key list --at "$at"
    run rename -f team.age -i x25519.key rename Gamma Delta
    run after-rename -f team.age -i x25519.key list --at "$at"
    run rm -f team.age -i x25519.key rm -y Delta
    run after-rm -f team.age -i x25519.key list --at "$at"
    run import -f team.age -i x25519.key import gauth.csv
    run after-import -f team.age -i x25519.key list --at "$at"
    run export -f team.age -i x25519.key export --plaintext --format otpauth
    run export-csv -f team.age -i x25519.key export --plaintext --format csv
    run members -f team.age -i x25519.key members
    # Nothing left behind by the writes but the vault, its backup, recipients and (Windows) the lock file.
    ls -A "$work/windows" | grep -v -e '^out$' -e '^home$' >"$work/windows-files"
    if grep -q '\.tmp$' "$work/windows-files"; then
        echo "cross-check: a temporary directory was left behind:" >&2
        cat "$work/windows-files" >&2
        failed=$((failed + 1))
    fi
    done_step "smoke suite ($count commands, $failed different)"
    [ "$failed" -eq 0 ] || {
        echo "cross-check: $failed of $count smoke commands differ between Linux and Windows" >&2
        exit 1
    }
}

case $what in
all) macos && windows && smoke ;;
macos) macos ;;
windows) windows ;;
smoke) smoke ;;
*) echo "usage: $0 [all|macos|windows|smoke]" >&2 && exit 2 ;;
esac
echo "cross-check: ok ($what)"
