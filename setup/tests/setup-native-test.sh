#!/usr/bin/env bash
# Hermetic test of setup/setup-native.sh: no GPU, no systemd, no Ollama, no network.
# Stand-in `systemctl`, `ollama`, `nvidia-smi`, `curl` and `sudo` log their calls and keep
# state in a temp dir; PATH holds only the stubs and links to the few system tools the
# script uses, so nothing real is ever touched (a real `ollama` on this machine included);
# OLLAMA_DROPIN_DIR and OLLAMA_WSL_LIB_DIR point into the temp dir.
# Usage: bash setup/tests/setup-native-test.sh   (exit 0: all cases passed)
set -euo pipefail

SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/setup-native.sh"
DROPIN_SRC="$(dirname "$SCRIPT")/ollama.service.d/override.conf"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Never the real /usr/lib/wsl/lib (this may be a WSL2 machine).
export OLLAMA_WSL_LIB_DIR="$WORK/no-wsl"

FAILURES=0
ok() { printf 'ok      %s\n' "$1"; }
not_ok() {
  printf 'NOT OK  %s\n' "$1"
  FAILURES=$((FAILURES + 1))
}

# ---------------------------------------------------------------------------
# The system tools setup-native.sh and the stubs use, linked into one directory.
# ---------------------------------------------------------------------------
SYSBIN="$WORK/sysbin"
mkdir -p "$SYSBIN"
for tool in bash env cat cmp cp date diff dirname basename grep head tail install mkdir \
  rm sed sleep awk tr mktemp touch; do
  path="$(command -v "$tool" || true)"
  if [[ -z "$path" ]]; then
    echo "setup-native-test: the system tool '$tool' is missing here" >&2
    exit 1
  fi
  ln -s "$path" "$SYSBIN/$tool"
done

# ---------------------------------------------------------------------------
# Stubs. Each logs "name args..." to $STUB_LOG and keeps its state under $STUB_STATE.
# ---------------------------------------------------------------------------
STUBS="$WORK/stubs"
mkdir -p "$STUBS"

cat >"$STUBS/systemctl" <<'EOF'
#!/usr/bin/env bash
echo "systemctl $*" >>"$STUB_LOG"
case "$1" in
  is-system-running) echo "${STUB_SYSTEM_STATE:-running}"; [[ "${STUB_SYSTEM_STATE:-running}" == running ]] ;;
  show)
    case "$*" in
      *NeedDaemonReload*) cat "$STUB_STATE/need-reload" 2>/dev/null || echo no ;;
      *) echo loaded ;;
    esac
    ;;
  is-enabled) cat "$STUB_STATE/enabled" 2>/dev/null || { echo disabled; exit 1; } ;;
  is-active) cat "$STUB_STATE/active" 2>/dev/null || { echo inactive; exit 3; } ;;
  enable) echo enabled >"$STUB_STATE/enabled"; [[ "${2:-}" == --now ]] && echo active >"$STUB_STATE/active"; true ;;
  restart | start) echo active >"$STUB_STATE/active" ;;
  daemon-reload) rm -f "$STUB_STATE/need-reload" ;;
  *) echo "systemctl stub: unexpected '$*'" >&2; exit 1 ;;
esac
EOF

cat >"$STUBS/ollama" <<'EOF'
#!/usr/bin/env bash
echo "ollama $*" >>"$STUB_LOG"
models="$STUB_STATE/models"
touch "$models"
case "$1" in
  --version) echo "ollama version is 0.17.1" ;;
  list)
    printf 'NAME                       ID              SIZE      MODIFIED\n'
    while read -r m; do printf '%-26s 0123456789ab    4.7 GB    1 minute ago\n' "$m"; done <"$models"
    ;;
  pull) grep -qxF "$2" "$models" || echo "$2" >>"$models"; echo success ;;
  create)
    [[ "$3" == -f && -f "$4" ]] || { echo "ollama stub: create wants NAME -f FILE" >&2; exit 1; }
    name="$2"; [[ "$name" == *:* ]] || name="$name:latest"
    grep -qxF "$name" "$models" || echo "$name" >>"$models"; echo success
    ;;
  *) echo "ollama stub: unexpected '$*'" >&2; exit 1 ;;
esac
EOF

cat >"$STUBS/nvidia-smi" <<'EOF'
#!/usr/bin/env bash
echo "nvidia-smi $*" >>"$STUB_LOG"
echo "GPU 0: NVIDIA GeForce RTX 3060 (UUID: GPU-00000000-0000-0000-0000-000000000000)"
EOF

