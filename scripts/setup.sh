#!/usr/bin/env bash
# Installs what building and testing the project needs, from Debian's packages, when it is missing.
# As root it runs apt-get; otherwise it prints the exact command to run and exits non-zero.
set -euo pipefail

packages=(g++ cmake ninja-build libfmt-dev doctest-dev nlohmann-json3-dev zlib1g-dev libpng-dev "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
