#!/usr/bin/env bash
# CI of install.sh and the release archives, with no network: .ci/release/package.sh packs
# the binaries just built (debug is fine), a loopback file server (python3 -m http.server)
# serves them in GitHub's release layout, and install.sh runs against it via
# OLLAMA_VERIFY_BASE_URL: the happy path (curl, then wget alone), --prefix, a wrong
# checksum, an unknown version, a glibc newer than the host's, an unsupported OS and
# architecture (a uname stand-in); after every failure nothing is left in the prefix or
# TMPDIR. Then the installed binary runs in a bare Debian container (minbase, debootstrapped
# by steps/tests/systemd/build-rootfs.sh) and the glibc floor is stated.
#
# Needs the debug binaries (cargo build). Leaves no process, container or file behind but
# the cached base image ollama-verify-debian-minbase:bookworm.
# shellcheck source=.ci/lib.sh
source "$(dirname "$0")/lib.sh"
ci_begin install "install.sh was NOT tested." ollama-verify ollama-emulator
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed: no file server"

work="$(mktemp -d "${TMPDIR:-/tmp}/ollama-verify-install-ci.XXXXXX")"
server=
cleanup() {
  if [[ -n "$server" ]]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
case "$(uname -m)" in
  x86_64) target=x86_64-unknown-linux-gnu ;;
  aarch64) target=aarch64-unknown-linux-gnu ;;
  *) echo "!!! SKIPPED: no release target for $(uname -m): install.sh was NOT tested."; exit 0 ;;
esac
archive="ollama-verify-$target.tar.gz"
version="$("$bin/ollama-verify" --version | awk '{print $2}')"

# --- the releases, in GitHub's layout: download/vX/FILE and latest/download/FILE ---------
t=$SECONDS
www="$work/www"
bash .ci/release/package.sh "$target" "$bin" "$www/download/v$version"
mkdir -p "$www/latest"
ln -s "../download/v$version" "$www/latest/download"
floor="$(cat "$www/download/v$version/SHA256SUMS" >/dev/null && tar -xzOf "$www/download/v$version/$archive" "ollama-verify-$target/GLIBC_FLOOR")"
echo "  packaged v$version ($((SECONDS - t)) s)"

# Small stand-in releases for the failures: shell scripts as binaries.
fake_release() { # VERSION GLIBC_FLOOR SUMS_MODE(good|bad)
  local dir="$www/download/v$1" stage="$work/fake-$1/ollama-verify-$target"
  mkdir -p "$dir" "$stage"
  printf '#!/bin/sh\necho "ollama-verify %s"\n' "$1" >"$stage/ollama-verify"
  cp "$stage/ollama-verify" "$stage/ollama-emulator"
  chmod +x "$stage/ollama-verify" "$stage/ollama-emulator"
  echo "$2" >"$stage/GLIBC_FLOOR"
  tar -C "$work/fake-$1" -czf "$dir/$archive" "ollama-verify-$target"
  if [[ "$3" = good ]]; then
    (cd "$dir" && sha256sum "$archive" >SHA256SUMS)
  else
    echo "$(printf '0%.0s' {1..64})  $archive" >"$dir/SHA256SUMS"
  fi
}
fake_release 9.0.1 2.17 bad
fake_release 9.0.2 99.0 good

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server --bind 127.0.0.1 --directory "$www" "$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
export OLLAMA_VERIFY_BASE_URL="http://127.0.0.1:$port/"
export OLLAMA_VERIFY_TIMEOUT=60
export HOME="$work/home" TMPDIR="$work/tmp"
mkdir -p "$HOME" "$TMPDIR"

# Runs install.sh with the arguments given; sets $code and $out (stdout and stderr).
run() {
  code=0
  out="$(timeout 120 sh install.sh "$@" 2>&1)" || code=$?
}
expect() { # CODE WORDS... : the last run exited CODE and said each of WORDS
  local want="$1"
  shift
  [[ "$code" = "$want" ]] || fail "install.sh exited $code, expected $want; it said:"$'\n'"$out"
  for w in "$@"; do
    [[ "$out" == *"$w"* ]] || fail "install.sh did not say '$w'; it said:"$'\n'"$out"
  done
}
nothing_left() { # PREFIX: no binary, no staged part in PREFIX, nothing in TMPDIR
  local left
  left="$(find "$1" "$TMPDIR" -mindepth 1 2>/dev/null || true)"
  [[ -z "$left" ]] || fail "left behind after a failed install: $left"
}

# Happy path: latest, into --prefix; nothing else touched.
run --prefix "$work/p1"
expect 0 "matches SHA256SUMS" "glibc: needs >= $floor" "installed ollama-verify $version"
[[ "$("$work/p1/ollama-verify" --version)" = "ollama-verify $version" ]] ||
  fail "the installed ollama-verify --version says '$("$work/p1/ollama-verify" --version)'"
[[ -x "$work/p1/ollama-emulator" ]] || fail "ollama-emulator was not installed into $work/p1"
[[ "$(find "$work/p1" -mindepth 1 | sort | tr '\n' ' ')" = "$work/p1/ollama-emulator $work/p1/ollama-verify " ]] ||
  fail "$work/p1 holds more than the two binaries: $(ls -A "$work/p1")"
[[ ! -e "$HOME/.local" && -z "$(ls -A "$TMPDIR")" ]] || fail "install.sh wrote outside --prefix"
echo "  ok: latest into --prefix: $("$work/p1/ollama-verify" --version), glibc >= $floor"

