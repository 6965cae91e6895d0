#!/usr/bin/env bash
# CI of `ollama-verify serve` with a real Prometheus (Debian's): two serve processes, one
# verifying a healthy emulator and one a sick one (its custom model missing), scraped
# every second; queries through Prometheus's HTTP API must show the check gauges and the
# sick host's failed check. The alert rules are checked and unit-tested with promtool, and
# every expression of the Grafana dashboard is evaluated against the live data. Prints the
# scrape time of /metrics.
#
# Needs the debug binaries (cargo build). Installs Debian's prometheus when missing and
# possible; says `!!! SKIPPED` otherwise. Leaves no process and no file behind.
# shellcheck source=.ci/lib.sh
source "$(dirname "$0")/lib.sh"
ci_begin prometheus "serve was NOT scraped by Prometheus; the alert rules were NOT checked." ollama-verify

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "prometheus is missing: installing Debian's prometheus with apt-get"
    # Installing may try to start the packaged service; there is none to start here.
    apt-get install -y -qq prometheus >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq prometheus >/dev/null 2>&1; } ||
      true
  fi
fi
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  skip "Debian's prometheus (prometheus, promtool) is not installed and could not be"
fi
command -v python3 >/dev/null 2>&1 || skip "no python3 to query Prometheus's API with"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Five seconds to stop on SIGTERM, then SIGKILL: a cleanup never hangs CI.
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "== prometheus: $(prometheus --version 2>&1 | head -n 1)"
echo "== prometheus: alert rules"
promtool check rules deploy/prometheus/alerts.yml
(cd deploy/prometheus && promtool test rules alerts.test.yml)

echo "== prometheus: serve against a healthy and a sick emulator"
printf 'token_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\n' >"$work/healthy.toml"
printf 'custom = []\ntoken_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\n' >"$work/sick.toml"
healthy="$(free_port)"
sick="$(free_port)"
for node in healthy sick; do
  port="${!node}"
  "$bin/ollama-verify" serve --target emulator --emulator-config "$work/$node.toml" \
    --listen "127.0.0.1:$port" --interval 2s >"$work/serve-$node.log" 2>&1 &
  pids+=($!)
done

prom="$(free_port)"
cp deploy/prometheus/alerts.yml "$work/alerts.yml"
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - alerts.yml
scrape_configs:
  - job_name: ollama-verify
    static_configs:
      - targets: ["127.0.0.1:$healthy"]
        labels: {node: healthy}
      - targets: ["127.0.0.1:$sick"]
        labels: {node: sick}
EOF
promtool check config "$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom" >"$work/prometheus.log" 2>&1 &
pids+=($!)

python3 - "$prom" "$healthy" deploy/grafana/ollama-verify.json <<'PY' ||
import json, statistics, sys, time, urllib.parse, urllib.request

prom, healthy, dashboard = sys.argv[1], sys.argv[2], sys.argv[3]

def query(expr):
    url = f"http://127.0.0.1:{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        answer = json.load(r)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]

def by_node(result):
    return {s["metric"]["node"]: float(s["value"][1]) for s in result}

deadline, seen = time.time() + 90, {}
while time.time() < deadline:
    try:
        seen = by_node(query('ollama_verify_check_status{check="api.root",status="pass"}'))
    except OSError:
        seen = {}
    if seen == {"healthy": 1.0, "sick": 1.0}:
        break
    time.sleep(1)
else:
    sys.exit(f"api.root did not show as passing on both nodes within 90 s: {seen}")
print("  api.root passes on both nodes, as Prometheus reads it")

deadline = time.time() + 30
while time.time() < deadline:
    failed = query("ollama_verify_check_failed == 1")
    if failed:
        break
    time.sleep(1)
named = sorted((s["metric"]["node"], s["metric"]["check"]) for s in failed)
assert named and all(node == "sick" for node, _ in named), named
assert ("sick", "models.custom") in named, named
print(f"  failing in Prometheus: {', '.join(c for _, c in named)} on the sick node only")
runs = by_node(query("ollama_verify_runs"))
assert runs.get("healthy", 0) >= 2, f"serve ran only {runs} times"
print(f"  runs so far: {runs}")

rules = json.load(urllib.request.urlopen(f"http://127.0.0.1:{prom}/api/v1/rules", timeout=5))
health = [r["health"] for g in rules["data"]["groups"] for r in g["rules"]]
assert health and all(h == "ok" for h in health), rules
print(f"  {len(health)} alert rules loaded and evaluating")

# Every dashboard expression evaluates against the live data.
panels = json.load(open(dashboard))["panels"]
for p in panels:
    for t in p["targets"]:
        query(t["expr"].replace("$instance", ".*"))
print(f"  the dashboard's {sum(len(p['targets']) for p in panels)} expressions evaluate")

times = []
for _ in range(200):
    t = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{healthy}/metrics", timeout=5) as r:
        r.read()
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"  scrape of /metrics: median {statistics.median(times):.2f} ms, p99 {times[197]:.2f} ms (200 scrapes)")
PY
  {
    tail -n 20 "$work/prometheus.log"
    tail -n 5 "$work/serve-healthy.log" "$work/serve-sick.log"
    fail "Prometheus did not see what serve exports"
  }
echo "== prometheus: passed in $((SECONDS - started)) s"