cat >"$STUBS/curl" <<'EOF'
#!/usr/bin/env bash
echo "curl $*" >>"$STUB_LOG"
[[ -f "$STUB_STATE/active" ]] || exit 7
echo "Ollama is running"
EOF

# Only used when this test does not run as root: runs the command as is.
cat >"$STUBS/sudo" <<'EOF'
#!/usr/bin/env bash
echo "sudo $*" >>"$STUB_LOG"
exec "$@"
EOF
chmod +x "$STUBS"/*

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
# new_env: a fresh machine state (service installed, disabled and stopped; no models).
new_env() {
  export STUB_STATE="$WORK/state.$1"
  export OLLAMA_DROPIN_DIR="$WORK/dropin.$1/ollama.service.d"
  rm -rf "$STUB_STATE" "$WORK/dropin.$1"
  mkdir -p "$STUB_STATE"
}

# run_setup NAME PATH -- ARGS...: runs the script, sets OUT, LOG (calls) and RC.
run_setup() {
  local name="$1" path="$2"
  shift 3
  export STUB_LOG="$WORK/$name.calls"
  : >"$STUB_LOG"
  set +e
  OUT="$(PATH="$path" bash "$SCRIPT" --api-timeout 2 "$@" 2>&1)"
  RC=$?
  set -e
  LOG="$(cat "$STUB_LOG")"
  printf '%s\n' "--- $name (exit $RC)" "$OUT" | sed 's/^/    /' >"$WORK/$name.out"
}

called() { grep -qE -- "$1" <<<"$LOG"; }
not_called() { ! grep -qE -- "$1" <<<"$LOG"; }
says() { grep -qE -- "$1" <<<"$OUT"; }
not_says() { ! grep -qE -- "$1" <<<"$OUT"; }
DROPIN_NAME=50-ollama-verify.conf
backup_exists() { compgen -G "$OLLAMA_DROPIN_DIR/$DROPIN_NAME.bak-*" >/dev/null; }
no_backup_of_override() { ! compgen -G "$OLLAMA_DROPIN_DIR/override.conf.bak-*" >/dev/null; }
# Calls that change the machine.
MUTATING='systemctl (daemon-reload|restart|enable )|ollama (pull|create)'

expect() {
  local what="$1"
  shift
  if "$@"; then ok "$what"; else
    not_ok "$what"
    cat "$WORK/$CASE.out"
    printf '    calls:\n'
    printf '      %s\n' "${LOG:-(none)}"
  fi
}

FULL_PATH="$STUBS:$SYSBIN"

# ---------------------------------------------------------------------------
# Case 1: dry run on a fresh machine changes nothing.
# ---------------------------------------------------------------------------
new_env fresh
CASE=dry-run
run_setup "$CASE" "$FULL_PATH" -- --dry-run
expect "dry run exits 0" test "$RC" -eq 0
expect "dry run says it would install the drop-in" says '^drop-in +would change'
expect "dry run writes no drop-in" test ! -e "$OLLAMA_DROPIN_DIR/$DROPIN_NAME"
expect "dry run calls no daemon-reload/restart/enable/pull/create" not_called "$MUTATING"

# ---------------------------------------------------------------------------
# Case 2: first run does everything.
# ---------------------------------------------------------------------------
CASE=first-run
run_setup "$CASE" "$FULL_PATH" --
expect "first run exits 0" test "$RC" -eq 0
expect "first run installs the drop-in under its own name" \
  cmp -s "$DROPIN_SRC" "$OLLAMA_DROPIN_DIR/$DROPIN_NAME"
expect "first run writes no override.conf (systemctl edit's file)" \
  test ! -e "$OLLAMA_DROPIN_DIR/override.conf"
expect "first run reloads systemd" called '^(sudo )?systemctl daemon-reload$'
expect "first run restarts ollama" called '^(sudo )?systemctl restart ollama$'
expect "first run enables and starts ollama" called '^(sudo )?systemctl enable --now ollama$'
expect "first run pulls the base model" called '^ollama pull qwen2\.5-coder:7b$'
expect "first run creates my-coder from the Modelfile" \
  called '^ollama create my-coder -f .*/setup/coding-assistant\.Modelfile$'
expect "first run reports changes" says '^changed: '

