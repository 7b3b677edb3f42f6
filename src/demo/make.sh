#!/usr/bin/env bash
# Builds the teamotp demo vault with the real Go `age` CLI (Debian package: age):
#   - demo-identity.txt: age-keygen identity, created only if missing. It is a PUBLIC DEMO KEY,
#     published in the repository; it protects nothing.
#   - demo.csv.age: demo.csv encrypted (binary) to that identity's recipient; always rebuilt,
#     then verified by decrypting it back with `age -d`.
# Run: bash src/demo/make.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

for tool in age age-keygen cmp; do
    command -v "$tool" >/dev/null || { echo "make.sh: '$tool' not found" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if [[ ! -e demo-identity.txt ]]; then
    {
        echo '# teamotp PUBLIC DEMO KEY: published in the repository, protects nothing'
        age-keygen 2>/dev/null   # keeps its own "# created:" and "# public key:" lines
    } > "$TMP/demo-identity.txt"
    mv "$TMP/demo-identity.txt" demo-identity.txt
    echo "created demo-identity.txt"
fi
chmod 600 demo-identity.txt

RECIPIENT="$(age-keygen -y demo-identity.txt)"
age -r "$RECIPIENT" -o "$TMP/demo.csv.age" demo.csv
mv "$TMP/demo.csv.age" demo.csv.age

age -d -i demo-identity.txt -o "$TMP/out" demo.csv.age
cmp -s "$TMP/out" demo.csv || { echo "VERIFY FAILED: demo.csv.age does not decrypt to demo.csv" >&2; exit 1; }
echo "ok: demo.csv.age ($RECIPIENT) decrypts to demo.csv"
