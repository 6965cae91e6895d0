#!/bin/sh
# Installs the released ollama-verify and ollama-emulator binaries: no Rust toolchain.
#
#   curl -fsSL https://raw.githubusercontent.com/ollama-verify/ollama-verify/main/install.sh | sh
#   sh install.sh [--version X] [--prefix DIR]
#
# Fetches the release archive for this machine (Linux x86_64 or aarch64), checks its
# SHA-256 against the release's SHA256SUMS, checks the glibc it needs against this host's,
# then puts both binaries into the prefix (default: /usr/local/bin as root, else
# ~/.local/bin). Nothing is installed unless every check passed; a binary is either the
# old one or the whole new one (copied next to its place, then renamed).
#
# OLLAMA_VERIFY_BASE_URL  where releases live (default: the GitHub project's releases);
#                         a mirror keeps GitHub's layout: latest/download/FILE and
#                         download/vX.Y.Z/FILE.
# OLLAMA_VERIFY_TIMEOUT   seconds one download may take (default 300).
#
# Exit codes: 0 installed; 1 a download, check or copy failed; 2 usage or unsupported host.
set -eu

BASE_URL="${OLLAMA_VERIFY_BASE_URL:-https://github.com/ollama-verify/ollama-verify/releases}"
BASE_URL="${BASE_URL%/}"
TIMEOUT="${OLLAMA_VERIFY_TIMEOUT:-300}"
SOURCE_HINT="cargo install --locked --git https://github.com/ollama-verify/ollama-verify ollama-verify-steps"

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
  say "$1"
  shift
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}
usage_error() {
  say "$1"
  say "usage: install.sh [--version X] [--prefix DIR]   (install.sh --help)"
  exit 2
}

version=latest
prefix=
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || usage_error "--version needs a value (e.g. 0.1.0)"; version="$2"; shift 2 ;;
    --version=*) version="${1#--version=}"; shift ;;
    --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a folder"; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    -h | --help) sed -n '2,19p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
[ -n "$version" ] || usage_error "--version is empty"
if [ -z "$prefix" ]; then
  if [ "$(id -u)" = 0 ]; then prefix=/usr/local/bin; else prefix="${HOME:?HOME is not set; pass --prefix DIR}/.local/bin"; fi
fi

# --- which archive -----------------------------------------------------------------------
os="$(uname -s)"
arch="$(uname -m)"
[ "$os" = Linux ] || {
  say "release binaries exist for Linux only; this machine runs $os ($arch)."
  say "Build from source instead (needs Rust): $SOURCE_HINT"
  exit 2
}
case "$arch" in
  x86_64 | amd64) target=x86_64-unknown-linux-gnu ;;
  aarch64 | arm64) target=aarch64-unknown-linux-gnu ;;
  *)
    say "release binaries exist for Linux x86_64 and aarch64; this machine is Linux $arch (uname -m)."
    say "Build from source instead (needs Rust): $SOURCE_HINT"
    exit 2
    ;;
esac
archive="ollama-verify-$target.tar.gz"
case "$version" in
  latest) release_url="$BASE_URL/latest/download" ;;
  v*) release_url="$BASE_URL/download/$version" ;;
  *) release_url="$BASE_URL/download/v$version" ;;
esac

# --- downloads, each with a deadline -----------------------------------------------------
if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --proto '=https,http' --connect-timeout 20 --max-time "$TIMEOUT" --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  # wget's --timeout bounds each read; timeout(1), where present, bounds the whole download.
  if command -v timeout >/dev/null 2>&1; then
    fetch() { timeout "$TIMEOUT" wget -nv --timeout=20 --tries=3 -O "$2" "$1"; }
  else
    fetch() { wget -nv --timeout=20 --tries=3 -O "$2" "$1"; }
  fi
