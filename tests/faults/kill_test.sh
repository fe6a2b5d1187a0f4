#!/usr/bin/env bash
# The fault test of train_lenet: a run killed with SIGKILL at random moments and resumed each time, and runs
# stopped by SIGTERM and by SIGINT and resumed, must all end with bitwise the weights, optimizer state,
# metrics and summary of an uninterrupted run.
#
# usage: kill_test.sh TRAIN_LENET EVALUATE_LENET FAULT_FIXTURE WORK_DIR [SEED] [KILLS] [SAMPLES] [EPOCHS]
#
# Defaults: 8 kills, 512 samples, 12 epochs (the SGD run 2 fewer); about 10 s in a Release build. The
# sanitizer build passes a smaller run (its point there is that no kill or resume trips a sanitizer).
# The random delays come from bash's RANDOM seeded with SEED, so a run repeats its schedule (where the kills
# land still depends on the machine's speed). After every kill the checkpoint left behind must load
# (evaluate_lenet reads it). Prints "N passed, 0 failed" and the kills survived at the end.
set -euo pipefail

train=$1 evaluate=$2 fixture=$3 work=$4
seed=${5:-20250601}
kills=${6:-8}
samples=${7:-512}
epochs=${8:-12}
every=$((samples / 64 > 2 ? samples / 64 : 2))  # checkpoints every quarter epoch (batches of 16)

