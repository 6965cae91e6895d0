#!/usr/bin/env bash
# Start Ollama in Docker (setup/docker-compose.yml) and install the models inside the
# container. Idempotent: the stack is only (re)started by compose when needed, the base
# model is pulled and the custom model created only when missing; a second run prints
# "nothing changed".
#
# Exit codes: 0 done (or --dry-run finished, even if a real run would stop: it says so);
# 1 a step failed; 2 usage error; 3 a prerequisite is missing (real run only).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null # lib.sh is linted on its own
source "$SCRIPT_DIR/lib.sh"
COMPOSE_FILE="$SCRIPT_DIR/docker-compose.yml"
CONTAINER="ollama"                                         # container_name in the compose file
MODELFILE_IN_CONTAINER="/modelfiles/coding-assistant.Modelfile" # mounted read-only by it
API_URL="http://127.0.0.1:11434/"

BASE_MODEL="qwen2.5-coder:7b"
CUSTOM_MODEL="my-coder"
TIMEOUT=180
DRY_RUN=0
RECREATE=0

usage() {
  cat <<EOF
Usage: $(basename "$0") [options]

Start the Ollama container from setup/docker-compose.yml, wait until it is healthy, then
pull the base model and create the custom model inside it (only when missing).

Options:
  --dry-run         print what would be done; change nothing
  --base MODEL      base model to pull (default: $BASE_MODEL)
  --custom NAME     custom model to create (default: $CUSTOM_MODEL), from
                    $MODELFILE_IN_CONTAINER (setup/coding-assistant.Modelfile, mounted
                    read-only by the compose file; mount another one there to change it)
  --recreate        create the custom model again even if it exists
  --timeout SECS    how long to wait for the container to become healthy (default: $TIMEOUT)
  -h, --help        this help

Exit codes: 0 done (also after --dry-run), 1 a step failed, 2 usage error,
3 a prerequisite is missing.
EOF
}


while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --recreate) RECREATE=1 ;;
    --base | --custom | --timeout)
      [[ $# -ge 2 && -n "$2" ]] || die_usage "$1 needs a value"
      case "$1" in
        --base) BASE_MODEL="$2" ;;
        --custom) CUSTOM_MODEL="$2" ;;
        --timeout)
          [[ "$2" =~ ^[0-9]+$ ]] || die_usage "--timeout takes whole seconds, got '$2'"
          TIMEOUT="$2"
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

# shellcheck disable=SC2034 # read by lib.sh (step, summarize)
CHANGED=()
# shellcheck disable=SC2034 # read by lib.sh
PROBLEMS=()

# docker inspect with a format, or DEFAULT when the container does not exist.
inspect_or() {
  local default="$1" format="$2" out
  if out="$(docker inspect -f "$format" "$CONTAINER" 2>/dev/null)" && [[ -n "$out" ]]; then
    printf '%s\n' "$out"
  else
    printf '%s\n' "$default"
  fi
}

# "running" / "exited" / ... or "absent"
container_state() { inspect_or absent '{{.State.Status}}'; }

# "healthy" / "starting" / "unhealthy" / "none" (no healthcheck) / "absent"
container_health() {
  inspect_or absent '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}'
}

container_id() { inspect_or "" '{{.Id}}'; }

# The compose project that made the container, or "none" (e.g. `docker run --name ollama`).
container_project() { inspect_or none '{{index .Config.Labels "com.docker.compose.project"}}'; }

# What the container keeps its models in: a volume's name, or a bind mount's host path.
container_models() {
  inspect_or "" '{{range .Mounts}}{{if eq .Destination "/root/.ollama"}}{{if .Name}}{{.Name}}{{else}}{{.Source}}{{end}}{{end}}{{end}}'
}

# The project compose gives this file: COMPOSE_PROJECT_NAME, the file's top-level
# `name:`, else its directory's name, lower-cased, without characters compose drops.
compose_project() {
  local name="${COMPOSE_PROJECT_NAME:-}"
  if [[ -z "$name" ]]; then
    name="$(awk '/^name:/ { gsub(/["\047]/, "", $2); print $2; exit }' "$COMPOSE_FILE")"
  fi
  if [[ -z "$name" ]]; then
    name="$(basename "$(dirname "$COMPOSE_FILE")")"
  fi
  printf '%s\n' "$name" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9_-'
}

