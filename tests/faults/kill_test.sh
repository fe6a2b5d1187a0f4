#!/usr/bin/env bash
# The fault test of train_lenet: a run killed with SIGKILL at random moments and resumed each time, and runs
# stopped by SIGTERM and by SIGINT and resumed, must all end with bitwise the weights, optimizer state,
# metrics and summary of an uninterrupted run. Also: two runs racing for one output folder (one is refused, the
# other's run is bitwise the uninterrupted one), a stopped run resumed with another train.batch_size (refused
# within an epoch, the next epoch started with it at an epoch's end), and SIGTERM in the first moments of a run
# (honoured at once: nothing trained, or a checkpoint written).
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

# Compares the run in DIR with the reference run REF: checkpoint bytes, metrics and summary without timings.
same_as_reference() {
  local ref=$1 dir=$2 strip='s/"(samples_per_second|seconds|eval_seconds)":[^,}]*,?//g'
  cmp -s "$ref/checkpoint.bin" "$dir/checkpoint.bin" || {
    "$fixture" same-weights "$ref/checkpoint.bin" "$dir/checkpoint.bin" || true
    fail "$dir/checkpoint.bin differs from the uninterrupted run's $ref/checkpoint.bin"
  }
  diff <(sed -E "$strip" "$ref/metrics.jsonl") <(sed -E "$strip" "$dir/metrics.jsonl") >&2 ||
    fail "$dir/metrics.jsonl differs from $ref/metrics.jsonl (timings aside)"
  diff <(grep -v '"time_to_target"' "$ref/summary.json") <(grep -v '"time_to_target"' "$dir/summary.json") >&2 ||
    fail "$dir/summary.json differs from $ref/summary.json (time_to_target aside)"
}

# Fails unless the checkpoint in DIR (when there is one) loads: a kill must never leave a torn file.
checkpoint_loads() {
  local dir=$1
  [ -e "$dir/checkpoint.bin" ] || return 0
  "$evaluate" --run "$dir" >"$dir.eval.log" 2>&1 || fail "after a kill, $dir/checkpoint.bin does not load: $(cat "$dir.eval.log")"
  sed -n 's/^checkpoint: .*(epoch \([0-9]*\))$/\1/p' "$dir.eval.log"
}

# Resumes a copy of the stopped run DIR with another train.batch_size: within an epoch it must be refused
# (status 2, naming the key, the checkpoint untouched); at an epoch's end it must start the next epoch with it and
# say so. DIR itself is left to be resumed as it was.
other_batch_size() {
  local dir=$1 copy=$1_batch_size status=0
  rm -rf "$copy"
  cp -r "$dir" "$copy"
  "$train" --resume "$copy" --set train.batch_size=32 >"$copy.log" 2>&1 || status=$?
  if grep -q "^stopped after batch" "$dir.log"; then
    [ "$status" -eq 2 ] || fail "a mid-epoch resume with another batch size exited with $status, not 2"
    grep -q "train_lenet: train.batch_size: .* was written in the middle of epoch" "$copy.log" ||
      fail "a mid-epoch resume with another batch size gave no message: $(cat "$copy.log")"
    cmp -s "$dir/checkpoint.bin" "$copy/checkpoint.bin" || fail "the refused resume changed the checkpoint"
    echo "kill_test: resumed with another batch size in the middle of an epoch: refused, checkpoint intact"
  else
    [ "$status" -eq 0 ] || fail "an epoch-end resume with another batch size exited with $status"
    grep -q "note: train.batch_size was 16 when .* is 32 now: epoch [0-9]* starts with 32" "$copy.log" ||
      fail "an epoch-end resume with another batch size did not say so: $(cat "$copy.log")"
    echo "kill_test: resumed with another batch size at an epoch's end: the next epoch started with it"
  fi
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
  for attempt in 1 2 3 4; do
    rm -rf "$run"
    "$train" --config "$work/sgd.json" --set output.dir="$run" >"$run.log" 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -"$signal" "$pid" 2>/dev/null || true  # (it may have finished already: tried again below)
    status=0
    wait "$pid" || status=$?
    case $status in
      0) delay=$((delay / 2)) ;;  # the machine ran faster than the reference: signal earlier
      130 | 143)  # still setting up (slow under the sanitizers): honoured before training; signal later
        grep -q "before training; nothing was trained and no checkpoint was written" "$run.log" ||
          fail "SIG$signal before training: status $status without its message: $(cat "$run.log")"
        delay=$((delay * 3 / 2)) ;;
      *) break ;;
    esac
  done
  [ "$status" -eq 3 ] || fail "after SIG$signal train_lenet exited with status $status, not 3"
  grep -q -- "--resume continues" "$run.log" || grep -q "^epoch" "$run.log" || fail "no stop message in $run.log"
  [ -e "$run/checkpoint.bin" ] || fail "SIG$signal left no checkpoint in $run"
  epoch=$(checkpoint_loads "$run")
  other_batch_size "$run"
  "$train" --resume "$run" >>"$run.log" 2>&1 || fail "resuming after SIG$signal failed"
  same_as_reference "$work/reference_sgd" "$run"
  echo "kill_test: SIG$signal after ${delay} ms: status 3, a checkpoint after epoch $epoch loads, resumed: final weights bitwise equal"
  passed=$((passed + 1))
