#!/usr/bin/env bash
# Regenerates tests/data/oathtool.tsv using ONLY oathtool (OATH Toolkit) as
# the source of truth, and checks tests/data/rfc6238.tsv against oathtool.
# Nothing here runs teamotp code.
#
# Usage: bash tests/data/make-oathtool.sh     (from anywhere)
# Needs: oathtool (Debian package "oathtool"), coreutils (base32).
#
# Table format: see tests/data/README.md. In the `pasted` column a TAB
# character is written as the two characters `\t` (backslash, t) so the table
# stays tab-separated; no other escapes exist and no other backslash occurs.
set -euo pipefail
export LC_ALL=C TZ=UTC

cd "$(dirname "${BASH_SOURCE[0]}")"
OUT=oathtool.tsv
RFC=rfc6238.tsv

command -v oathtool >/dev/null || { echo "oathtool not found (apt-get install oathtool)" >&2; exit 1; }

# ---------------------------------------------------------------- keys ------
# 80-bit (10 bytes: "Hello!" de ad be ef), no padding needed.
K80=JBSWY3DPEHPK3PXP
# 128-bit (16 bytes: "helloworldaseres"), canonical form needs 6 '='.
# Its last char carries 2 unused low bits (M = 01100 -> canonical).
K128=NBSWY3DPO5XXE3DEMFZWK4TFOM
# 72-bit (9 bytes: 48656c6c6f21deadbe), canonical form needs 1 '='.
# Its last char carries 3 unused low bits (Q = 10000 -> canonical).
K72=JBSWY3DPEHPK3PQ
# 160-bit (20 bytes: sha1("teamotp test key 160")), no padding needed.
K160=KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP
# 512-bit (64 bytes: sha512("teamotp test key 512")), canonical form needs 1 '='.
K512=NS5VVDQ2TCFVW6FNA6APUY64AFEZRUKWGKQBCIV3IQQNP4RNOMGMZ6C76ZNSYG3JXG5AF7RRJRU33737GBJLDTIE2MLHVG6OCFLTEMY

# ------------------------------------------------------------- helpers ------
# Canonical form given to oathtool: uppercase; drop spaces, tabs, hyphens, '='.
canon() {
    printf '%s' "$1" | tr -d ' \t=-' | tr a-z A-Z
}

# otp ALG DIGITS PERIOD TIME CANON -> prints the code (zero-padded by oathtool)
otp() {
    local alg=$1 digits=$2 period=$3 t=$4 key=$5 code
    if (( t < 0 )); then
        echo "negative time $t (alg=$alg period=$period); oathtool cannot express it" >&2
        exit 1
    fi
    code=$(oathtool --totp="$alg" -b --digits="$digits" \
        --time-step-size="${period}s" --now="@$t" -- "$key")
    if ! [[ $code =~ ^[0-9]{$digits}$ ]]; then
        echo "unexpected oathtool output '$code' for $alg/$digits/$period/@$t" >&2
        exit 1
    fi
    printf '%s' "$code"
}

# Dump the key bytes as oathtool decoded them (for the self-checks below).
otp_hex() {
    oathtool --totp -b -v --now=@0 -- "$1" | sed -n 's/^Hex secret: //p'
}

TMP=$(mktemp "$OUT.XXXXXX")
trap 'rm -f "$TMP"' EXIT
printf 'pasted\talgorithm\tdigits\tperiod\ttime\tprev\tcurr\tnext\n' >"$TMP"
ROWS=0

# row PASTED ALG DIGITS PERIOD TIME
row() {
    local pasted=$1 alg=$2 digits=$3 period=$4 t=$5 key field
    case $pasted in
        *\\* | *$'\n'* | *$'\r'*) echo "pasted value must not contain \\, CR or LF: $pasted" >&2; exit 1 ;;
    esac
    key=$(canon "$pasted")
    field=${pasted//$'\t'/\\t}
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$field" "$alg" "$digits" "$period" "$t" \
        "$(otp "$alg" "$digits" "$period" $((t - period)) "$key")" \
        "$(otp "$alg" "$digits" "$period" "$t" "$key")" \
        "$(otp "$alg" "$digits" "$period" $((t + period)) "$key")" >>"$TMP"
    ROWS=$((ROWS + 1))
}

# ---------------------------------------------------------------- rows ------
# 1. Pasted variants of the 80-bit key; all rows share the same codes.
for p in \
    "$K80" \
    "jbswy3dpehpk3pxp" \
    "JbSwY3dPeHpK3pXp" \
    "jbsw y3dp ehpk 3pxp" \
    "JBSW Y3DP EHPK 3PXP" \
    "JBSW-Y3DP-EHPK-3PXP" \
    $'JBSW\tY3DP\tEHPK\t3PXP' \
    "jbsw-y3dp ehpk-3pxp" \
    "${K80}===="; do
    row "$p" SHA1 6 30 1234567890
done

# 2. Pasted variants of the 128-bit key: padding and non-canonical trailing
#    bits (…ON / …OP differ from canonical …OM only in the 2 unused bits).
for p in \
    "$K128" \
    "${K128}======" \
    "nbswy3dpo5xxe3demfzwk4tfom======" \
    "${K128}==========" \
    "NBSWY3DPO5XXE3DEMFZWK4TFON" \
    "NBSWY3DPO5XXE3DEMFZWK4TFOP" \
    "nbswy3dpo5xxe3demfzwk4tfon======" \
    "nbsw y3dp o5xx e3de mfzw k4tf on"; do
    row "$p" SHA1 6 30 1111111109
