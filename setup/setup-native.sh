#!/usr/bin/env bash
# Idempotent native setup of Ollama on a Linux machine with systemd and an NVIDIA GPU
# (WSL2 with systemd included). Safe to run again: a step that is already done is
# reported "unchanged" and not repeated; a second run prints "nothing changed".
#
# It configures an installed Ollama; it does not install Ollama itself (use the official
# installer: curl -fsSL https://ollama.com/install.sh | sh).
#
# Steps: check prerequisites, install the systemd drop-in as
# ollama.service.d/50-ollama-verify.conf (only if its content differs; then daemon-reload
# and restart, as also when systemd has not loaded the unit's files yet), enable and start
# the service, wait for the API, pull the base model if missing, create the custom model
# if missing. It never touches ollama.service.d/override.conf, the file
# `systemctl edit ollama` writes (your own settings), except to remove a copy of this
# drop-in that an earlier version of this script installed under that name.
#
# Exit codes: 0 done (or --dry-run finished, even if a real run would stop: it says so);
# 1 a step failed; 2 usage error; 3 a prerequisite is missing (real run only).
#
# For tests: OLLAMA_DROPIN_DIR overrides /etc/systemd/system/ollama.service.d,
# OLLAMA_WSL_LIB_DIR overrides /usr/lib/wsl/lib, and every command (systemctl, ollama,
# nvidia-smi, curl, sudo) is looked up on PATH.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null # lib.sh is linted on its own
source "$SCRIPT_DIR/lib.sh"
DROPIN_SRC="$SCRIPT_DIR/ollama.service.d/override.conf"
DROPIN_DIR="${OLLAMA_DROPIN_DIR:-/etc/systemd/system/ollama.service.d}"
# Its own name: override.conf is `systemctl edit ollama`'s, read after this one.
DROPIN_DST="$DROPIN_DIR/50-ollama-verify.conf"
# Where earlier versions of this script installed it.
DROPIN_OLD="$DROPIN_DIR/override.conf"
# WSL2's driver tools: sudo's secure_path drops this directory from PATH.
WSL_LIB_DIR="${OLLAMA_WSL_LIB_DIR:-/usr/lib/wsl/lib}"
API_URL="http://127.0.0.1:11434/"

BASE_MODEL="qwen2.5-coder:7b"
CUSTOM_MODEL="my-coder"
MODELFILE="$SCRIPT_DIR/coding-assistant.Modelfile"
API_TIMEOUT=60
DRY_RUN=0
ALLOW_CPU=0
RECREATE=0

usage() {
  cat <<EOF
Usage: $(basename "$0") [options]

Configure an installed Ollama as a systemd service with setup/'s drop-in, and install
the base and custom models. Idempotent: run it again to check that nothing drifted.

Options:
  --dry-run           print what would be done; change nothing (root not needed)
  --base MODEL        base model to pull (default: $BASE_MODEL)
  --custom NAME       custom model to create (default: $CUSTOM_MODEL)
  --modelfile PATH    Modelfile for the custom model
                      (default: setup/coding-assistant.Modelfile)
  --allow-cpu         continue without an NVIDIA GPU (Ollama then runs on the CPU)
  --recreate          create the custom model again even if it exists
                      (after editing the Modelfile)
  --api-timeout SECS  how long to wait for the API after a (re)start (default: $API_TIMEOUT)
  -h, --help          this help

Run as root (sudo $0) or as a user who may use sudo. Exit codes: 0 done (also after
--dry-run, which prints whether a real run would stop), 1 a step failed, 2 usage error,
3 a prerequisite is missing.
EOF
}


while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --allow-cpu) ALLOW_CPU=1 ;;
    --recreate) RECREATE=1 ;;
    --base | --custom | --modelfile | --api-timeout)
      [[ $# -ge 2 && -n "$2" ]] || die_usage "$1 needs a value"
      case "$1" in
        --base) BASE_MODEL="$2" ;;
        --custom) CUSTOM_MODEL="$2" ;;
        --modelfile) MODELFILE="$2" ;;
        --api-timeout)
          [[ "$2" =~ ^[0-9]+$ ]] || die_usage "--api-timeout takes whole seconds, got '$2'"
          API_TIMEOUT="$2"
          ;;
      esac
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
  shift
done

