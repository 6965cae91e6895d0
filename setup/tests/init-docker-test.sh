#!/usr/bin/env bash
# Hermetic test of setup/init-docker.sh: a stand-in `docker` (engine, inspect, exec) and
# `docker-compose` log their calls and keep the container's state in a temp dir; PATH
# holds only the stubs and links to the system tools used, so no real Docker is touched.
# Usage: bash setup/tests/init-docker-test.sh   (exit 0: all cases passed)
set -euo pipefail

SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/init-docker.sh"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

FAILURES=0
ok() { printf 'ok      %s\n' "$1"; }
not_ok() {
  printf 'NOT OK  %s\n' "$1"
  FAILURES=$((FAILURES + 1))
}

SYSBIN="$WORK/sysbin"
mkdir -p "$SYSBIN"
for tool in bash cat dirname basename grep awk sleep touch tr; do
  path="$(command -v "$tool" || true)"
  [[ -n "$path" ]] || {
    echo "init-docker-test: the system tool '$tool' is missing here" >&2
    exit 1
  }
  ln -s "$path" "$SYSBIN/$tool"
done

STUBS="$WORK/stubs"
mkdir -p "$STUBS"

# The container exists once `up -d` ran; models live in $STUB_STATE/models.
cat >"$STUBS/docker" <<'EOF'
#!/usr/bin/env bash
echo "docker $*" >>"$STUB_LOG"
models="$STUB_STATE/models"
touch "$models"
case "$1" in
  info) exit 0 ;;
  version) echo "27.0.0" ;;
  compose) exit 1 ;; # no compose plugin: the script must fall back to docker-compose
  inspect)
    [[ -f "$STUB_STATE/container" ]] || { echo; echo "Error: No such object: ollama" >&2; exit 1; }
    case "$3" in
      *compose.project*) cat "$STUB_STATE/project" 2>/dev/null || echo ;;
      *Mounts*) cat "$STUB_STATE/mounts" 2>/dev/null || echo ;;
      *Health*) cat "$STUB_STATE/health" 2>/dev/null || echo healthy ;;
      *Status*) cat "$STUB_STATE/status" 2>/dev/null || echo running ;;
      *Id*) cat "$STUB_STATE/container" ;;
    esac
    ;;
  exec)
    shift 2 # exec ollama
    [[ "$1" == ollama ]] || { echo "docker stub: unexpected exec '$*'" >&2; exit 1; }
    case "$2" in
      list)
        echo "NAME    ID    SIZE    MODIFIED"
        while read -r m; do echo "$m    0123456789ab    4.7 GB    now"; done <"$models"
        ;;
      pull) grep -qxF "$3" "$models" || echo "$3" >>"$models" ;;
      create)
        [[ "$4" == -f && "$5" == /modelfiles/coding-assistant.Modelfile ]] || exit 1
        n="$3"; [[ "$n" == *:* ]] || n="$n:latest"
        grep -qxF "$n" "$models" || echo "$n" >>"$models"
        ;;
      *) exit 1 ;;
    esac
    ;;
  *) echo "docker stub: unexpected '$*'" >&2; exit 1 ;;
esac
EOF

