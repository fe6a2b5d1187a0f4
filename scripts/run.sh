#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the engine demo (the README example).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
./build/tests/readme/readme_example