# ---------------------------------------------------------------------------
# Reporting: one line per step; the run ends saying whether anything changed.
# ---------------------------------------------------------------------------
# shellcheck disable=SC2034 # read by lib.sh (step, summarize)
CHANGED=()   # steps that changed (or, in a dry run, would change)
# shellcheck disable=SC2034 # read by lib.sh
PROBLEMS=()  # prerequisites a real run would stop at (dry run only)

# Installed model names, one a line (the NAME column of `ollama list`).
installed_models() {
  ollama list | awk 'NR > 1 && $1 != "" { print $1 }'
}

api_answers() {
  curl -sf --max-time 3 "$API_URL" >/dev/null 2>&1
}

wait_for_api() {
  local deadline=$((SECONDS + API_TIMEOUT))
  api_answers && return 0
  echo "waiting up to ${API_TIMEOUT}s for the API at $API_URL ..."
  until api_answers; do
    if ((SECONDS >= deadline)); then
      fail "the Ollama API did not answer at $API_URL within ${API_TIMEOUT}s.
  Look at: systemctl status ollama; journalctl -u ollama -n 50 --no-pager
  (a native service and a Docker container cannot both bind port 11434)"
    fi
    sleep 1
  done
}

# Privileged commands go through SUDO (empty when root).
SUDO=""
priv() {
  if [[ -n "$SUDO" ]]; then
    "$SUDO" "$@"
  else
    "$@"
  fi
}

if [[ "$DRY_RUN" == 1 ]]; then
  echo "dry run: nothing will be changed"
fi

# ---------------------------------------------------------------------------
# 1. Prerequisites
# ---------------------------------------------------------------------------
if [[ "$EUID" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  elif [[ "$DRY_RUN" == 0 ]]; then
    prereq_fail privileges "not root and no sudo: run this script as root"
  fi
fi

# GPU. On WSL2, nvidia-smi lives in /usr/lib/wsl/lib, which sudo's secure_path leaves
# off PATH: a correct install must not look like a missing driver under sudo.
NVIDIA_SMI="$(command -v nvidia-smi 2>/dev/null || true)"
if [[ -z "$NVIDIA_SMI" && -x "$WSL_LIB_DIR/nvidia-smi" ]]; then
  NVIDIA_SMI="$WSL_LIB_DIR/nvidia-smi"
fi
if [[ -n "$NVIDIA_SMI" ]] && gpus="$("$NVIDIA_SMI" -L 2>/dev/null)" &&
  grep -q '^GPU ' <<<"$gpus"; then
  step gpu ok "$(head -n 1 <<<"$gpus")"
elif [[ "$ALLOW_CPU" == 1 ]]; then
  step gpu skipped "no NVIDIA GPU visible (nvidia-smi missing or lists none); --allow-cpu: Ollama will run on the CPU"
else
  prereq_fail gpu "no NVIDIA GPU visible: nvidia-smi is missing or lists no GPU.
  Install the NVIDIA driver (on WSL2: the Windows driver, never a Linux one inside WSL),
  or run again with --allow-cpu to set Ollama up for the CPU."
fi

# systemd
SYSTEMD_OK=0
WSL_HINT="On WSL2, enable systemd: add
    [boot]
    systemd=true
  to /etc/wsl.conf, then run 'wsl --shutdown' in Windows and reopen the distribution."
if ! command -v systemctl >/dev/null 2>&1; then
  prereq_fail systemd "systemctl not found: this script configures Ollama as a systemd service.
  $WSL_HINT
  Without systemd, use Docker instead: setup/init-docker.sh"
else
  sys_state="$(systemctl is-system-running 2>&1 || true)"
  case "$sys_state" in
    *offline* | *"not been booted with systemd"* | *"Failed to connect to bus"* | "")
      prereq_fail systemd "systemd is not running on this machine (systemctl is-system-running: ${sys_state:-no answer}).
  $WSL_HINT
  Without systemd, use Docker instead: setup/init-docker.sh"
      ;;
    *)
      SYSTEMD_OK=1
      step systemd ok "$sys_state"
      ;;
  esac
fi

# ollama binary and its unit
OLLAMA_OK=0
if ! command -v ollama >/dev/null 2>&1; then
  prereq_fail ollama "the ollama binary is not installed (not on PATH).
  Install it with the official installer, which also creates ollama.service:
    curl -fsSL https://ollama.com/install.sh | sh
  then run this script again."
