#!/usr/bin/env bash
# The opening every .ci/*.sh check shares; source it first thing:
#   source "$(dirname "$0")/lib.sh"
#   ci_begin NAME "what a skip leaves undone" BINARY...
# It enters the repository root, sets `bin` to the debug binaries' folder, and stops
# with the command to run when a binary the check needs is not built. `skip WHY` and
# `fail WHY` end the check in the words .ci/run's log is read for ("!!! SKIPPED" and
# "NAME: FAILED").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${CARGO_TARGET_DIR:-target}/debug"
# shellcheck disable=SC2034 # read by the checks that say how long they took
started=$SECONDS

ci_begin() {
  ci_name=$1
  ci_undone=$2
  shift 2
  local b
  for b in "$@"; do
    [[ -x "$bin/$b" ]] || {
      echo "$ci_name: $bin/$b is missing: run 'cargo build' first" >&2
      exit 1
    }
  done
}

skip() {
  echo "!!! SKIPPED: $1:"
  echo "!!! $ci_undone"
  exit 0
}

fail() {
  echo "$ci_name: FAILED: $*" >&2
  exit 1
}
