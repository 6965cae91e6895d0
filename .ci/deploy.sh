#!/usr/bin/env bash
# CI of deploy/: the Helm chart rendered by Helm's own engine and validated against the
# Kubernetes schemas, the image built from this build's binary and run against the
# emulator with the chart's own command lines, the Sonobuoy plugin's contract and the
# node-problem-detector plugin's exit codes. No Kubernetes cluster runs here.
#
# Needs the debug binaries (cargo build, as the tests before it do). Installs helm-sdkpy
# and kubernetes-validate from PyPI into a throwaway venv on Python >= 3.12 (pyenv's);
# says `!!! SKIPPED` for each part whose tools cannot be had. Leaves no container, no
# process and no file behind; the image (ollama-verify-ci:<hash of its inputs>) is kept
# for the next run, its older tags removed.
# shellcheck source=.ci/lib.sh
source "$(dirname "$0")/lib.sh"
ci_begin deploy "" ollama-verify ollama-emulator

work="$(mktemp -d)"
run_label="org.ollama-verify.test=deploy-$$"
emulators=()
cleanup() {
  local ids
  mapfile -t ids < <(docker ps -aq --filter "label=$run_label" 2>/dev/null || true)
  [[ ${#ids[@]} -eq 0 ]] || docker rm -f "${ids[@]}" >/dev/null 2>&1 || true
  for pid in "${emulators[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Starts an emulator on a free port with the config $1; prints the port.
emulator() {
  local port config="$work/emulator-$RANDOM.toml"
  port="$(free_port)"
  printf '%s\n' "$1" >"$config"
  OLLAMA_HOST="127.0.0.1:$port" OLLAMA_EMULATOR_CONFIG="$config" "$bin/ollama-emulator" serve \
    >"$work/emulator-$port.log" 2>&1 &
  emulators+=($!)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "$port"; return; }
    sleep 0.1
  done
  echo "deploy: the emulator on port $port did not answer within 10 s" >&2
  return 1
}
# The emulator as a healthy node's Ollama (realistic speed) and as a sick one: its custom
# model is missing (models.custom, api.chat and api.openai fail).
healthy="$(emulator $'token_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20')"
sick="$(emulator $'custom = []\ntoken_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20')"
# The chart's default selection, as its values.yaml states it.
tags="$(sed -n 's/^tags: "\(.*\)"$/\1/p' deploy/helm/ollama-verify/values.yaml)"
[[ -n "$tags" ]] || fail "no top-level tags: \"...\" in deploy/helm/ollama-verify/values.yaml"

echo "== deploy: shell scripts"
if command -v shellcheck >/dev/null 2>&1; then
  shellcheck -x deploy/build-image.sh deploy/node-problem-detector/ollama-verify-check.sh .ci/deploy.sh
  echo "  shellcheck: deploy/build-image.sh deploy/node-problem-detector/ollama-verify-check.sh .ci/deploy.sh clean"
else
  echo "!!! SKIPPED: shellcheck is not installed: deploy/'s scripts were NOT linted."
fi

echo "== deploy: node-problem-detector plugin (exit codes and message)"
npd() { # npd PORT [TAGS] -> "code|message"
  local out code=0
  out="$(OLLAMA_VERIFY_BIN="$bin/ollama-verify" OLLAMA_VERIFY_HOST="http://127.0.0.1:$1" \
    OLLAMA_VERIFY_GPU=none OLLAMA_VERIFY_TAGS="${2:-$tags}" timeout 120 \
    sh deploy/node-problem-detector/ollama-verify-check.sh)" || code=$?
  [[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]] || fail "NPD plugin: more than one line: $out"
  echo "$code|$out"
}
r="$(npd "$healthy")"
[[ "$r" == "0|ollama-verify: no check failed ("*")" ]] || fail "NPD plugin, healthy node: $r"
echo "  healthy: exit ${r%%|*}: ${r#*|}"
r="$(npd "$sick")"
[[ "$r" == 1\|*"models.custom"* ]] || fail "NPD plugin, sick node: $r"
echo "  sick: exit ${r%%|*}: ${r#*|}"
r="$(npd "$healthy" "@@not a tag")"
[[ "$r" == "2|ollama-verify could not decide (exit 2): "* ]] || fail "NPD plugin, usage error: $r"
echo "  usage error: exit ${r%%|*}: ${r#*|}"
python3 - <<'PY' || fail "NPD plugin config"
import json, os
c = json.load(open("deploy/node-problem-detector/ollama-verify-monitor.json"))
assert c["plugin"] == "custom" and c["rules"], c
conditions = {x["type"] for x in c["conditions"]}
for rule in c["rules"]:
    assert rule["condition"] in conditions, rule
    assert os.path.basename(rule["path"]) == "ollama-verify-check.sh", rule
print("  ollama-verify-monitor.json: parses; its rule runs ollama-verify-check.sh")
PY

echo "== deploy: the Helm chart, rendered by Helm's engine and validated"
# Python >= 3.12 (helm-sdkpy's floor): on PATH, else one pyenv has installed. A pyenv
# shim for a version that is not selected fails, hence the version asked of each.
python=""
candidates=(python3 python3.13 python3.12)
if command -v pyenv >/dev/null 2>&1; then
  while read -r v; do
    candidates+=("$(pyenv root)/versions/$v/bin/python3")
  done < <(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])(\.[0-9]+)?$' | sort -V -r)
fi
for candidate in "${candidates[@]}"; do
  if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
    python="$candidate"
    break
  fi
done
listen="$(free_port)"
rendered=""
if [[ -z "$python" ]]; then
  echo "!!! SKIPPED: no Python >= 3.12 here (helm-sdkpy needs it; pyenv install 3.12 provides it):"
  echo "!!! the chart was NOT rendered by Helm's engine nor validated."
elif ! "$python" -m venv "$work/venv" >/dev/null 2>&1 ||
  ! timeout 600 "$work/venv/bin/pip" install -q helm-sdkpy kubernetes-validate >"$work/pip.log" 2>&1; then
  tail -n 5 "$work/pip.log" 2>/dev/null || true
  echo "!!! SKIPPED: could not install helm-sdkpy and kubernetes-validate from PyPI:"
  echo "!!! the chart was NOT rendered by Helm's engine nor validated."
else
  mkdir -p "$work/rendered"
  (cd .ci/deploy && timeout 300 "$work/venv/bin/python" render.py \
    "$OLDPWD/deploy/helm/ollama-verify" "$work/rendered" "$healthy" "$listen") ||
    fail "the Helm chart (see above)"
  rendered="$work/rendered/commands.json"
fi

echo "== deploy: the image, run against the emulator"
if ! docker info >/dev/null 2>&1; then
  echo "!!! SKIPPED: no usable Docker engine: the image was NOT built nor run."
  echo "deploy: done in $((SECONDS - started)) s"
  exit 0
fi
image="$(bash deploy/build-image.sh "$bin/ollama-verify" ollama-verify-ci:auto 2>"$work/build.log")" ||
  { cat "$work/build.log" >&2; fail "deploy/build-image.sh"; }
echo "  $(tail -n 1 "$work/build.log")"
# One CI image stays between runs: older tags no container uses go.
for old in $(docker images --format '{{.Repository}}:{{.Tag}}' ollama-verify-ci | grep -vxF "$image"); do
  if docker image rm "$old" >/dev/null 2>&1; then echo "  removed the older image $old"; fi
done

# The chart's command lines (the emulator case), or the same by hand without Helm.
if [[ -n "$rendered" ]]; then
  mapfile -t test_args < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["test"]))' "$rendered")
  mapfile -t serve_args < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["serve"]))' "$rendered")
