#!/usr/bin/env python3
"""TUI benchmarks for teamotp (not part of CI; results go to docs/performance.md).

1. Start-up: time from spawning `teamotp -f VAULT -i KEY` in a pseudo-terminal (120x40) to the first
   complete frame (the footer line, drawn last, has arrived), with a 1,000-account X25519 vault.
2. Idle CPU: the TUI left alone for 60 s with the same vault; CPU = (utime + stime) from /proc/PID/stat.

Usage: benches/tui.py [--idle-seconds N] [--runs N]   (needs age-keygen and age: Debian package age)
"""
import argparse
import fcntl
import os
import pty
import secrets
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "teamotp")
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def make_vault(directory, accounts):
    key = os.path.join(directory, "key.txt")
    subprocess.run(["age-keygen", "-o", key], check=True, capture_output=True)
    os.chmod(key, 0o600)
    recipient = subprocess.run(["age-keygen", "-y", key], check=True, capture_output=True, text=True).stdout.strip()
    plain = "name,issuer,secret,digits,period,algorithm,type\n" + "".join(
        f"account-{i:04},Issuer {i % 17},{''.join(secrets.choice(B32) for _ in range(32))},,{30 if i % 3 else 60},,\n"
        for i in range(accounts)
    )
    vault = os.path.join(directory, "vault.csv.age")
    subprocess.run(["age", "-r", recipient, "-o", vault], input=plain.encode(), check=True)
    return vault, key


def spawn(vault, key, rows=40, cols=120):
    pid, fd = pty.fork()
    if pid == 0:
        env = {"HOME": "/nonexistent", "TERM": "xterm-256color", "PATH": "/usr/bin:/bin"}
        os.execve(BIN, [BIN, "-f", vault, "-i", key], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return pid, fd


def read_until(fd, marker, timeout=10.0):
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {marker!r} within {timeout}s; got {data[-200:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data += os.read(fd, 65536)
    return data


def drain(fd, seconds):
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def stop(pid, fd):
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    os.close(fd)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as directory:
        vault, key = make_vault(directory, 1000)
        startups = []
        for _ in range(args.runs):
            start = time.monotonic()
            pid, fd = spawn(vault, key)
            read_until(fd, b"quit")
            startups.append((time.monotonic() - start) * 1000)
            stop(pid, fd)
        startups.sort()
        print(f"start to first complete frame, 1,000-account X25519 vault, {args.runs} runs: "
              f"median {startups[len(startups) // 2]:.1f} ms, min {startups[0]:.1f} ms, max {startups[-1]:.1f} ms")

        pid, fd = spawn(vault, key)
        read_until(fd, b"quit")
        hz = os.sysconf("SC_CLK_TCK")
        before, t0 = cpu_ticks(pid), time.monotonic()
        drain(fd, args.idle_seconds)
        after, t1 = cpu_ticks(pid), time.monotonic()
        stop(pid, fd)
        cpu = (after - before) / hz
        print(f"idle for {t1 - t0:.1f} s: {cpu * 1000:.0f} ms CPU = {100 * cpu / (t1 - t0):.3f}% of one core")


if __name__ == "__main__":
    sys.exit(main())