compose() {
  if [[ "$COMPOSE" == "docker compose" ]]; then
    docker compose -f "$COMPOSE_FILE" "$@"
  else
    docker-compose -f "$COMPOSE_FILE" "$@"
  fi
}

api_answers() {
  command -v curl >/dev/null 2>&1 && curl -sf --max-time 3 "$API_URL" >/dev/null 2>&1
}

if [[ "$DRY_RUN" == 1 ]]; then
  echo "dry run: nothing will be changed"
fi

# ---------------------------------------------------------------------------
# 1. Prerequisites
# ---------------------------------------------------------------------------
[[ -f "$COMPOSE_FILE" ]] || fail "the compose file $COMPOSE_FILE is missing (is setup/ complete?)"

DOCKER_OK=0
COMPOSE=""
if ! command -v docker >/dev/null 2>&1; then
  prereq_fail docker "docker is not installed: install Docker Engine and the NVIDIA Container Toolkit"
elif ! docker info >/dev/null 2>&1; then
  prereq_fail docker "the Docker engine does not answer ('docker info' failed): start it, or run as a
  user in the docker group (or with sudo)"
else
  DOCKER_OK=1
  step docker ok "engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
  if docker compose version >/dev/null 2>&1; then
    COMPOSE="docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE="docker-compose"
  else
    prereq_fail compose "neither 'docker compose' nor 'docker-compose' is installed: install the Compose plugin"
  fi
  [[ -n "$COMPOSE" ]] && step compose ok "$COMPOSE"
fi

# ---------------------------------------------------------------------------
# 2. The container, up and healthy.
# ---------------------------------------------------------------------------
STATE="absent"
[[ "$DOCKER_OK" == 1 ]] && STATE="$(container_state)"

if [[ "$STATE" != running ]] && api_answers; then
  prereq_fail port "something already answers at $API_URL but the '$CONTAINER' container is not
  running: probably a native Ollama service. A service and a container cannot both bind
  port 11434: stop the service first (sudo systemctl disable --now ollama)"
fi

