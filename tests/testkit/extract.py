#!/usr/bin/env python3
"""Extract the C2SP/CCTV age test vectors from the npm package `cctv-age` into tests/testkit/vectors/.

Usage:
    python3 tests/testkit/extract.py [PACKAGE_DIR]

PACKAGE_DIR is an unpacked `cctv-age` package (the directory holding index.js). Without it, the script
runs `npm pack cctv-age@0.2.0` in a temporary directory and unpacks the tarball there. The tarball (npm's
sha512 integrity) and index.js (SHA-256) are checked against pinned digests.

index.js embeds every vector as base64, each after a comment `// ../testdata/NAME`. Every vector is
written to vectors/NAME byte for byte, as published: the ones whose header says `compressed: zlib` keep
their compressed age file (everything after the first blank line), and the test decompresses it (three
of them are 16 MB once decompressed). Python standard library only.
"""

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "cctv-age"
VERSION = "0.2.0"
EXPECTED_COUNT = 143
# npm's dist.integrity for cctv-age 0.2.0, and the SHA-256 of the index.js it contains.
TARBALL_SHA512 = "1fiGAaWr+snqgu8+uCC7qPeApAuueOESET2npKe0FVLY+Huf+Kkia89Rybx/uoGNCml31SgAjiQIeFOY4K3New=="
INDEX_SHA256 = "3b795b89c8500746cdb23abf7176511683d31b5a50129676267aab2346bf161c"

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "vectors")

ENTRY = re.compile(
    r'^// \.\./testdata/([A-Za-z0-9_.-]+)\n'
    r'var [A-Za-z0-9_$]+ = __toBinary\("([A-Za-z0-9+/]*={0,2})"\);$',
    re.MULTILINE,
)


def fetch(workdir):
    """npm pack the package into workdir and unpack it; returns the package directory."""
    subprocess.run(
        ["npm", "pack", "--silent", f"{PACKAGE}@{VERSION}", "--pack-destination", workdir],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tarball = os.path.join(workdir, f"{PACKAGE}-{VERSION}.tgz")
    with open(tarball, "rb") as f:
        digest = base64.b64encode(hashlib.sha512(f.read()).digest()).decode()
    if digest != TARBALL_SHA512:
        sys.exit(f"{tarball}: sha512 {digest}, expected {TARBALL_SHA512}")
    with tarfile.open(tarball) as tar:
        if sys.version_info >= (3, 12):
            tar.extractall(workdir, filter="data")
        else:
            tar.extractall(workdir)
    return os.path.join(workdir, "package")


def check_package(package_dir):
    with open(os.path.join(package_dir, "package.json"), encoding="utf-8") as f:
        text = f.read()
    if f'"version": "{VERSION}"' not in text or f'"name": "{PACKAGE}"' not in text:
        sys.exit(f"{package_dir}: not {PACKAGE} {VERSION}")


def extract(package_dir):
    check_package(package_dir)
    with open(os.path.join(package_dir, "index.js"), "rb") as f:
        raw = f.read()
    if hashlib.sha256(raw).hexdigest() != INDEX_SHA256:
        sys.exit(f"{package_dir}/index.js: not the index.js of {PACKAGE} {VERSION}")
    source = raw.decode("ascii")
    markers = source.count("// ../testdata/")
    entries = ENTRY.findall(source)
    if len(entries) != markers:
        sys.exit(f"parsed {len(entries)} vectors but index.js has {markers} markers")
    if len(entries) != EXPECTED_COUNT:
        sys.exit(f"expected {EXPECTED_COUNT} vectors, found {len(entries)}")
    names = [name for name, _ in entries]
    if len(set(names)) != len(names):
        sys.exit("duplicate vector names")

    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    decompressed = []
    for name, encoded in entries:
        data = base64.b64decode(encoded, validate=True)
        if b"compressed: zlib" in data.partition(b"\n\n")[0].split(b"\n"):
            decompressed.append(name)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    written = len(os.listdir(OUT))
    assert written == EXPECTED_COUNT, written
    print(f"wrote {written} vectors to {OUT}")
    print(f"{len(decompressed)} vectors keep their zlib-compressed body: {' '.join(decompressed)}")


def main():
    if len(sys.argv) > 2:
        sys.exit(__doc__)
    if len(sys.argv) == 2:
        extract(sys.argv[1])
        return
    with tempfile.TemporaryDirectory() as workdir:
        extract(fetch(workdir))


if __name__ == "__main__":
    main()