else
  OLLAMA_OK=1
  step ollama ok "$(ollama --version 2>/dev/null | tail -n 1 || true)"
  if [[ "$SYSTEMD_OK" == 1 ]]; then
    load_state="$(systemctl show ollama --property=LoadState --value 2>/dev/null || true)"
    if [[ "$load_state" != loaded ]]; then
      prereq_fail unit "the ollama.service unit is not installed (LoadState: ${load_state:-unknown}).
  The official installer creates it: curl -fsSL https://ollama.com/install.sh | sh"
    fi
  fi
fi

# curl (waiting for the API)
if ! command -v curl >/dev/null 2>&1; then
  prereq_fail curl "curl is needed to wait for the API: install it (apt-get install curl)"
fi

# files
[[ -f "$DROPIN_SRC" ]] || fail "the drop-in $DROPIN_SRC is missing (is setup/ complete?)"
if [[ ! -f "$MODELFILE" ]]; then
  prereq_fail modelfile "the Modelfile $MODELFILE does not exist (--modelfile PATH)"
else
  from="$(awk 'toupper($1) == "FROM" { print $2; exit }' "$MODELFILE")"
  if [[ -n "$from" && "$(normalize_model "$from")" != "$(normalize_model "$BASE_MODEL")" ]]; then
    warn "the Modelfile builds FROM $from but the base model is $BASE_MODEL; 'ollama create' will fetch $from itself"
  fi
fi

# ---------------------------------------------------------------------------
# 2. The systemd drop-in: installed only when its content differs.
# ---------------------------------------------------------------------------
DROPIN_CHANGED=0
if [[ -f "$DROPIN_DST" ]] && cmp -s "$DROPIN_SRC" "$DROPIN_DST"; then
  step drop-in unchanged "$DROPIN_DST"
else
  DROPIN_CHANGED=1
  if [[ "$DRY_RUN" == 1 ]]; then
    if [[ -f "$DROPIN_DST" ]]; then
      step drop-in changed "$DROPIN_DST differs from $DROPIN_SRC; would replace it (keeping a .bak):"
      diff -u "$DROPIN_DST" "$DROPIN_SRC" | sed 's/^/    /' || true
    else
      step drop-in changed "would install $DROPIN_SRC as $DROPIN_DST"
    fi
  else
    if [[ -f "$DROPIN_DST" ]]; then
      # Not ending in .conf: systemd ignores the backup.
      backup="$DROPIN_DST.bak-$(date +%Y%m%d%H%M%S)"
      priv cp -p "$DROPIN_DST" "$backup"
      echo "  previous drop-in kept as $backup"
    fi
    priv mkdir -p "$DROPIN_DIR"
    priv install -m 0644 "$DROPIN_SRC" "$DROPIN_DST"
    step drop-in changed "installed $DROPIN_DST"
  fi
fi
# An override.conf identical to this drop-in is an earlier run's copy, now installed
# under the drop-in's own name: it goes (no backup: the same bytes are in place). Any
# other override.conf is yours, and stays as it is.
if [[ -f "$DROPIN_OLD" ]] && cmp -s "$DROPIN_SRC" "$DROPIN_OLD"; then
  DROPIN_CHANGED=1
  if [[ "$DRY_RUN" == 1 ]]; then
    step old-drop-in changed "would remove $DROPIN_OLD, an earlier run's copy of $DROPIN_SRC (now $DROPIN_DST)"
  else
    priv rm -f "$DROPIN_OLD"
    step old-drop-in changed "removed $DROPIN_OLD, an earlier run's copy of $DROPIN_SRC (now $DROPIN_DST)"
  fi
elif [[ -f "$DROPIN_OLD" ]]; then
  echo "  kept your $DROPIN_OLD (systemctl edit's file): systemd reads it after $(basename "$DROPIN_DST"), so where both set a variable, yours wins"
fi

# ---------------------------------------------------------------------------
# 3. Reload and restart, only when the drop-in changed or systemd has not loaded the
#    unit's files as they are on disk (a drop-in copied by hand, or a run stopped
#    before its reload).
# ---------------------------------------------------------------------------
NEED_RELOAD=""
if [[ "$SYSTEMD_OK" == 1 ]]; then
  NEED_RELOAD="$(systemctl show ollama --property=NeedDaemonReload --value 2>/dev/null || true)"