cat >"$STUBS/docker-compose" <<'EOF'
#!/usr/bin/env bash
echo "docker-compose $*" >>"$STUB_LOG"
[[ "$1" == -f && -f "$2" && "$3" == up && "$4" == -d ]] || exit 1
[[ -f "$STUB_STATE/container" ]] && [[ "$(cat "$STUB_STATE/project" 2>/dev/null)" != setup ]] && {
  echo 'Error response from daemon: Conflict. The container name "/ollama" is already in use' >&2
  exit 1
}
[[ -f "$STUB_STATE/container" ]] || echo "c0ffee" >"$STUB_STATE/container"
echo setup >"$STUB_STATE/project"
EOF
chmod +x "$STUBS"/*

export STUB_STATE="$WORK/state"
mkdir -p "$STUB_STATE"

run_init() {
  local name="$1"
  shift
  export STUB_LOG="$WORK/$name.calls"
  : >"$STUB_LOG"
  set +e
  OUT="$(PATH="$STUBS:$SYSBIN" bash "$SCRIPT" --timeout 2 "$@" 2>&1)"
  RC=$?
  set -e
  LOG="$(cat "$STUB_LOG")"
  CASE="$name"
}

called() { grep -qE -- "$1" <<<"$LOG"; }
not_called() { ! grep -qE -- "$1" <<<"$LOG"; }
says() { grep -qE -- "$1" <<<"$OUT"; }
not_says() { ! grep -qE -- "$1" <<<"$OUT"; }

expect() {
  local what="$1"
  shift
  if "$@"; then ok "$what"; else
    not_ok "$what"
    printf '    --- %s (exit %s)\n' "$CASE" "$RC"
    printf '    %s\n' "$OUT"
    printf '    calls:\n'
    printf '      %s\n' "$LOG"
  fi
}

MUTATING='compose .*up|ollama (pull|create)'

run_init dry-run --dry-run
expect "dry run exits 0" test "$RC" -eq 0
expect "dry run starts nothing, pulls nothing" not_called "$MUTATING"
expect "dry run says it would start the container" says '^container +would change'

run_init first-run
expect "first run exits 0" test "$RC" -eq 0
expect "first run falls back to docker-compose up -d" called '^docker-compose -f .*/setup/docker-compose\.yml up -d$'
expect "first run pulls the base model in the container" called '^docker exec ollama ollama pull qwen2\.5-coder:7b$'
expect "first run creates my-coder from the mounted Modelfile" \
  called '^docker exec ollama ollama create my-coder -f /modelfiles/coding-assistant\.Modelfile$'

run_init second-run
expect "second run exits 0" test "$RC" -eq 0
expect "second run reports nothing changed" says '^nothing changed$'
expect "second run pulls and creates nothing" not_called 'ollama (pull|create)'

run_init recreate --recreate
expect "--recreate creates my-coder again" called '^docker exec ollama ollama create my-coder '
expect "--recreate pulls nothing" not_called 'ollama pull'

run_init usage --nope
expect "an unknown flag exits 2" test "$RC" -eq 2

# A server that keeps exiting (restart: unless-stopped): the wait ends at once and says
# why, rather than waiting out --timeout and calling it slow to become healthy.
export STUB_STATE="$WORK/state.crashing"
mkdir -p "$STUB_STATE"
echo "dead1" >"$STUB_STATE/container"
echo setup >"$STUB_STATE/project"
echo restarting >"$STUB_STATE/status"
echo starting >"$STUB_STATE/health"
run_init crashing --timeout 30
expect "a crashing container: exit 1" test "$RC" -eq 1
expect "a crashing container: says it is not running" says 'ollama is restarting, not running'
expect "a crashing container: points at its log" says 'docker logs --tail 50 ollama'
expect "a crashing container: does not call it slow" not_says 'not healthy after'
expect "a crashing container: pulls nothing" not_called 'ollama (pull|create)'

# A container named ollama from Ollama's own docs (`docker run --name ollama -v
# ollama:/root/.ollama ollama/ollama`): no compose project; `up` would clash on the name.
export STUB_STATE="$WORK/state.docker-run"
mkdir -p "$STUB_STATE"
echo "beef" >"$STUB_STATE/container"
echo ollama >"$STUB_STATE/mounts"
run_init foreign
expect "a foreign 'ollama' container: exit 3" test "$RC" -eq 3
expect "a foreign 'ollama' container: compose up is not run" not_called 'compose .*up'
expect "a foreign 'ollama' container: says how to remove it" says 'docker rm -f ollama'
expect "a foreign 'ollama' container: names its volume to reuse" says "name: ollama' under 'volumes: ollama-models:'"
expect "a foreign 'ollama' container: does not blame the NVIDIA toolkit" not_says 'NVIDIA'
run_init foreign-dry-run --dry-run
expect "a foreign 'ollama' container, dry run: exit 0" test "$RC" -eq 0
expect "a foreign 'ollama' container, dry run: a real run would stop" says 'would stop .*container'
expect "a foreign 'ollama' container, dry run: nothing started" not_called "$MUTATING"
# Another compose project's 'ollama' (a copy of setup/ elsewhere) is not ours either.
echo other >"$STUB_STATE/project"
run_init other-project
expect "another project's 'ollama' container: exit 3" test "$RC" -eq 3
expect "another project's 'ollama' container: names the project" says "from project 'other'"

if [[ "$FAILURES" -gt 0 ]]; then
  echo "init-docker-test: $FAILURES check(s) failed"
  exit 1
fi
echo "init-docker-test: all checks passed"
