#!/usr/bin/env python3
"""Any commands, run in turn N times each after 10 warm-up rounds, for side-by-side timings of
one machine's moment (docs/BENCHMARKS.md). Reports each command's wall time (p50, p90) and its
children's CPU time (user + system, from getrusage), and each p50 over the first command's.

Usage: interleave.py N LABEL=COMMAND...   (COMMAND split on spaces; no shell)
"""
import resource
import statistics
import subprocess
import sys
import time

WARMUP = 10


def main():
    n = int(sys.argv[1])
    sides = [arg.split("=", 1) for arg in sys.argv[2:]]
    wall = {label: [] for label, _ in sides}
    cpu = {label: [] for label, _ in sides}
    for i in range(n + WARMUP):
        for label, command in sides:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command.split(), check=True)
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i >= WARMUP:
                wall[label].append(elapsed * 1e6)
                cpu[label].append((after.ru_utime + after.ru_stime - before.ru_utime -
                                   before.ru_stime) * 1e6)
    first = statistics.median(wall[sides[0][0]])
    for label, _ in sides:
        v = sorted(wall[label])
        print("%-10s wall p50 %6.0f p90 %6.0f us  cpu mean %6.0f us  p50 / first's %.3f" %
              (label, statistics.median(v), v[int(len(v) * 0.9)], statistics.mean(cpu[label]),
               statistics.median(v) / first))


if __name__ == "__main__":
    main()
