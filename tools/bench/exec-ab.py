#!/usr/bin/env python3
"""Two volt-run binaries' `exec NAME -- /bin/true`, interleaved run by run, for before/after
comparisons of one change on one machine (docs/BENCHMARKS.md).

Usage: exec-ab.py OLD_VOLT_RUN NEW_VOLT_RUN NAME ITERATIONS   (VOLT_* from the environment)
   or: exec-ab.py --side old=BINARY,DATA_DIR,NAME --side new=BINARY,DATA_DIR,NAME ITERATIONS
The second form gives each binary a data root of its own (DATA_DIR/root, /u, /n, /run as
VOLT_ROOT, VOLT_UNIT_DIR, VOLT_NSPAWN_DIR, VOLT_RUN_DIR) and a container booted by itself, for
when the two versions' runtime state differs (the new one's exec reads what its boot recorded).
"""
import os
import resource
import statistics
import subprocess
import sys
import time

WARMUP = 10


def parse(argv):
    """{label: (binary, environment, name)} and the number of iterations."""
    if argv and argv[0] == "--side":
        sides, rest = {}, list(argv)
        while rest and rest[0] == "--side":
            label, spec = rest[1].split("=", 1)
            binary, data, name = spec.split(",")
            env = dict(os.environ, VOLT_ROOT=data + "/root", VOLT_UNIT_DIR=data + "/u",
                       VOLT_NSPAWN_DIR=data + "/n", VOLT_RUN_DIR=data + "/run")
            sides[label] = (binary, env, name)
            rest = rest[2:]
        return sides, int(rest[0])
    return {"old": (argv[0], None, argv[2]), "new": (argv[1], None, argv[2])}, int(argv[3])


def main():
    sides, iterations = parse(sys.argv[1:])
    # Wall time from start to the reaped exit, and the CPU time (user + system) volt-run and
    # the command used: on a busy machine the second is far less noisy than the first.
    times = {k: [] for k in sides}
    cpu = {k: [] for k in sides}
    for i in range(iterations + WARMUP):
        for key, (binary, env, name) in sides.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([binary, "exec", name, "--", "/bin/true"], check=True, env=env)
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i >= WARMUP:
                times[key].append(elapsed * 1e6)
                cpu[key].append((after.ru_utime + after.ru_stime - before.ru_utime -
                                 before.ru_stime) * 1e6)
    for key in sides:
        v = sorted(times[key])
        print("%s median %.0f p90 %.0f mean %.0f us, cpu median %.0f mean %.0f us" %
              (key, statistics.median(v), v[int(len(v) * 0.9)], statistics.mean(v),
               statistics.median(cpu[key]), statistics.mean(cpu[key])))
    old, new = list(sides)[:2]
    print("%s/%s median %.3f, cpu mean %.3f" %
          (new, old, statistics.median(times[new]) / statistics.median(times[old]),
           statistics.mean(cpu[new]) / statistics.mean(cpu[old])))


if __name__ == "__main__":
    main()
