#!/usr/bin/env python3
"""Interleaved hyperfine rounds: the same commands measured in alternating order, their runs pooled.

    benches/interleave.py [--rounds N] [--runs N] BASELINE COMMAND [COMMAND ...]

hyperfine measures one command after the other, so on a small shared machine a change in load between
them shows up as a difference between the commands. Here each round runs every command (--runs times,
after a warmup), in forward order on even rounds and backward on odd ones, and the runs of all rounds are
pooled. Prints, per command: the median and minimum wall time of all runs, the median CPU time (user +
system) of the rounds, and the median's ratio to the first command's (BASELINE, e.g. `age -d ...`).

Needs hyperfine 1.13 or later (-N). Commands are run without a shell (hyperfine -N): quote each one as a
single argument. Not part of CI: the figures depend on the machine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="rounds (default 10)")
    parser.add_argument("--runs", type=int, default=20, help="runs per command and round (default 20)")
    parser.add_argument("commands", nargs="+", help="BASELINE COMMAND [COMMAND ...]")
    args = parser.parse_args()
    if len(args.commands) < 2:
        parser.error("give a baseline and at least one command")

    times = {c: [] for c in args.commands}
    cpu = {c: [] for c in args.commands}
    with tempfile.TemporaryDirectory() as work:
        export = os.path.join(work, "round.json")
        for round_ in range(args.rounds):
            order = args.commands if round_ % 2 == 0 else args.commands[::-1]
            for command in order:
                subprocess.run(
                    ["hyperfine", "-N", "--warmup", "3", "--runs", str(args.runs),
                     "--export-json", export, command],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                )
                with open(export, encoding="utf-8") as f:
                    result = json.load(f)["results"][0]
                times[command] += result["times"]
                cpu[command].append(result["user"] + result["system"])

    base = statistics.median(times[args.commands[0]])
    print(f"{args.rounds} rounds x {args.runs} runs, interleaved; times in ms")
    print(f"{'median':>8} {'min':>8} {'cpu':>8} {'ratio':>6}  command")
    for command in args.commands:
        median = statistics.median(times[command])
        print(f"{median * 1000:8.2f} {min(times[command]) * 1000:8.2f} "
              f"{statistics.median(cpu[command]) * 1000:8.2f} {median / base:6.2f}  {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