done

# 3. 72-bit key: canonical with correct padding vs non-canonical (…PX has
#    the 3 unused bits set), no padding.
row "${K72}=" SHA256 8 60 2000000000
row "JBSWY3DPEHPK3PX" SHA256 8 60 2000000000

# 4. Pasted variants of the 64-byte key.
K512_GROUPED_LOWER=$(printf '%s=' "${K512,,}" | sed 's/..../& /g; s/ $//')
K512_GROUPED_HYPHEN=$(printf '%s' "$K512" | sed 's/..../&-/g; s/-$//')
for p in "${K512}=" "$K512" "$K512_GROUPED_LOWER" "$K512_GROUPED_HYPHEN"; do
    row "$p" SHA512 8 30 2000000000
done

# 5. Algorithm x digits x period sweep, 160-bit key (Google-style lowercase
#    groups of 4 for some rows). Period 60 is not used at time 59 (prev < 0).
K160_GROUPED_LOWER=$(printf '%s' "${K160,,}" | sed 's/..../& /g; s/ $//')
while read -r alg digits period t; do
    row "$K160" "$alg" "$digits" "$period" "$t"
done <<'EOF'
SHA1   6 30 59
SHA1   7 15 1111111109
SHA1   8 60 1234567890
SHA1   6 15 2000000000
SHA1   8 30 20000000000
SHA256 6 30 59
SHA256 8 15 1111111109
SHA256 7 60 1234567890
SHA256 6 60 2000000000
SHA256 7 30 20000000000
SHA512 8 30 59
SHA512 6 15 1111111109
SHA512 7 30 1234567890
SHA512 8 60 2000000000
SHA512 6 15 20000000000
EOF
row "$K160_GROUPED_LOWER" SHA1 6 30 2000000000
row "$K160_GROUPED_LOWER" SHA256 8 30 1111111109

# 6. Other keys across algorithms.
row "$K80" SHA1 6 30 59
row "$K80" SHA256 6 15 59
row "$K80" SHA256 7 30 1111111109
row "$K80" SHA512 6 60 20000000000
row "$K80" SHA1 8 15 2000000000
row "${K512}=" SHA1 6 30 59
row "${K512}=" SHA256 7 60 1234567890

# 7. Period boundaries around 1700000040 (a multiple of 15, 30 and 60).
for t in 1700000039 1700000040 1700000041; do
    row "$K160" SHA1 6 30 "$t"
    row "$K160" SHA1 6 60 "$t"
    row "$K80" SHA256 7 30 "$t"
    row "${K512}=" SHA512 8 60 "$t"
    row "$K160" SHA512 7 15 "$t"
done

# ---------------------------------------------------------- self-checks ------
# oathtool ignores non-canonical trailing bits; make sure that still holds,
# otherwise the non-canonical rows above would be computed from other bytes.
for pair in "NBSWY3DPO5XXE3DEMFZWK4TFON $K128" "NBSWY3DPO5XXE3DEMFZWK4TFOP $K128" "JBSWY3DPEHPK3PX $K72"; do
    read -r nc c <<<"$pair"
    if [[ $(otp_hex "$nc") != "$(otp_hex "$c")" ]]; then
        echo "oathtool decodes $nc differently from $c; recompute those rows from the canonical key" >&2
        exit 1
    fi
done
[[ $(otp_hex "$K80") == 48656c6c6f21deadbeef ]] || { echo "K80 decodes wrongly" >&2; exit 1; }
[[ $(otp_hex "$K128") == "$(printf helloworldaseres | od -An -tx1 | tr -d ' \n')" ]] || { echo "K128 decodes wrongly" >&2; exit 1; }
[[ $(otp_hex "$K512" | wc -c) -eq 129 ]] || { echo "K512 is not 64 bytes" >&2; exit 1; }
[[ $(otp_hex "$K160" | wc -c) -eq 41 ]] || { echo "K160 is not 20 bytes" >&2; exit 1; }

# Every row must have exactly 8 fields.
awk -F'\t' 'NF != 8 { printf "line %d has %d fields\n", NR, NF; bad = 1 } END { exit bad }' "$TMP" >&2

chmod 644 "$TMP"
mv "$TMP" "$OUT"
trap - EXIT
echo "wrote $OUT: $ROWS rows (+ header)"

# ------------------------------------------ verify rfc6238.tsv (not written) --
# rfc6238.tsv is hand-copied from RFC 6238 Appendix B; check it against
# oathtool and check that secret_base32 is the base32 of secret_ascii.
if [[ -f $RFC ]]; then
    n=0
    {
        IFS= read -r header
        [[ $header == $'time\talgorithm\tsecret_ascii\tsecret_base32\tcode' ]] || { echo "$RFC: bad header" >&2; exit 1; }
        while IFS=$'\t' read -r t alg ascii b32 code; do
            [[ $(printf '%s' "$ascii" | base32 -w0) == "$b32" ]] || { echo "$RFC: base32 mismatch for $ascii" >&2; exit 1; }
            got=$(otp "$alg" 8 30 "$t" "$(canon "$b32")")
            [[ $got == "$code" ]] || { echo "$RFC: $alg @$t: RFC says $code, oathtool says $got" >&2; exit 1; }
            n=$((n + 1))
        done
    } <"$RFC"
    echo "checked $RFC: $n vectors agree with oathtool"
fi