# ---------------------------------------------------------------------------
# Case 3: second run changes nothing.
# ---------------------------------------------------------------------------
CASE=second-run
run_setup "$CASE" "$FULL_PATH" --
expect "second run exits 0" test "$RC" -eq 0
expect "second run reports nothing changed" says '^nothing changed$'
expect "second run calls no daemon-reload/restart/enable/pull/create" not_called "$MUTATING"
expect "second run reports no step changed" not_says '^[a-z-]+ +changed '
expect "second run reports the custom model unchanged" says '^custom-model +unchanged'
expect "second run reports the base model unchanged" says '^base-model +unchanged'
expect "second run reports the drop-in unchanged" says '^drop-in +unchanged'
expect "second run reports no restart" says '^restart +unchanged'
expect "second run reports the service unchanged" says '^service +unchanged'


# ---------------------------------------------------------------------------
# Case 4: --recreate rebuilds the custom model only.
# ---------------------------------------------------------------------------
CASE=recreate
run_setup "$CASE" "$FULL_PATH" -- --recreate
expect "--recreate exits 0" test "$RC" -eq 0
expect "--recreate creates my-coder again" called '^ollama create my-coder -f '
expect "--recreate pulls nothing and restarts nothing" \
  not_called 'systemctl (daemon-reload|restart)|ollama pull'

# ---------------------------------------------------------------------------
# Case 5: an edited drop-in is put back, with a backup, and the service restarted.
# ---------------------------------------------------------------------------
CASE=drift
echo 'Environment="OLLAMA_HOST=127.0.0.1:11434"' >>"$OLLAMA_DROPIN_DIR/$DROPIN_NAME"
run_setup "$CASE" "$FULL_PATH" --
expect "a drifted drop-in is replaced" cmp -s "$DROPIN_SRC" "$OLLAMA_DROPIN_DIR/$DROPIN_NAME"
expect "the drifted drop-in is kept as a backup" backup_exists
expect "a drifted drop-in restarts ollama" called '^(sudo )?systemctl restart ollama$'

# ---------------------------------------------------------------------------
# Case 5b: the drop-in unchanged, but systemd has not loaded it (copied by hand, or a
# run stopped before its reload): reload and restart anyway, once.
# ---------------------------------------------------------------------------
CASE=need-reload
echo yes >"$STUB_STATE/need-reload"
run_setup "$CASE" "$FULL_PATH" --
expect "NeedDaemonReload=yes: exit 0" test "$RC" -eq 0
expect "NeedDaemonReload=yes: the drop-in is unchanged" says '^drop-in +unchanged'
expect "NeedDaemonReload=yes: daemon-reload" called '^(sudo )?systemctl daemon-reload$'
expect "NeedDaemonReload=yes: restart" called '^(sudo )?systemctl restart ollama$'
expect "NeedDaemonReload=yes: says why" says 'NeedDaemonReload=yes'
CASE=need-reload-dry-run
echo yes >"$STUB_STATE/need-reload"
run_setup "$CASE" "$FULL_PATH" -- --dry-run
expect "NeedDaemonReload=yes, dry run: would restart" says '^restart +would change .*NeedDaemonReload'
expect "NeedDaemonReload=yes, dry run: changes nothing" not_called "$MUTATING"
rm -f "$STUB_STATE/need-reload"
CASE=reloaded
run_setup "$CASE" "$FULL_PATH" --
expect "once reloaded: nothing changed" says '^nothing changed$'

# ---------------------------------------------------------------------------
# Case 5c: the user's own override.conf (`systemctl edit ollama`) is never touched.
# ---------------------------------------------------------------------------
CASE=users-override
USERS='[Service]
Environment="OLLAMA_MODELS=/data/ollama/models"'
printf '%s\n' "$USERS" >"$OLLAMA_DROPIN_DIR/override.conf"
run_setup "$CASE" "$FULL_PATH" --
expect "the user's override.conf: exit 0" test "$RC" -eq 0
expect "the user's override.conf is kept as it is" \
  test "$(cat "$OLLAMA_DROPIN_DIR/override.conf")" == "$USERS"
expect "the user's override.conf gets no backup" no_backup_of_override
expect "the user's override.conf: the drop-in is unchanged" says '^drop-in +unchanged'
expect "the user's override.conf: says it is kept and wins" says 'kept your .*override\.conf'
expect "the user's override.conf: nothing changed" says '^nothing changed$'

