#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and types $BENCH_PASSPHRASE at every passphrase prompt (for the
agent benchmark: `teamotp unlock`, and reading a passphrase vault without the agent). Output is dropped;
the exit code is the command's."""
import os
import pty
import select
import sys

passphrase = os.environ["BENCH_PASSPHRASE"].encode() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen = b""
while True:
    try:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen = (seen + data)[-200:]
    if seen.rstrip().endswith(b":") and b"assphrase" in seen.lower():
        os.write(fd, passphrase)
        seen = b""
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