fi
if [[ "$DROPIN_CHANGED" == 0 && "$NEED_RELOAD" != yes ]]; then
  step restart unchanged "drop-in unchanged and loaded: no daemon-reload, no restart"
else
  why="the drop-in changed"
  if [[ "$DROPIN_CHANGED" == 0 ]]; then
    why="the drop-in is unchanged, but systemd has not loaded the unit's files on disk (NeedDaemonReload=yes)"
  fi
  if [[ "$DRY_RUN" == 1 ]]; then
    step restart changed "$why: would run: systemctl daemon-reload; systemctl restart ollama"
  else
    priv systemctl daemon-reload
    priv systemctl restart ollama
    step restart changed "$why: systemctl daemon-reload; systemctl restart ollama"
  fi
fi

# ---------------------------------------------------------------------------
# 4. Enabled at boot and running.
# ---------------------------------------------------------------------------
if [[ "$SYSTEMD_OK" == 0 ]]; then
  step service skipped "systemd not running: would run 'systemctl enable --now ollama'"
else
  enabled="$(systemctl is-enabled ollama 2>/dev/null || true)"
  active="$(systemctl is-active ollama 2>/dev/null || true)"
  if [[ "$enabled" == enabled && "$active" == active ]]; then
    step service unchanged "ollama is enabled and active"
  elif [[ "$DRY_RUN" == 1 ]]; then
    step service changed "would run: systemctl enable --now ollama (now: ${enabled:-?}, ${active:-?})"
  else
    priv systemctl enable --now ollama
    step service changed "systemctl enable --now ollama (was: ${enabled:-?}, ${active:-?})"
  fi
fi

# ---------------------------------------------------------------------------
# 5. The API answers.
# ---------------------------------------------------------------------------
API_OK=0
if [[ "$DRY_RUN" == 1 ]]; then
  if command -v curl >/dev/null 2>&1 && api_answers; then
    API_OK=1
    step api ok "answering at $API_URL"
  else
    step api skipped "not answering at $API_URL now; a real run waits up to ${API_TIMEOUT}s"
  fi
else
  wait_for_api
  API_OK=1
  step api ok "answering at $API_URL"
fi

# ---------------------------------------------------------------------------
# 6. Models: pull the base, create the custom one, only when missing.
# ---------------------------------------------------------------------------
models=""
if [[ "$OLLAMA_OK" == 1 && "$API_OK" == 1 ]]; then
  models="$(installed_models)" || fail "'ollama list' failed"
fi

if [[ "$OLLAMA_OK" == 0 || "$API_OK" == 0 ]]; then
  step base-model skipped "cannot tell whether $BASE_MODEL is installed now; a real run pulls it if missing"
elif has_model "$BASE_MODEL" "$models"; then
  step base-model unchanged "$BASE_MODEL is installed"
elif [[ "$DRY_RUN" == 1 ]]; then
  step base-model changed "would run: ollama pull $BASE_MODEL"
else
  ollama pull "$BASE_MODEL" || fail "'ollama pull $BASE_MODEL' failed (network? model name?)"
  step base-model changed "pulled $BASE_MODEL"
fi

if [[ "$OLLAMA_OK" == 0 || "$API_OK" == 0 ]]; then
  step custom-model skipped "cannot tell whether $CUSTOM_MODEL is installed now; a real run creates it if missing"
elif has_model "$CUSTOM_MODEL" "$models" && [[ "$RECREATE" == 0 ]]; then
  step custom-model unchanged "$CUSTOM_MODEL is installed (--recreate to rebuild it from $MODELFILE)"
elif [[ "$DRY_RUN" == 1 ]]; then
  step custom-model changed "would run: ollama create $CUSTOM_MODEL -f $MODELFILE"
else
  ollama create "$CUSTOM_MODEL" -f "$MODELFILE" ||
    fail "'ollama create $CUSTOM_MODEL -f $MODELFILE' failed"
  step custom-model changed "created $CUSTOM_MODEL from $MODELFILE"
fi

# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------
summarize
echo "Verify the install: ollama-verify"