fail() {
  echo "kill_test: FAIL: $*" >&2
  for log in "$work"/*.log; do
    [ -f "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 5 "$log" >&2; }
  done
  exit 1
}

rm -rf "$work"
mkdir -p "$work"
"$fixture" dataset "$work/data" "$samples" 5

# Two configs: the paper's variant with Adam and a cosine schedule, and the modern one with Nesterov SGD and
# a step schedule; both checkpoint every epoch and every quarter epoch.
cat >"$work/adam.json" <<EOF
{
  "model": {"variant": "lecun1998"},
  "data": {"dir": "$work/data"},
  "train": {"epochs": $epochs, "batch_size": 16, "seed": 7, "threads": 1,
            "optimizer": {"name": "adam", "lr": 0.003}, "schedule": {"name": "cosine", "min_lr": 0.0001}},
  "output": {"progress": "lines", "checkpoint_every": 1, "checkpoint_every_batches": $every}
}
EOF
cat >"$work/sgd.json" <<EOF
{
  "model": {"variant": "modern"},
  "data": {"dir": "$work/data"},
  "train": {"epochs": $((epochs > 3 ? epochs - 2 : epochs)), "batch_size": 16, "seed": 3, "threads": 1,
            "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": true},
            "schedule": {"name": "step", "step_size": 3, "gamma": 0.5}},
  "output": {"progress": "lines", "checkpoint_every": 1, "checkpoint_every_batches": $every}
}
EOF

now_ms() { date +%s%3N; }

# Runs CONFIG uninterrupted into DIR; prints its duration in milliseconds.
reference() {
  local config=$1 dir=$2 start
  start=$(now_ms)
  "$train" --config "$config" --set output.dir="$dir" >"$dir.log" 2>&1 || fail "the reference run $dir failed"
  echo $(($(now_ms) - start))
}

# Compares the run in DIR with the reference run REF: checkpoint bytes, metrics without timings, summary.
same_as_reference() {
  local ref=$1 dir=$2 strip='s/"(samples_per_second|seconds)":[^,}]*,?//g'
  cmp -s "$ref/checkpoint.bin" "$dir/checkpoint.bin" || {
    "$fixture" same-weights "$ref/checkpoint.bin" "$dir/checkpoint.bin" || true
    fail "$dir/checkpoint.bin differs from the uninterrupted run's $ref/checkpoint.bin"
  }
  diff <(sed -E "$strip" "$ref/metrics.jsonl") <(sed -E "$strip" "$dir/metrics.jsonl") >&2 ||
    fail "$dir/metrics.jsonl differs from $ref/metrics.jsonl (timings aside)"
  cmp -s "$ref/summary.json" "$dir/summary.json" || fail "$dir/summary.json differs from $ref/summary.json"
}

# Fails unless the checkpoint in DIR (when there is one) loads: a kill must never leave a torn file.
checkpoint_loads() {
  local dir=$1
  [ -e "$dir/checkpoint.bin" ] || return 0
  "$evaluate" --run "$dir" >"$dir.eval.log" 2>&1 || fail "after a kill, $dir/checkpoint.bin does not load: $(cat "$dir.eval.log")"
  sed -n 's/^checkpoint: .*(epoch \([0-9]*\))$/\1/p' "$dir.eval.log"
}

passed=0
RANDOM=$seed

# ----- SIGKILL at random moments, resumed each time ---------------------------------------------------------
ref_ms=$(reference "$work/adam.json" "$work/reference_adam")
# Delays up to 1.5 times an even share of the run: the kills spread over the whole run, including start-up,
# data loading, the middle of a checkpoint write and the end of the run.
max_delay=$((ref_ms * 3 / (2 * kills)))
[ "$max_delay" -lt 200 ] && max_delay=200
run=$work/killed
landed=0 lives=0
while :; do
  lives=$((lives + 1))
  [ "$lives" -le $((kills * 4)) ] || fail "the killed run did not finish in $lives lives"
  if [ "$landed" -ge "$kills" ]; then delay=0; else delay=$((50 + RANDOM % max_delay)); fi
  if [ -e "$run/checkpoint.bin" ]; then
    "$train" --resume "$run" >>"$run.log" 2>&1 &
  else
    "$train" --config "$work/adam.json" --set output.dir="$run" >>"$run.log" 2>&1 &
  fi
  pid=$!
  if [ "$delay" -eq 0 ]; then
    wait "$pid" || fail "the last resume of the killed run failed (status $?)"
    break
  fi
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -KILL "$pid" 2>/dev/null || true
  status=0
  { wait "$pid"; } 2>/dev/null || status=$?  # (quiet: bash would report "Killed")
  if [ "$status" -eq 0 ]; then break; fi  # it finished before the kill
  [ "$status" -eq 137 ] || fail "the killed run exited with status $status, not 137 (SIGKILL)"
  landed=$((landed + 1))
  epoch=$(checkpoint_loads "$run")
  if [ -n "$epoch" ]; then where="a checkpoint after epoch $epoch loads"; else where="no checkpoint yet"; fi
  echo "kill_test: SIGKILL $landed after ${delay} ms: $where"
done
same_as_reference "$work/reference_adam" "$run"
echo "kill_test: $landed SIGKILLs survived (seed $seed, delays up to ${max_delay} ms, reference ${ref_ms} ms): final weights bitwise equal"
passed=$((passed + 1))

# ----- SIGTERM and SIGINT: status 3, a checkpoint, and a resume that ends where the reference does ----------
ref_ms=$(reference "$work/sgd.json" "$work/reference_sgd")
for signal in TERM INT; do
  run=$work/stopped_$signal
  delay=$((ref_ms * (25 + RANDOM % 40) / 100))
  for attempt in 1 2 3; do
    rm -rf "$run"
    "$train" --config "$work/sgd.json" --set output.dir="$run" >"$run.log" 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -"$signal" "$pid" 2>/dev/null || true  # (it may have finished already: tried again below)
    status=0
    wait "$pid" || status=$?
    [ "$status" -ne 0 ] && break
    delay=$((delay / 2))  # the machine ran faster than the reference: signal earlier
  done
  [ "$status" -eq 3 ] || fail "after SIG$signal train_lenet exited with status $status, not 3"
  grep -q -- "--resume continues" "$run.log" || grep -q "^epoch" "$run.log" || fail "no stop message in $run.log"
  [ -e "$run/checkpoint.bin" ] || fail "SIG$signal left no checkpoint in $run"
  epoch=$(checkpoint_loads "$run")
  "$train" --resume "$run" >>"$run.log" 2>&1 || fail "resuming after SIG$signal failed"
  same_as_reference "$work/reference_sgd" "$run"
  echo "kill_test: SIG$signal after ${delay} ms: status 3, a checkpoint after epoch $epoch loads, resumed: final weights bitwise equal"
  passed=$((passed + 1))
done

# A sanitizer report in any run (the sanitizer build) fails the test, even when the run's status looked right.
if grep -l -E "AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:" "$work"/*.log; then
  fail "a sanitizer report in the logs above"
fi
rm -rf "$work"
echo "kill_test: SIGKILLs survived: $landed; SIGTERM and SIGINT stops resumed: 2"
echo "$passed passed, 0 failed"
