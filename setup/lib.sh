# shellcheck shell=bash
# The caller defines DRY_RUN, CHANGED and PROBLEMS.
# shellcheck disable=SC2154
# Shared by setup-native.sh and init-docker.sh (sourced, not run): step reporting,
# errors, and model names as `ollama list` prints them. The caller sets DRY_RUN and the
# arrays CHANGED and PROBLEMS.

# One line per step: name, status (changed / unchanged / skipped / would change), detail.
step() {
  local name="$1" status="$2" detail="$3"
  if [[ "$DRY_RUN" == 1 && "$status" == changed ]]; then
    status="would change"
  fi
  printf '%-16s %-14s %s\n' "$name" "$status" "$detail"
  if [[ "$status" == changed || "$status" == "would change" ]]; then
    CHANGED+=("$name")
  fi
}

warn() { printf 'warning: %s\n' "$1" >&2; }

# A missing prerequisite: stop a real run (exit 3); a dry run notes it and goes on.
prereq_fail() {
  local name="$1" message="$2"
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '%-16s %-14s %s\n' "$name" "MISSING" "$message"
    PROBLEMS+=("$name")
  else
    printf '%-16s %s\n' "$name" "MISSING" >&2
    printf 'error: %s\n' "$message" >&2
    exit 3
  fi
}

# A usage error: say what was wrong and where the help is; exit 2.
die_usage() {
  echo "error: $1" >&2
  echo "Try '$(basename "$0") --help'." >&2
  exit 2
}

fail() {
  printf 'error: %s\n' "$1" >&2
  exit 1
}

# Model names as `ollama list` prints them: the tag defaults to latest.
normalize_model() {
  local name="$1"
  if [[ "${name##*/}" == *:* ]]; then
    printf '%s\n' "$name"
  else
    printf '%s:latest\n' "$name"
  fi
}

# Whether the model $1 is among the names (one a line) in $2.
has_model() {
  local wanted
  wanted="$(normalize_model "$1")"
  grep -qxF -- "$wanted" <<<"$2"
}

# The closing lines: what changed, or in a dry run what would and what a real run would
# stop at (a dry run ends here, with exit 0).
summarize() {
  if [[ "$DRY_RUN" == 1 ]]; then
    if [[ ${#CHANGED[@]} -eq 0 ]]; then
      echo "dry run: nothing would change"
    else
      echo "dry run: would change: ${CHANGED[*]}"
    fi
    if [[ ${#PROBLEMS[@]} -gt 0 ]]; then
      echo "dry run: a real run would stop at the missing prerequisite(s): ${PROBLEMS[*]} (exit 3)"
    fi
    exit 0
  fi
  if [[ ${#CHANGED[@]} -eq 0 ]]; then
    echo "nothing changed"
  else
    echo "changed: ${CHANGED[*]}"
  fi
}
