#!/usr/bin/env bash
# Builds the CIFS emulator test fixture (Tests/CIFSEmulator) into .build/fixtures/cifs-emulator.
# It is plain C on libfuse3 so it shares no code with dtypefs; rebuilt only when a source is newer.
# Usage: scripts/build-emulator.sh [--force]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$repo/Tests/CIFSEmulator"
out_dir="$repo/.build/fixtures"
out="$out_dir/cifs-emulator"
sources=("$src/cifs_emulator.c" "$src/xsym.c")
headers=("$src/xsym.h")

stale=0
if [[ "${1:-}" == "--force" || ! -x "$out" ]]; then
    stale=1
else
    for file in "${sources[@]}" "${headers[@]}" "${BASH_SOURCE[0]}"; do
        [[ "$file" -nt "$out" ]] && stale=1
    done
fi
if [[ $stale -eq 0 ]]; then
    echo "cifs-emulator is up to date: $out"
    exit 0
fi

# A fresh machine may lack the compiler or the libfuse3 headers.
if ! command -v gcc >/dev/null || ! command -v pkg-config >/dev/null || ! pkg-config --exists fuse3; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq gcc pkg-config libfuse3-dev fuse3 >/dev/null
fi

mkdir -p "$out_dir"
# Build to a temporary name so a failed or concurrent build never leaves a half-written binary.
tmp="$(mktemp "$out_dir/.cifs-emulator.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
# shellcheck disable=SC2046  # pkg-config output is meant to split into words
gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -o "$tmp" "${sources[@]}" -I"$src" \
    $(pkg-config --cflags --libs fuse3)
chmod 755 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "built $out"
