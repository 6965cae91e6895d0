#!/bin/sh
# Builds the archives a release publishes, from binaries already built:
#   ollama-verify-<target>.tar.gz   a folder ollama-verify-<target>/ with ollama-verify,
#                                   ollama-emulator, README.md, LICENSE-*, CHANGELOG.md and
#                                   GLIBC_FLOOR (the oldest glibc they run on; install.sh
#                                   checks it against the host's)
#   SHA256SUMS                      every archive in OUT (rewritten each time)
# Asset names carry no version, so GitHub's latest/download/<asset> finds them.
#
# Usage: package.sh TARGET BIN_DIR OUT     e.g. x86_64-unknown-linux-gnu target/release dist
#        package.sh --sums OUT             only rewrite OUT/SHA256SUMS (after gathering the
#                                          archives of several targets in OUT)
# Debug info is stripped when objcopy reads the binary (a debug build is mostly DWARF).
# Exit codes: 0 written; 1 a step failed; 2 usage or a missing input.
set -eu
cd "$(dirname "$0")/../.."

sums() {
  (cd "$1" && set -- ./*.tar.gz && [ -f "$1" ] && sha256sum -- *.tar.gz >SHA256SUMS) || {
    echo "package: no *.tar.gz in $1 to list in SHA256SUMS" >&2
    exit 1
  }
  echo "package: $1/SHA256SUMS lists $(wc -l <"$1/SHA256SUMS") archive(s)"
}

if [ "${1:-}" = --sums ] && [ $# -eq 2 ]; then
  sums "$2"
  exit 0
fi
[ $# -eq 3 ] || { sed -n '10,13p' "$0" | sed 's/^# //' >&2; exit 2; }
target="$1" bin_dir="$2" out="$3"
case "$target" in
  x86_64-unknown-linux-gnu | aarch64-unknown-linux-gnu) ;;
  *) echo "package: target '$target': expected x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu" >&2; exit 2 ;;
esac
for b in ollama-verify ollama-emulator; do
  [ -x "$bin_dir/$b" ] || {
    echo "package: $bin_dir/$b is missing: build it first (cargo build --release -p ollama-verify-steps --bins)" >&2
    exit 2
  }
done

name="ollama-verify-$target"
mkdir -p "$out"
stage="$(mktemp -d "${TMPDIR:-/tmp}/ollama-verify-package.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
for b in ollama-verify ollama-emulator; do
  objcopy --strip-debug "$bin_dir/$b" "$stage/$name/$b" 2>/dev/null || cp "$bin_dir/$b" "$stage/$name/$b"
  chmod 0755 "$stage/$name/$b"
done
cp README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE "$stage/$name/"
floor="$(sh .ci/release/glibc-floor.sh "$stage/$name/ollama-verify")"
echo "$floor" >"$stage/$name/GLIBC_FLOOR"

# Reproducible bytes: fixed order, owner and times (the commit's time when in git).
mtime="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
  -C "$stage" -cf - "$name" | gzip -n >"$out/$name.tar.gz.part"
mv -f "$out/$name.tar.gz.part" "$out/$name.tar.gz"
echo "package: $out/$name.tar.gz ($(wc -c <"$out/$name.tar.gz") bytes; ollama-verify $(wc -c <"$stage/$name/ollama-verify") bytes unpacked; glibc >= $floor)"
sums "$out"
