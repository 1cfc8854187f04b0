#!/usr/bin/env python3
"""Two volt-run binaries' `exec NAME -- /bin/true`, interleaved run by run, for before/after
comparisons of one change on one machine (docs/BENCHMARKS.md).

Usage: exec-ab.py OLD_VOLT_RUN NEW_VOLT_RUN NAME ITERATIONS   (VOLT_* from the environment)
"""
import statistics
import subprocess
import sys
import time

WARMUP = 10


def main():
    binaries = {"old": sys.argv[1], "new": sys.argv[2]}
    name, iterations = sys.argv[3], int(sys.argv[4])
    times = {k: [] for k in binaries}
    for i in range(iterations + WARMUP):
        for key, binary in binaries.items():
            start = time.perf_counter()
            subprocess.run([binary, "exec", name, "--", "/bin/true"], check=True)
            if i >= WARMUP:
                times[key].append((time.perf_counter() - start) * 1e6)
    for key in binaries:
        v = sorted(times[key])
        print("%s median %.0f p90 %.0f mean %.0f us" %
              (key, statistics.median(v), v[int(len(v) * 0.9)], statistics.mean(v)))
    print("new/old median %.3f" %
          (statistics.median(times["new"]) / statistics.median(times["old"])))


if __name__ == "__main__":
    main()
