#!/bin/sh
# Builds the libFuzzer fuzzers (the fuzz preset: clang, ASan + UBSan, in build-fuzz/) and runs each
# for SECONDS (default 20), starting from its seed corpus in tests/fuzz/corpus/, FUZZ_JOBS of them
# at a time (default 2; also the build's jobs). Fails when any fuzzer finds a crash, a leak, a hang
# (10 s for one input) or runs out of memory (2 GiB); the input is then in
# build-fuzz/fuzz-artifacts/FORMAT/. What the runs find beyond the seeds is kept in
# build-fuzz/fuzz-corpus/FORMAT/, never written into the repository. docs/FUZZING.md has more.
#   tools/fuzz.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-20}
case $seconds in '' | *[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
jobs=${FUZZ_JOBS:-2}
case $jobs in '' | 0 | *[!0-9]*) echo "fuzz: FUZZ_JOBS must be a positive number" >&2; exit 2 ;; esac
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j"$jobs" --target volt-fuzzers

formats=
for source in tests/fuzz/fuzz_*.cpp; do
  format=$(basename "$source" .cpp)
  formats="$formats ${format#fuzz_}"
done
# Each fuzzer in the background, `jobs` at a time; its exit status in build-fuzz/fuzz-FORMAT.rc.
running=0
for format in $formats; do
  mkdir -p "build-fuzz/fuzz-corpus/$format" "build-fuzz/fuzz-artifacts/$format"
  rm -f "build-fuzz/fuzz-$format.rc"
  echo "fuzz: $format for ${seconds}s"
  (
    rc=0
    build-fuzz/tests/fuzz/fuzz_"$format" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=1 -artifact_prefix="build-fuzz/fuzz-artifacts/$format/" \
      "build-fuzz/fuzz-corpus/$format" "tests/fuzz/corpus/$format" \
      >"build-fuzz/fuzz-$format.log" 2>&1 || rc=$?
    echo "$rc" >"build-fuzz/fuzz-$format.rc"
  ) &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait
    running=0
  fi
done
wait

failed=
for format in $formats; do
  if [ "$(cat "build-fuzz/fuzz-$format.rc" 2>/dev/null)" != 0 ]; then
    echo "fuzz: $format FAILED; see build-fuzz/fuzz-$format.log and build-fuzz/fuzz-artifacts/$format/" >&2
    tail -n 30 "build-fuzz/fuzz-$format.log" >&2
    failed="$failed $format"
  else
    printf '%s: ' "$format"
    grep -E '^#[0-9]+ +DONE|^stat::number_of_executed_units|^stat::average_exec_per_sec' \
      "build-fuzz/fuzz-$format.log" | tr '\n' ' '
    echo
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz: crashes in:$failed" >&2
  exit 1
fi
echo "fuzz: no crash in ${seconds}s per fuzzer"