# An explicit version (with and without the v), over an existing install.
run --version "$version" --prefix "$work/p1"
expect 0 "installed ollama-verify $version"
run --version="v$version" --prefix="$work/p1"
expect 0 "installed ollama-verify $version"
echo "  ok: --version $version and --version=v$version, over an existing install"

# wget alone: a PATH of this machine's tools without curl.
mkdir "$work/nocurl"
for f in /usr/local/bin/* /usr/bin/* /bin/*; do
  n="${f##*/}"
  [[ "$n" = curl || -e "$work/nocurl/$n" ]] || ln -s "$f" "$work/nocurl/$n"
done
if [[ -e "$work/nocurl/wget" ]]; then
  code=0
  out="$(PATH="$work/nocurl" timeout 120 sh install.sh --prefix "$work/p 2" 2>&1)" || code=$?
  expect 0 "installed ollama-verify $version"
  [[ "$("$work/p 2/ollama-verify" --version)" = "ollama-verify $version" ]] ||
    fail "wget: $work/p 2/ollama-verify does not run"
  code=0
  out="$(PATH="$work/nocurl" timeout 120 sh install.sh --version 7.7.7 --prefix "$work/p3" 2>&1)" || code=$?
  expect 1 "could not download" "404"
  nothing_left "$work/p3"
  echo "  ok: with wget and no curl (a prefix with a space; an unknown version: 404)"
else
  echo "  !!! SKIPPED: wget is not installed: the wget download path was NOT tested."
fi

# Failures: each says what was expected and seen, and leaves nothing behind.
run --version 9.0.1 --prefix "$work/p3"
expect 1 "checksum mismatch" "Expected (SHA256SUMS): 0000" "Seen (downloaded file):"
nothing_left "$work/p3"
echo "  ok: a wrong checksum is refused: $(echo "$out" | grep -m1 mismatch)"

run --version 7.7.7 --prefix "$work/p3"
expect 1 "could not download" "v7.7.7/SHA256SUMS" "404" "Try: check the version"
nothing_left "$work/p3"
echo "  ok: an unknown version: $(echo "$out" | head -n 2 | tail -n 1)"

run --version 9.0.2 --prefix "$work/p3"
expect 1 "need glibc >= 99.0; this host has glibc" "nothing was installed"
nothing_left "$work/p3"
echo "  ok: a glibc newer than the host's is refused: $(echo "$out" | grep -m1 'need glibc')"

mkdir "$work/shim"
cat >"$work/shim/uname" <<'SH'
#!/bin/sh
case "$1" in -m) echo "${FAKE_ARCH:-riscv64}" ;; *) echo "${FAKE_OS:-Linux}" ;; esac
SH
chmod +x "$work/shim/uname"
code=0
out="$(PATH="$work/shim:$PATH" timeout 60 sh install.sh --prefix "$work/p3" 2>&1)" || code=$?
expect 2 "Linux x86_64 and aarch64; this machine is Linux riscv64" "cargo install"
code=0
out="$(FAKE_OS=Darwin FAKE_ARCH=arm64 PATH="$work/shim:$PATH" timeout 60 sh install.sh --prefix "$work/p3" 2>&1)" || code=$?
expect 2 "Linux only; this machine runs Darwin (arm64)"
nothing_left "$work/p3"
echo "  ok: unsupported machines are refused (Linux riscv64, Darwin arm64)"

run --prefix
expect 2 "--prefix needs a folder"
run --frobnicate
expect 2 "unknown argument '--frobnicate'"
echo "  ok: usage errors exit 2"

# --- the installed binary in a bare Debian ------------------------------------------------
echo "  glibc floor of the debug build here: $floor (the release workflow pins 2.28)"
base=ollama-verify-debian-minbase:bookworm
code=0
OLLAMA_VERIFY_ROOTFS_PACKAGES=ca-certificates OLLAMA_VERIFY_ROOTFS_LABEL=debian-minbase \
  timeout 900 bash steps/tests/systemd/build-rootfs.sh "$base" >"$work/rootfs.log" 2>&1 || code=$?
if [[ "$code" = 77 ]]; then
  echo "!!! SKIPPED: a bare Debian image cannot be built here: $(tail -n 1 "$work/rootfs.log")"
  echo "!!! the installed binary was NOT run in a bare Debian container."
  exit 0
fi
[[ "$code" = 0 ]] || { cat "$work/rootfs.log"; fail "steps/tests/systemd/build-rootfs.sh $base"; }
name="ollama-verify-install-ci-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; cleanup' EXIT
out="$(timeout 120 docker run --rm --name "$name" --network none -v "$work/p1:/opt/ollama-verify:ro" "$base" \
  sh -c 'ldd --version | head -n 1; /opt/ollama-verify/ollama-verify --version;
    /opt/ollama-verify/ollama-emulator --version; /opt/ollama-verify/ollama-verify --list >/dev/null && echo list-ok' 2>&1)" ||
  fail "the installed binaries do not run in $base:"$'\n'"$out"
[[ "$out" == *"ollama-verify $version"* && "$out" == *"client version is"* && "$out" == *list-ok* ]] ||
  fail "unexpected output in $base:"$'\n'"$out"
echo "  ok: runs in a bare Debian ($base, $(echo "$out" | head -n 1 | awk '{print "glibc", $NF}')): binaries need glibc >= $floor"
