#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (in build-fuzz/) and runs each for a bounded time,
# printing its execution count. A crashing input is copied to fuzz/regressions/<target>/ (where the normal
# test suite replays it from then on, see tests/fuzz_regressions), printed in base64, and the script fails.
#
# usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     (default: 30 s, targets config and idx)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(config idx)

# Debian's clang and its libFuzzer runtime, installed like the rest of the toolchain.
bash scripts/setup.sh clang libclang-rt-14-dev
build=build-fuzz
cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

# The targets run side by side (one core each); then each reports.
pids=()
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  artifacts=$build/artifacts/$target
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts" "fuzz/regressions/$target"
  cp -n fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=16384
           -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -f "fuzz/$target.dict" ] && options+=(-dict="fuzz/$target.dict")
  # The working corpus grows in build-fuzz; the seeds and the kept regressions are read as well.
  ( rc=0
    "./$build/fuzz_$target" "${options[@]}" "$corpus" "fuzz/corpus/$target" "fuzz/regressions/$target" \
      >"$build/$target.log" 2>&1 || rc=$?
    echo "$rc" >"$build/$target.status" ) &
  pids+=($!)
done
wait "${pids[@]}"

status=0
for target in "${targets[@]}"; do
  log=$build/$target.log
  artifacts=$build/artifacts/$target
  rc=$(cat "$build/$target.status")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  inputs=$(find "$build/corpus/$target" -type f | wc -l)
  echo "fuzz: fuzz_$target: ${runs:-?} executions in ${seconds} s, corpus ${inputs} inputs, exit status $rc"
  crashes=$(find "$artifacts" -type f)
  if [ "$rc" -ne 0 ] || [ -n "$crashes" ]; then
    status=1
    tail -n 40 "$log"
    for crash in $crashes; do
      kept=fuzz/regressions/$target/$(basename "$crash")
      cp "$crash" "$kept"
      echo "fuzz: fuzz_$target: crashing input kept as $kept (base64 below; replay: ./$build/fuzz_$target $kept)"
      base64 "$crash"
    done
  fi
done
exit $status