else
  die "neither curl nor wget is installed: one is needed to download the release." \
    "Install one (apt-get install curl / dnf install curl) and run install.sh again."
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ollama-verify-install.XXXXXX")"
staging=
cleanup() {
  rm -rf "$tmp"
  [ -z "$staging" ] || rm -f "$prefix/.ollama-verify.part.$$" "$prefix/.ollama-emulator.part.$$"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "downloading $archive ($version) from $release_url"
fetch "$release_url/SHA256SUMS" "$tmp/SHA256SUMS" 2>"$tmp/err" ||
  die "could not download $release_url/SHA256SUMS: $(tail -n 1 "$tmp/err")" \
    "Expected: release '$version' published at $BASE_URL." \
    "Try: check the version on the releases page ($BASE_URL), the network or proxy," \
    "or set OLLAMA_VERIFY_BASE_URL to a mirror."
fetch "$release_url/$archive" "$tmp/$archive" 2>"$tmp/err" ||
  die "could not download $release_url/$archive: $(tail -n 1 "$tmp/err")" \
    "Expected: release '$version' to publish $archive (SHA256SUMS lists: $(awk '{printf "%s ", $2}' "$tmp/SHA256SUMS"))." \
    "Try: another --version, or build from source: $SOURCE_HINT"

# --- checksum ----------------------------------------------------------------------------
expected="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS")"
[ -n "$expected" ] ||
  die "SHA256SUMS of release '$version' has no line for $archive." \
    "Seen: $(awk '{printf "%s ", $2}' "$tmp/SHA256SUMS")" \
    "Try: another --version; this release may not be built for $target."
if command -v sha256sum >/dev/null 2>&1; then
  seen="$(sha256sum "$tmp/$archive" | awk '{print $1}')"
elif command -v shasum >/dev/null 2>&1; then
  seen="$(shasum -a 256 "$tmp/$archive" | awk '{print $1}')"
else
  die "neither sha256sum nor shasum is installed: the download cannot be verified, so nothing was installed." \
    "Install coreutils (sha256sum) and run install.sh again."
fi
[ "$seen" = "$expected" ] ||
  die "checksum mismatch for $archive: nothing was installed." \
    "Expected (SHA256SUMS): $expected" \
    "Seen (downloaded file): $seen" \
    "Try: run install.sh again (a cut download or a stale mirror); if it persists, report it."
say "sha256 $seen: matches SHA256SUMS"

# --- unpack and check the glibc it needs -------------------------------------------------
mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" ||
  die "could not unpack $archive (tar -xzf failed) although its checksum matched." "Try: report it."
dir="$(find "$tmp/x" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
for b in ollama-verify ollama-emulator; do
  [ -f "$dir/$b" ] || die "$archive has no $b binary: nothing was installed." "Try: report it."
done

if [ -f "$dir/GLIBC_FLOOR" ]; then
  need="$(tr -d ' \n' <"$dir/GLIBC_FLOOR")"
  have="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')" || have=
  [ -n "$have" ] || have="$(ldd --version 2>/dev/null | head -n 1 | grep -o '[0-9][0-9]*\.[0-9][0-9]*$')" || have=
  [ -n "$have" ] ||
    die "these binaries link glibc >= $need, and this host has no glibc (musl or another libc?): nothing was installed." \
      "Try: a glibc distribution (Debian, Ubuntu, RHEL...), the container image, or build from source: $SOURCE_HINT"
  lower="$(printf '%s\n%s\n' "$need" "$have" | sort -t. -k1,1n -k2,2n | head -n 1)"
  [ "$lower" = "$need" ] ||
    die "these binaries need glibc >= $need; this host has glibc $have: nothing was installed." \
      "Try: a newer distribution, the container image, or build from source: $SOURCE_HINT"
  say "glibc: needs >= $need, this host has $have"
fi

# --- install: stage next to the destination, then rename (never a half-written binary) --
mkdir -p "$prefix" 2>"$tmp/err" ||
  die "cannot create $prefix: $(tail -n 1 "$tmp/err")" "Try: --prefix DIR with a folder you can write, or run as root."
staging=1
for b in ollama-verify ollama-emulator; do
  part="$prefix/.$b.part.$$"
  cp "$dir/$b" "$part" 2>"$tmp/err" ||
    die "cannot write $part: $(tail -n 1 "$tmp/err")" "Try: --prefix DIR with a folder you can write, or run as root."
  chmod 0755 "$part"
done
for b in ollama-verify ollama-emulator; do
  mv -f "$prefix/.$b.part.$$" "$prefix/$b"
done
staging=

installed="$("$prefix/ollama-verify" --version 2>&1)" ||
  die "installed $prefix/ollama-verify, but it does not run: $installed" "Try: report it, with uname -a and ldd --version."
say "installed $installed and ollama-emulator into $prefix"
case ":$PATH:" in
  *":$prefix:"*) ;;
  *) say "$prefix is not on PATH: add it (export PATH=\"$prefix:\$PATH\") or call $prefix/ollama-verify" ;;
esac