# ---------------------------------------------------------------------------
# Case 5d: an earlier version installed the drop-in as override.conf: it moves to the
# drop-in's own name, without a backup, and the service restarts once.
# ---------------------------------------------------------------------------
new_env migrate
mkdir -p "$OLLAMA_DROPIN_DIR"
cp "$DROPIN_SRC" "$OLLAMA_DROPIN_DIR/override.conf"
CASE=migrate
run_setup "$CASE" "$FULL_PATH" --
expect "migration: exit 0" test "$RC" -eq 0
expect "migration: the drop-in is installed under its own name" \
  cmp -s "$DROPIN_SRC" "$OLLAMA_DROPIN_DIR/$DROPIN_NAME"
expect "migration: the old copy is gone" test ! -e "$OLLAMA_DROPIN_DIR/override.conf"
expect "migration: no backup of an identical copy" no_backup_of_override
expect "migration: reloads and restarts" called '^(sudo )?systemctl restart ollama$'
CASE=migrated
run_setup "$CASE" "$FULL_PATH" --
expect "after migration: nothing changed" says '^nothing changed$'

# ---------------------------------------------------------------------------
# Case 6: missing prerequisites stop a real run with exit 3 and say what to do.
# ---------------------------------------------------------------------------
NO_OLLAMA="$WORK/stubs-no-ollama"
mkdir -p "$NO_OLLAMA"
for s in systemctl nvidia-smi curl sudo; do ln -s "$STUBS/$s" "$NO_OLLAMA/$s"; done
new_env no-ollama
CASE=no-ollama
run_setup "$CASE" "$NO_OLLAMA:$SYSBIN" --
expect "no ollama binary: exit 3" test "$RC" -eq 3
expect "no ollama binary: names the official installer" \
  says 'curl -fsSL https://ollama\.com/install\.sh \| sh'
expect "no ollama binary: nothing installed" test ! -e "$OLLAMA_DROPIN_DIR/$DROPIN_NAME"

NO_GPU="$WORK/stubs-no-gpu"
mkdir -p "$NO_GPU"
for s in systemctl ollama curl sudo; do ln -s "$STUBS/$s" "$NO_GPU/$s"; done
new_env no-gpu
CASE=no-gpu
run_setup "$CASE" "$NO_GPU:$SYSBIN" --
expect "no GPU: exit 3" test "$RC" -eq 3
expect "no GPU: points at --allow-cpu" says '--allow-cpu'
CASE=no-gpu-allowed
run_setup "$CASE" "$NO_GPU:$SYSBIN" -- --allow-cpu
expect "no GPU with --allow-cpu: exit 0" test "$RC" -eq 0

# WSL2 under sudo: secure_path drops /usr/lib/wsl/lib, where nvidia-smi is.
export OLLAMA_WSL_LIB_DIR="$WORK/wsl-lib"
mkdir -p "$OLLAMA_WSL_LIB_DIR"
ln -s "$STUBS/nvidia-smi" "$OLLAMA_WSL_LIB_DIR/nvidia-smi"
new_env wsl-sudo
CASE=wsl-sudo
run_setup "$CASE" "$NO_GPU:$SYSBIN" --
expect "WSL2, nvidia-smi off PATH: exit 0" test "$RC" -eq 0
expect "WSL2, nvidia-smi off PATH: the GPU is found" says '^gpu +ok +GPU 0: '
export OLLAMA_WSL_LIB_DIR="$WORK/no-wsl"

new_env no-systemd
CASE=no-systemd
export STUB_SYSTEM_STATE=offline
run_setup "$CASE" "$FULL_PATH" --
expect "systemd offline: exit 3" test "$RC" -eq 3
expect "systemd offline: gives the WSL2 hint" says 'systemd=true'
CASE=no-systemd-dry-run
run_setup "$CASE" "$FULL_PATH" -- --dry-run
expect "systemd offline, dry run: exit 0" test "$RC" -eq 0
expect "systemd offline, dry run: says a real run would stop" says 'would stop .*systemd'
unset STUB_SYSTEM_STATE

# ---------------------------------------------------------------------------
# Case 7: usage errors exit 2.
# ---------------------------------------------------------------------------
CASE=usage
run_setup "$CASE" "$FULL_PATH" -- --no-such-flag
expect "an unknown flag exits 2" test "$RC" -eq 2

if [[ "$FAILURES" -gt 0 ]]; then
  echo "setup-native-test: $FAILURES check(s) failed"
  exit 1
fi
echo "setup-native-test: all checks passed"