FOREIGN=0
# A container named like ours that compose did not make from this file (Ollama's own
# docs: `docker run -d --gpus=all -v ollama:/root/.ollama -p 11434:11434 --name ollama
# ollama/ollama`): `up` would fail on the name, and the fix is not the GPU toolkit.
if [[ "$DOCKER_OK" == 1 && "$STATE" != absent ]]; then
  project="$(container_project)"
  ours="$(compose_project)"
  if [[ "$project" != "$ours" ]]; then
    FOREIGN=1
    models_in="$(container_models)"
    if [[ -z "$models_in" ]]; then
      keep_hint="its models live in the container itself: copy them out first
  (docker cp $CONTAINER:/root/.ollama ./ollama-models)"
    elif [[ "$models_in" == /* ]]; then
      keep_hint="its models are in $models_in on this host: to keep them, mount that path at
  /root/.ollama in $COMPOSE_FILE instead of the ollama-models volume"
    else
      keep_hint="its models are in the volume $models_in, which stays: to use them, set
  'name: $models_in' under 'volumes: ollama-models:' in $COMPOSE_FILE"
    fi
    if [[ "$project" == none ]]; then
      made_by="that no compose project made (a 'docker run --name $CONTAINER', as in Ollama's docs?)"
    else
      made_by="from project '$project' (another copy of this compose file?)"
    fi
    prereq_fail container "expected no container named '$CONTAINER', or the one compose made from
  $COMPOSE_FILE (project '$ours'); found one ($STATE) $made_by.
  Compose cannot create its own beside it, whatever the GPU setup.
  Remove it: docker rm -f $CONTAINER; $keep_hint.
  Then run this script again."
  fi
fi

if [[ "$DOCKER_OK" == 0 || -z "$COMPOSE" ]]; then
  step container skipped "would run: docker compose -f $COMPOSE_FILE up -d"
elif [[ "$FOREIGN" == 1 ]]; then
  step container skipped "another '$CONTAINER' container is in the way (see above); a real run stops here"
elif [[ "$DRY_RUN" == 1 ]]; then
  if [[ "$STATE" == running ]]; then
    step container ok "running (a real run lets compose re-create it if the compose file changed)"
  else
    step container changed "would run: $COMPOSE -f $COMPOSE_FILE up -d (container now: $STATE)"
  fi
else
  before="$(container_id)"
  if ! compose up -d; then
    fail "'$COMPOSE up -d' failed. If it says it could not select device driver \"nvidia\",
  install the NVIDIA Container Toolkit and restart Docker
  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)."
  fi
  after="$(container_id)"
  if [[ "$STATE" == running && "$before" == "$after" ]]; then
    step container unchanged "$CONTAINER is running"
  else
    step container changed "$CONTAINER started (was: $STATE)"
  fi
fi

HEALTHY=0
if [[ "$DOCKER_OK" == 1 && -n "$COMPOSE" ]]; then
  if [[ "$DRY_RUN" == 1 ]]; then
    if [[ "$STATE" == running && "$(container_health)" == healthy ]]; then
      HEALTHY=1
      step health ok "healthy"
    else
      step health skipped "not healthy now; a real run waits up to ${TIMEOUT}s"
    fi
  else
    deadline=$((SECONDS + TIMEOUT))
    health="$(container_health)"
    if [[ "$health" != healthy ]]; then
      echo "waiting up to ${TIMEOUT}s for $CONTAINER to become healthy ..."
    fi
    until [[ "$health" == healthy ]] ||
      { [[ "$health" == none ]] && docker exec "$CONTAINER" ollama list >/dev/null 2>&1; }; do
      # A server that exited never becomes healthy: no use waiting out the timeout.
      state="$(container_state)"
      if [[ "$state" != running ]]; then
        why="its server exited"
        if [[ "$state" == restarting ]]; then
          why="its server keeps exiting (Docker restarts it by the compose file's restart policy)"
        fi
        fail "$CONTAINER is $state, not running: $why, so it cannot become healthy.
  Look at why: docker logs --tail 50 $CONTAINER; fix what it says (the image, the GPU, the
  compose file's environment or volumes), then run this script again"
      fi
      if ((SECONDS >= deadline)); then
        fail "$CONTAINER is not healthy after ${TIMEOUT}s (health: $health).
  Look at: docker logs --tail 50 $CONTAINER"
      fi
      sleep 2
      health="$(container_health)"
    done
    HEALTHY=1
    step health ok "$health"
    if command -v curl >/dev/null 2>&1 && ! api_answers; then
      echo "warning: the container is healthy but $API_URL does not answer from this host (port mapping?)" >&2
    fi
  fi
else
  step health skipped "no Docker engine"
fi

# ---------------------------------------------------------------------------
# 3. Models, inside the container, only when missing.
# ---------------------------------------------------------------------------
models=""
if [[ "$HEALTHY" == 1 ]]; then
  models="$(docker exec "$CONTAINER" ollama list | awk 'NR > 1 && $1 != "" { print $1 }')" ||
    fail "'docker exec $CONTAINER ollama list' failed"
fi

if [[ "$HEALTHY" == 0 ]]; then
  step base-model skipped "cannot tell now; a real run pulls $BASE_MODEL if missing"
elif has_model "$BASE_MODEL" "$models"; then
  step base-model unchanged "$BASE_MODEL is installed"
elif [[ "$DRY_RUN" == 1 ]]; then
  step base-model changed "would run: docker exec $CONTAINER ollama pull $BASE_MODEL"
else
  docker exec "$CONTAINER" ollama pull "$BASE_MODEL" ||
    fail "'docker exec $CONTAINER ollama pull $BASE_MODEL' failed (network? model name?)"
  step base-model changed "pulled $BASE_MODEL"
fi

if [[ "$HEALTHY" == 0 ]]; then
  step custom-model skipped "cannot tell now; a real run creates $CUSTOM_MODEL if missing"
elif has_model "$CUSTOM_MODEL" "$models" && [[ "$RECREATE" == 0 ]]; then
  step custom-model unchanged "$CUSTOM_MODEL is installed (--recreate to rebuild it)"
elif [[ "$DRY_RUN" == 1 ]]; then
  step custom-model changed "would run: docker exec $CONTAINER ollama create $CUSTOM_MODEL -f $MODELFILE_IN_CONTAINER"
else
  docker exec "$CONTAINER" ollama create "$CUSTOM_MODEL" -f "$MODELFILE_IN_CONTAINER" ||
    fail "'docker exec $CONTAINER ollama create $CUSTOM_MODEL -f $MODELFILE_IN_CONTAINER' failed"
  step custom-model changed "created $CUSTOM_MODEL from $MODELFILE_IN_CONTAINER"
fi

# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------
summarize
echo "The API is published at $API_URL; check it from this host with: ollama-verify --tags 'not @host'"