else
  test_args=(--target native --host "http://127.0.0.1:$healthy" --gpu none --tags "not @host and not @systemd" --deadline 900)
  serve_args=(serve --target native --host "http://127.0.0.1:$healthy" --gpu none --tags "$tags" --interval 5m --listen "0.0.0.0:$listen")
fi
# Replaces the value after flag $1 with $2 in the array named $3.
with() {
  local -n a=$3
  local i
  for i in "${!a[@]}"; do
    if [[ "${a[$i]}" == "$1" ]]; then a[i + 1]="$2"; fi
  done
}
drun() { docker run --label "$run_label" --network host "$@"; }

# `helm test`'s Job: the suite once; exit 0 on the healthy node, 1 on the sick one.
code=0
timeout 300 docker run --rm --label "$run_label" --network host "$image" "${test_args[@]}" \
  >"$work/test-healthy.log" 2>&1 || code=$?
[[ $code -eq 0 ]] || { cat "$work/test-healthy.log"; fail "the test Job's run on a healthy node exited $code"; }
echo "  helm test's command, healthy node: exit 0 ($(tail -n 1 "$work/test-healthy.log"))"
sick_test=("${test_args[@]}")
with --host "http://127.0.0.1:$sick" sick_test
code=0
timeout 300 docker run --rm --label "$run_label" --network host "$image" "${sick_test[@]}" \
  >"$work/test-sick.log" 2>&1 || code=$?
if [[ $code -ne 1 ]] || ! grep -q "^FAIL  models.custom" "$work/test-sick.log"; then
  cat "$work/test-sick.log"; fail "the test Job's run on a sick node exited $code, not 1 with models.custom failed"
fi
echo "  helm test's command, sick node: exit 1, models.custom failed ($(tail -n 1 "$work/test-sick.log"))"

