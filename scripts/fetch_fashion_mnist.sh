#!/usr/bin/env bash
# Makes Fashion-MNIST available: Debian's package dataset-fashion-mnist installs the four gzip-compressed
# IDX files in /usr/share/datasets/fashion-mnist/ (train-images-idx3-ubyte.gz etc.; same shapes as MNIST).
# Usage: scripts/fetch_fashion_mnist.sh
# As root it installs the package with apt-get; otherwise it prints the exact command and exits 1.
# Idempotent: when the four files are already there, nothing is installed. Prints the directory at the end.
set -euo pipefail

dir=/usr/share/datasets/fashion-mnist
package=dataset-fashion-mnist
names=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

die() { echo "fetch_fashion_mnist: error: $*" >&2; exit 1; }
all_present() {
  local name
  for name in "${names[@]}"; do [[ -f "$dir/$name" ]] || return 1; done
}

if ! all_present; then
  if [[ "$(id -u)" != 0 ]]; then
    echo "fetch_fashion_mnist: Fashion-MNIST is not installed; run as root:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $package" >&2
    exit 1
  fi
  echo "fetch_fashion_mnist: installing the Debian package $package"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when apt does not know the package yet.
  if ! apt-cache show "$package" >/dev/null 2>&1; then apt-get update; fi
  apt-get install -y --no-install-recommends "$package" || die "apt-get install $package failed"
  all_present || die "$package is installed but $dir does not hold all of: ${names[*]}"
fi

# Check each file is a whole gzip stream (no hashes are pinned in lenet5.md for this set).
for name in "${names[@]}"; do
  gzip -t "$dir/$name" 2>/dev/null || die "$dir/$name is not a valid gzip file"
done

echo "fetch_fashion_mnist: Fashion-MNIST present in $dir/:"
for name in "${names[@]}"; do
  printf '  %-28s %9d bytes  sha256 %s\n' "$name" "$(stat -c %s "$dir/$name")" \
    "$(sha256sum "$dir/$name" | cut -d' ' -f1)"
done
