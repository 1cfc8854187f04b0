#!/bin/sh
# Builds the libFuzzer fuzzers (the fuzz preset: clang, ASan + UBSan, in build-fuzz/) and runs each
# for SECONDS (default 20), starting from its seed corpus in tests/fuzz/corpus/. Fails when any
# fuzzer finds a crash, a leak, a hang (10 s for one input) or runs out of memory (2 GiB); the input
# is then in build-fuzz/fuzz-artifacts/FORMAT/. What the runs find beyond the seeds is kept in
# build-fuzz/fuzz-corpus/FORMAT/, never written into the repository. docs/FUZZING.md has more.
#   tools/fuzz.sh [SECONDS]     FUZZ_JOBS=N: build with N jobs (default 2)
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-20}
case $seconds in '' | *[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j"${FUZZ_JOBS:-2}" --target volt-fuzzers
failed=
for source in tests/fuzz/fuzz_*.cpp; do
  format=$(basename "$source" .cpp)
  format=${format#fuzz_}
  found=build-fuzz/fuzz-corpus/$format
  artifacts=build-fuzz/fuzz-artifacts/$format
  mkdir -p "$found" "$artifacts"
  echo "fuzz: $format for ${seconds}s"
  if ! build-fuzz/tests/fuzz/fuzz_"$format" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$found" "tests/fuzz/corpus/$format" >"build-fuzz/fuzz-$format.log" 2>&1; then
    echo "fuzz: $format FAILED; see build-fuzz/fuzz-$format.log and $artifacts/" >&2
    tail -n 30 "build-fuzz/fuzz-$format.log" >&2
    failed="$failed $format"
  else
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
