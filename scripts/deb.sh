#!/usr/bin/env bash
# Builds the Debian package into target/debian/: the one entry point (issue 15).
#
#   /usr/bin/teamotp                                   the release binary
#   /usr/share/man/man1/teamotp.1.gz                   `teamotp man --out-dir`, each page gzipped -9n:
#   /usr/share/man/man1/teamotp-COMMAND.1.gz           teamotp.1 and one page per command (teamotp-code.1,
#                                                      teamotp-members-add.1, ...)
#   /usr/share/bash-completion/completions/teamotp     `teamotp completions bash`
#   /usr/share/zsh/vendor-completions/_teamotp         `teamotp completions zsh`
#   /usr/share/fish/vendor_completions.d/teamotp.fish  `teamotp completions fish`
#   /usr/share/doc/teamotp/copyright                   machine-readable, MIT OR Apache-2.0
#   /usr/share/doc/teamotp/*.md                        docs/*.md (the man pages name them there)
#
# How: dpkg-deb from a staged tree (the default), or cargo-deb (`scripts/deb.sh --cargo-deb`, installed with
# `cargo install cargo-deb --locked` when missing). Measured on the 2-core machine (2026-11-29) with the
# release binary already built: dpkg-deb 2.5 s, nothing to install; cargo-deb 2.2 s, but installing it
# first took 1 min 48 s (beside other builds) in every CI run without a cache. Both hold the same
# files; CI uses dpkg-deb, the cheaper one.
#
# Usage: scripts/deb.sh [--cargo-deb]   prints the path of the .deb on stdout.
# TEAMOTP_DEB_BIN=PATH packs that binary instead of building the release one (to check the packaging
# quickly with a debug build; never for a release).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ -n "${TEAMOTP_DEB_BIN:-}" ]; then
    bin=$TEAMOTP_DEB_BIN
else
    cargo build --release --locked -q
    bin=$root/target/release/teamotp
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
out=$root/target/debian
mkdir -p "$out"

# The generated files, shared by both routes.
gen=$root/target/debian/generated
rm -rf "$gen"
mkdir -p "$gen"
mkdir -p "$gen/man"
"$bin" man --out-dir "$gen/man" >/dev/null
gzip -9n "$gen"/man/*.1
"$bin" completions bash >"$gen/teamotp.bash"
"$bin" completions zsh >"$gen/_teamotp"
"$bin" completions fish >"$gen/teamotp.fish"
cat >"$gen/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: teamotp
Source: https://github.com/teamotp/teamotp

Files: *
Copyright: teamotp contributors
License: MIT or Apache-2.0

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
 associated documentation files (the "Software"), to deal in the Software without restriction, including
 without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
 following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or substantial
 portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
 LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
 EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
 IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE
 USE OR OTHER DEALINGS IN THE SOFTWARE.

License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0 can be found in
 /usr/share/common-licenses/Apache-2.0.
EOF

if [ "${1:-}" = --cargo-deb ]; then
    command -v cargo-deb >/dev/null || cargo install cargo-deb --locked -q
    # The asset list lives in Cargo.toml's [package.metadata.deb].
    cargo deb --no-build --no-strip -q --output "$out" >/dev/null
    ls -t "$out"/teamotp_*.deb | head -1
    exit 0
fi

stage=$root/target/debian/stage
rm -rf "$stage"
install -D -m 755 "$bin" "$stage/usr/bin/teamotp"
for page in "$gen"/man/*.1.gz; do
    install -D -m 644 "$page" "$stage/usr/share/man/man1/$(basename "$page")"
done
install -D -m 644 "$gen/teamotp.bash" "$stage/usr/share/bash-completion/completions/teamotp"
install -D -m 644 "$gen/_teamotp" "$stage/usr/share/zsh/vendor-completions/_teamotp"
install -D -m 644 "$gen/teamotp.fish" "$stage/usr/share/fish/vendor_completions.d/teamotp.fish"
install -D -m 644 "$gen/copyright" "$stage/usr/share/doc/teamotp/copyright"
for doc in docs/*.md; do
    install -D -m 644 "$doc" "$stage/usr/share/doc/teamotp/$(basename "$doc")"
done
mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: teamotp
Version: $version
Architecture: $arch
Maintainer: teamotp contributors <teamotp@users.noreply.github.com>
Installed-Size: $size
Depends: libc6, libgcc-s1
Section: utils
Priority: optional
Homepage: https://github.com/teamotp/teamotp
Description: shared TOTP codes for teams
 An age-encrypted secrets file shared by a team, a live TUI with previous,
 current and next codes, and script-friendly commands.
EOF
deb=$out/teamotp_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