# The DaemonSet's serve: /healthz 200 on the healthy node, 503 on the sick one.
if "$bin/ollama-verify" serve --help >/dev/null 2>&1; then
  sick_listen="$(free_port)"
  sick_serve=("${serve_args[@]}")
  with --host "http://127.0.0.1:$sick" sick_serve
  with --listen "0.0.0.0:$sick_listen" sick_serve
  drun -d --name "ollama-verify-ci-serve-$$" "$image" "${serve_args[@]}" >/dev/null
  drun -d --name "ollama-verify-ci-serve-sick-$$" "$image" "${sick_serve[@]}" >/dev/null
  python3 - "$listen" "$sick_listen" <<'PY' || { docker logs "ollama-verify-ci-serve-$$" 2>&1 | tail -n 20; docker logs "ollama-verify-ci-serve-sick-$$" 2>&1 | tail -n 20; fail "serve in the image"; }
import sys, time, urllib.error, urllib.request
def healthz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""
for port, want in ((sys.argv[1], 200), (sys.argv[2], 503)):
    deadline, seen = time.time() + 90, None
    while time.time() < deadline:
        seen = healthz(port)
        # Before its first run ends serve says 503 "NO RUN YET": not the verdict yet.
        if seen[0] == want and not seen[1].startswith("NO RUN YET"):
            break
        time.sleep(0.5)
    assert seen and seen[0] == want, f"/healthz on {port}: expected {want} within 90 s, saw {seen}"
    if want == 503:
        assert "models.custom" in seen[1], f"/healthz 503 does not name models.custom: {seen[1]!r}"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        metrics = r.read().decode()
    assert "models.custom" in metrics, "/metrics has no models.custom series"
    print(f"  serve (the DaemonSet's args): /healthz {want}, /metrics {len(metrics.splitlines())} lines")
PY
  # serve runs until stopped: stopped here, as the DaemonSet's pod would be.
  docker rm -f "ollama-verify-ci-serve-$$" "ollama-verify-ci-serve-sick-$$" >/dev/null
else
  echo "!!! SKIPPED: this build has no 'ollama-verify serve': the DaemonSet's command was NOT run"
  echo "!!! (its arguments were rendered and validated above)."
fi

# The Sonobuoy plugin: its own command in the image, with a results dir as Sonobuoy's
# worker shares it; the done file must name a whole JUnit report.
sonobuoy() { # sonobuoy PORT NAME
  local dir="$work/sonobuoy-$2"
  mkdir -p "$dir"
  chmod 0777 "$dir"
  python3 - deploy/sonobuoy/ollama-verify-plugin.yaml "$work/plugin-$2" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
assert spec["sonobuoy-config"]["driver"] == "DaemonSet", spec["sonobuoy-config"]
assert spec["sonobuoy-config"]["result-format"] == "junit", spec["sonobuoy-config"]
mounts = {m["mountPath"] for m in spec["spec"]["volumeMounts"]}
assert "/tmp/sonobuoy/results" in mounts, mounts
with open(sys.argv[2], "w") as f:
    f.write("\0".join(spec["spec"]["command"] + spec["spec"]["args"]))
PY
  local -a cmd
  mapfile -d '' -t cmd <"$work/plugin-$2"
  timeout 300 docker run --rm --label "$run_label" --network host \
    -v "$dir:/tmp/sonobuoy/results" -e SONOBUOY_RESULTS_DIR=/tmp/sonobuoy/results \
    -e OLLAMA_VERIFY_HOST="http://127.0.0.1:$1" -e OLLAMA_VERIFY_GPU=none \
    -e OLLAMA_VERIFY_TAGS="$tags" --entrypoint "${cmd[0]}" "$image" "${cmd[@]:1}" \
    >"$work/sonobuoy-$2.log" 2>&1 || { cat "$work/sonobuoy-$2.log"; fail "the Sonobuoy plugin's command on the $2 node"; }
  python3 - "$dir" "$2" <<'PY' || { cat "$work/sonobuoy-$2.log"; fail "the Sonobuoy plugin's results on the $2 node"; }
import os, sys, xml.etree.ElementTree as ET
dir, name = sys.argv[1], sys.argv[2]
done = open(os.path.join(dir, "done")).read()
assert done == "/tmp/sonobuoy/results/ollama-verify.xml", f"done names {done!r}"
root = ET.parse(os.path.join(dir, os.path.basename(done))).getroot()
cases = root.findall(".//testcase")
failed = sorted(c.get("name") for c in cases if c.find("failure") is not None)
assert cases, "no test case in the JUnit report"
if name == "healthy":
    assert not failed, f"failures on the healthy node: {failed}"
else:
    assert any("models.custom" in f for f in failed), f"models.custom not failed: {failed}"
print(f"  Sonobuoy plugin, {name} node: done names the JUnit report, {len(cases)} test cases, failed: {', '.join(failed) or 'none'}")
PY
}
sonobuoy "$healthy" healthy
sonobuoy "$sick" sick

mapfile -t left < <(docker ps -aq --filter "label=$run_label")
[[ ${#left[@]} -eq 0 ]] || fail "containers left running: ${left[*]}"
echo "deploy: done in $((SECONDS - started)) s"
