#!/bin/sh
# Prints the highest GLIBC_x.y symbol version a binary needs (e.g. 2.28): the oldest glibc
# it runs on. Reads the dynamic symbol table with readelf (binutils), else objdump.
#
# Usage: glibc-floor.sh BINARY
# Exit codes: 0 printed; 1 the binary needs no glibc symbol (static or musl) or cannot be
# read; 2 usage, or neither objdump nor readelf is installed.
set -eu

[ $# -eq 1 ] || { echo "usage: glibc-floor.sh BINARY" >&2; exit 2; }
bin="$1"
[ -f "$bin" ] || { echo "glibc-floor: $bin is not a file" >&2; exit 2; }

# readelf first: it reads an ELF of any architecture (an aarch64 binary on an x86_64 host).
if command -v readelf >/dev/null 2>&1; then
  symbols="$(readelf --dyn-syms -W "$bin" 2>&1)" || { echo "glibc-floor: readelf $bin failed: $symbols" >&2; exit 1; }
elif command -v objdump >/dev/null 2>&1; then
  symbols="$(objdump -T "$bin" 2>&1)" || { echo "glibc-floor: objdump -T $bin failed: $symbols" >&2; exit 1; }
else
  echo "glibc-floor: neither objdump nor readelf is installed (apt-get install binutils)" >&2
  exit 2
fi

floor="$(printf '%s\n' "$symbols" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' |
  sort -u -t. -k1,1n -k2,2n -k3,3n | tail -n 1)"
[ -n "$floor" ] || { echo "glibc-floor: $bin needs no GLIBC_ symbol version (static, or not glibc)" >&2; exit 1; }
echo "$floor"
