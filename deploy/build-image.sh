#!/usr/bin/env bash
# Builds the ollama-verify image from a binary built here: deploy/Dockerfile on a context
# that holds the binary (stripped of debug info), the shared libraries it links (as ldd
# lists them), and /bin/sh with its libraries for the Sonobuoy plugin's done file.
#
# Usage: build-image.sh [BINARY] [IMAGE]
#   BINARY  default: ${CARGO_TARGET_DIR:-target}/release/ollama-verify, else .../debug/
#   IMAGE   default: ollama-verify:<version>; with IMAGE ending in ':auto' the tag is a hash
#           of the context, and an image already built from the same bytes is reused.
# Extra programs for the host checks (systemctl, journalctl, cat, ls, find) go in with
# OLLAMA_VERIFY_IMAGE_PROGRAMS="systemctl journalctl cat ls find" (their libraries too).
# Prints the image reference on the last line of stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
binary="${1:-}"
if [[ -z "$binary" ]]; then
  for b in "$target/release/ollama-verify" "$target/debug/ollama-verify"; do
    [[ -x "$b" ]] && { binary="$b"; break; }
  done
fi
[[ -n "$binary" && -x "$binary" ]] || {
  echo "build-image: no ollama-verify binary (tried $target/release and $target/debug):" \
    "build it first with 'cargo build --release -p ollama-verify-steps --bin ollama-verify'" >&2
  exit 2
}
version="$("$binary" --version | awk '{print $2}')"
image="${2:-ollama-verify:$version}"

context="$(mktemp -d "${TMPDIR:-/tmp}/ollama-verify-image.XXXXXX")"
trap 'rm -rf "$context"' EXIT
rootfs="$context/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/bin" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"

# The binary without its debug info (a debug build is hundreds of MB, mostly DWARF).
if command -v objcopy >/dev/null 2>&1; then
  objcopy --strip-debug "$binary" "$rootfs/usr/local/bin/ollama-verify"
else
  cp "$binary" "$rootfs/usr/local/bin/ollama-verify"
fi
chmod 0755 "$rootfs/usr/local/bin/ollama-verify"

# Copies $1 (a path here) to the same path in the image, following links.
add() {
  mkdir -p "$rootfs$(dirname "$1")"
  cp -L "$1" "$rootfs$1"
}
# The shared libraries a program links, as absolute paths.
libs() {
  ldd "$1" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u
}

programs=("$binary" /bin/sh)
cp -L /bin/sh "$rootfs/bin/sh"
for p in ${OLLAMA_VERIFY_IMAGE_PROGRAMS:-}; do
  path="$(command -v "$p")" || { echo "build-image: $p is not installed here" >&2; exit 2; }
  add "$path"
  programs+=("$path")
done
for p in "${programs[@]}"; do
  while read -r lib; do add "$lib"; done < <(libs "$p")
done

if [[ "$image" == *:auto ]]; then
  hash="$( (cat deploy/Dockerfile; cd "$context" && find rootfs -type f -print0 | sort -z |
    xargs -0 sha256sum) | sha256sum | cut -c1-16)"
  image="${image%:auto}:$hash"
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "build-image: $image exists (same inputs): reused" >&2
    echo "$image"
    exit 0
  fi
fi
cp deploy/Dockerfile "$context/Dockerfile"
docker build -q -t "$image" "$context" >/dev/null
echo "build-image: built $image from $binary ($(du -sh "$rootfs" | cut -f1) rootfs)" >&2
echo "$image"
