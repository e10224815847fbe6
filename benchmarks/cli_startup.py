"""CLI start-up: wall time of ``infercost --help`` (and a few other cheap commands) beside
``python -c pass`` in the same run, each started as a fresh process.

``infercost --help`` lists every command from ``infercost.cli.COMMANDS`` without importing a
command module (numpy, plotly, ibis and the library stay unloaded); a command imports its own
module only when it runs. Before lazy loading (commit 0d31bcf) ``--help`` imported everything:
about 0.5 s on an idle 2-core machine, 2.2 s on a loaded one.

Run: python benchmarks/cli_startup.py [--repeats 15]
Target (issue 15): ``infercost --help`` <= 0.2 s on 2 cores; the ratio to ``python -c pass``
shows what is infercost's own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

TARGET_S = 0.2

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import typer'": [sys.executable, "-c", "import typer"],
    "infercost --help": [sys.executable, "-m", "infercost", "--help"],
    "infercost --version": [sys.executable, "-m", "infercost", "--version"],
    "infercost completion bash": [sys.executable, "-m", "infercost", "completion", "bash"],
    "infercost predict --help": [sys.executable, "-m", "infercost", "predict", "--help"],
}


def wall_s(argv: list[str]) -> float:
    """Seconds from spawn to exit of one process (output discarded)."""
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}; {args.repeats} runs each, interleaved; median (min)")
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for argv in COMMANDS.values():  # warm the file cache once
        wall_s(argv)
    for _ in range(args.repeats):
        for name, argv in COMMANDS.items():
            times[name].append(wall_s(argv))
    base = statistics.median(times["python -c pass"])
    for name, t in times.items():
        med = statistics.median(t)
        print(f"{name:28s} {med * 1e3:7.0f} ms ({min(t) * 1e3:5.0f})  x{med / base:5.1f} of pass")
    help_s = statistics.median(times["infercost --help"])
    verdict = "meets" if help_s <= TARGET_S else "misses"
    print(f"infercost --help: {help_s:.3f} s, {verdict} the {TARGET_S} s target")


if __name__ == "__main__":
    main()
