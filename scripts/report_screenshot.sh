#!/usr/bin/env bash
# Regenerates docs/report.png, the README's picture of the training report: trains LeNet-5 as published
# (configs/lenet5.json, 5 epochs on the full MNIST) into runs/report_screenshot, writes its report again with the
# current build, and has headless Chromium (scripts/page_check.js) take a 1280x1700 screenshot of the page's top,
# the config table folded.
#   bash scripts/report_screenshot.sh [RUN_DIR]     (with RUN_DIR: that run, no training)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh chromium
command -v node >/dev/null || bash scripts/setup.sh nodejs
command -v npm >/dev/null || bash scripts/setup.sh npm
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target train_lenet evaluate_lenet
run="${1:-}"
if [ -z "$run" ]; then
  bash scripts/fetch_mnist.sh data/mnist
  run=runs/report_screenshot
  ./build/apps/train_lenet --config configs/lenet5.json --set train.epochs=5 --set output.dir="$run" \
    --set output.progress=lines
fi
./build/apps/evaluate_lenet --run "$run" --report "$run/report.html" >/dev/null
node scripts/page_check.js "$run/report.html" --screenshot docs/report.png --width 1280 --height 1700 \
  --eval "document.querySelector('#overview details').open = false" >/dev/null
echo "report_screenshot: docs/report.png from $run/report.html"
