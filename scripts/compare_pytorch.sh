#!/usr/bin/env bash
# Measures LeNet-5 training and inference speed of this engine against PyTorch on this machine, in one go,
# and prints the ratios (docs/performance.md explains the set-up and the results).
#
#   bash scripts/compare_pytorch.sh [--seconds S] [--threads 1,2] [--repeat N] [--out DIR] [--quick]
#                                   [--no-time-to-target]
#
# For each variant (lecun1998, modern) and thread count, bench_lenet (this engine) and bench/pytorch_lenet.py
# (PyTorch 1.13 from Debian's python3-torch) run back to back with the same model, batch sizes and thread
# count; with --repeat N the pairs run N times, alternating which side goes first, and each side keeps its
# best figure. PyTorch is set up at its best on CPU: its own threads set to the count, one inter-op thread,
# Debian's OpenBLAS (libopenblas0-pthread) with OPENBLAS_NUM_THREADS=1, inference mode, set_to_none
# gradients, the faster of Adam's two implementations. Both sides load the full MNIST training set (data/mnist,
# fetched when missing; random images of the same size when it cannot be) and convert each batch from uint8.
# Then one epoch of training at batch 64 per process and side, for its time and peak resident memory. Also
# measures the float32 FMA peak (bench/fma_peak), of which the GFLOP/s column gives shares, and the OpenBLAS sgemm
# rate through numpy, for reference. Last, time to accuracy on 2 threads: train_lenet with
# configs/lenet5_fast.json and lenet5_modern_fast.json (summary.json's time_to_target), and PyTorch's fastest setting
# of a search (bench/pytorch_time_to_target.py) to the same test error; --no-time-to-target skips it (minutes).
# Installs python3-torch and libopenblas0-pthread when missing (as root; otherwise prints the command).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=1.5
threads=1,2
repeat=1
out=runs/compare
batches=1,16,64,256
inference=256,1000
time_to_target=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --quick) seconds=0.6; batches=1,64; inference=256; shift ;;
    --no-time-to-target) time_to_target=0; shift ;;
    *) echo "usage: bash scripts/compare_pytorch.sh [--seconds S] [--threads 1,2] [--repeat N] [--out DIR] [--quick]" >&2
       exit 2 ;;
  esac
done

# Debian's Python, whatever python3 comes first on PATH: python3-torch installs for it.
py=/usr/bin/python3
bash scripts/setup.sh python3-torch python3-numpy libopenblas0-pthread
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DLENETGRAD_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench --target bench_lenet fma_peak train_lenet >/dev/null

data=data/mnist
if [ ! -f "$data/train-images-idx3-ubyte" ]; then
  bash scripts/fetch_mnist.sh "$data" || echo "compare: MNIST unavailable; both sides use random images of its size"
fi

mkdir -p "$out"
rm -rf "$out"/lenetgrad_*.json "$out"/pytorch_*.json "$out"/peak.json "$out"/fma_peak.json "$out"/time_to_target_*
# PyTorch's own threads do the parallel work; OpenBLAS spawning its own on top would oversubscribe the cores.
export OPENBLAS_NUM_THREADS=1
echo "compare: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $($py -c 'import torch; print("PyTorch", torch.__version__)')"

# The matrix-multiply peak: a large float32 product through numpy, which calls the system BLAS (OpenBLAS).
IFS=, read -r -a thread_list <<<"$threads"
peak="{"
for t in "${thread_list[@]}"; do
  g=$(OPENBLAS_NUM_THREADS=$t $py -c '
import time, numpy as np
a = np.random.rand(4096, 4096).astype(np.float32); b = np.random.rand(4096, 4096).astype(np.float32)
a @ b
best = 0
for _ in range(5):
    t0 = time.perf_counter(); a @ b; best = max(best, 2 * 4096**3 / (time.perf_counter() - t0) / 1e9)
print(f"{best:.1f}")')
  echo "compare: sgemm 4096x4096 with $t thread(s): $g GFLOP/s"
  peak+="\"$t\": $g, "
done
echo "${peak%, }}" >"$out/peak.json"
# The arithmetic peak: register-only FMA chains on every thread count (bench/fma_peak.cpp). Every GFLOP/s figure
# of the table is given as a share of it.
build-bench/bench/fma_peak --threads "$threads" --json "$out/fma_peak.json"

common=(--seconds "$seconds" --batches "$batches" --inference-batches "$inference" --data "$data")
for r in $(seq 1 "$repeat"); do
  for variant in lecun1998 modern; do
    for t in "${thread_list[@]}"; do
      ours=(build-bench/bench/bench_lenet --variant "$variant" --threads "$t" "${common[@]}"
            --json "$out/lenetgrad_${variant}_${t}_$r.json" --label "run $r")
      theirs=("$py" bench/pytorch_lenet.py --variant "$variant" --threads "$t" "${common[@]}"
              --json "$out/pytorch_${variant}_${t}_$r.json" --label "run $r")
      if [ $((r % 2)) -eq 1 ]; then "${ours[@]}"; "${theirs[@]}"; else "${theirs[@]}"; "${ours[@]}"; fi
    done
  done
done

# Memory: one epoch of training at batch 64 per process, the peak resident memory of a training run alone.
for variant in lecun1998 modern; do
  for t in "${thread_list[@]}"; do
    build-bench/bench/bench_lenet --variant "$variant" --threads "$t" --data "$data" --epoch 64 \
      --json "$out/lenetgrad_${variant}_${t}_epoch.json" --label epoch
    "$py" bench/pytorch_lenet.py --variant "$variant" --threads "$t" --data "$data" --epoch 64 \
      --json "$out/pytorch_${variant}_${t}_epoch.json" --label epoch
  done
done

# Time to accuracy, both cores: the wall time of training (evaluation excluded) to the first epoch at the target.
if [ "$time_to_target" = 1 ]; then
  for run in "lecun1998 configs/lenet5_fast.json 0.01" "modern configs/lenet5_modern_fast.json 0.009"; do
    read -r variant config target <<<"$run"
    build-bench/apps/train_lenet --config "$config" --set data.dir="$data" --set train.threads=2 \
      --set output.dir="$out/time_to_target_$variant" --overwrite --set output.progress=lines
    "$py" bench/pytorch_time_to_target.py --variant "$variant" --target "$target" --threads 2 --data "$data" \
      --json "$out/time_to_target_pytorch_$variant.json"
  done
fi

echo
$py bench/compare_report.py "$out" --peak "$out/peak.json" --fma-peak "$out/fma_peak.json"