done

# ----- two writers racing for one output folder ------------------------------------------------------------
# Both start at once; the lock admits one, the other is refused with a message (or, when it starts after the
# first has finished, told that the folder holds a run). The winner's run must be bitwise the reference.
for round in 1 2; do
  run=$work/raced_$round
  "$train" --config "$work/adam.json" --set output.dir="$run" >"$run.a.log" 2>&1 & pid_a=$!
  "$train" --config "$work/adam.json" --set output.dir="$run" >"$run.b.log" 2>&1 & pid_b=$!
  status_a=0 status_b=0
  wait "$pid_a" || status_a=$?
  wait "$pid_b" || status_b=$?
  if [ "$status_a" -eq 0 ]; then loser=$run.b.log status=$status_b; else loser=$run.a.log status=$status_a; fi
  [ "$status_a" -eq 0 ] || [ "$status_b" -eq 0 ] || fail "neither of two racing runs finished ($status_a, $status_b)"
  if [ "$status" -eq 1 ]; then
    grep -q "is in use by another process" "$loser" || fail "the refused writer gave no lock message: $(cat "$loser")"
  elif [ "$status" -eq 2 ]; then
    grep -q "already holds a run" "$loser" || fail "the late writer gave no message: $(cat "$loser")"
  else
    fail "two runs were both accepted for one output folder (statuses $status_a and $status_b)"
  fi
  ls "$run" | grep -q '\.tmp$' && fail "temporary files left in $run: $(ls "$run")"
  same_as_reference "$work/reference_adam" "$run"
  echo "kill_test: two writers, round $round: one refused (status $status), the other's run bitwise equal"
  passed=$((passed + 1))
done

# ----- SIGTERM in the first moments: honoured at once -------------------------------------------------------
for attempt in 1 2 3; do
  run=$work/early_$attempt
  delay=$((RANDOM % 40))
  "$train" --config "$work/sgd.json" --set output.dir="$run" >"$run.log" 2>&1 & pid=$!
  sleep "$(printf '0.%03d' "$delay")"
  kill -TERM "$pid" 2>/dev/null || true
  status=0
  wait "$pid" || status=$?
  case $status in
    143) grep -q "nothing was trained and no checkpoint was written" "$run.log" || [ ! -s "$run.log" ] ||
           fail "SIGTERM after $delay ms: status 143 without its message: $(cat "$run.log")"
         [ ! -e "$run/checkpoint.bin" ] || fail "SIGTERM after $delay ms: status 143, yet a checkpoint" ;;
    3) checkpoint_loads "$run" >/dev/null ;;
    *) fail "SIGTERM after $delay ms: status $status, not 143 (nothing trained) or 3 (checkpointed)" ;;
  esac
  echo "kill_test: SIGTERM after $delay ms: status $status"
done
passed=$((passed + 1))

# A sanitizer report in any run (the sanitizer build) fails the test, even when the run's status looked right.
if grep -l -E "AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:" "$work"/*.log; then
  fail "a sanitizer report in the logs above"
fi
rm -rf "$work"
echo "kill_test: SIGKILLs survived: $landed; SIGTERM and SIGINT stops resumed: 2"
echo "$passed passed, 0 failed"
