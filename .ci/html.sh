#!/usr/bin/env bash
# CI of the HTML report (--html) in a real browser: an emulator run writes the page,
# Debian's chromium (installed with apt-get when missing and possible) loads it headless;
# the page must render every check of the run, log no console error (the page's own
# Content-Security-Policy reports anything it would fetch), and a screenshot is kept at
# target/ci-artifacts/report.png.
#
# Needs the debug binary (cargo build). Leaves no process or file but the artifacts.
# shellcheck source=.ci/lib.sh
source "$(dirname "$0")/lib.sh"
ci_begin html "the HTML report was NOT checked in a browser." ollama-verify
artifacts="${CARGO_TARGET_DIR:-target}/ci-artifacts"

browser() {
  command -v chromium || command -v chromium-browser || true
}
if [[ -z "$(browser)" ]]; then
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" = 0 ]]; then
    echo "chromium is missing: installing Debian's with apt-get (a few minutes)"
    export DEBIAN_FRONTEND=noninteractive
    timeout 900 apt-get install -y -qq chromium >/dev/null 2>&1 ||
      { timeout 300 apt-get update -qq >/dev/null 2>&1 &&
        timeout 900 apt-get install -y -qq chromium >/dev/null 2>&1; } || true
  fi
fi
chromium="$(browser)"
[[ -n "$chromium" ]] || skip "chromium is not installed and could not be installed here (not root, or no apt-get)"
echo "browser: $("$chromium" --version 2>/dev/null || echo "$chromium")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A quick emulator: short answers at a speed its GPU allows.
cat >"$work/emulator.toml" <<'TOML'
token_rate = 70.0
load_time_ms = 20
answer_tokens = 24
pull_time_ms = 10
TOML
# Every built-in check; some fail or skip on the emulator (exit 1), which the page shows.
code=0
timeout 600 "$bin/ollama-verify" --target emulator --emulator-config "$work/emulator.toml" \
  --html "$work/report.html" --summary-json "$work/summary.json" >"$work/run.log" 2>&1 || code=$?
[[ $code -le 1 && -s "$work/report.html" ]] ||
  fail "the run exited $code and wrote no page; its output:
$(cat "$work/run.log")"

flags=(--headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0 --window-size="1280,6000")
url="file://$work/report.html"
timeout 120 "$chromium" "${flags[@]}" --dump-dom "$url" >"$work/dom.html" 2>"$work/console.log" ||
  fail "chromium could not load the page: $(tail -20 "$work/console.log")"
mkdir -p "$artifacts"
timeout 120 "$chromium" "${flags[@]}" --screenshot="$artifacts/report.png" "$url" \
  >/dev/null 2>>"$work/console.log" || fail "chromium took no screenshot: $(tail -20 "$work/console.log")"
[[ -s "$artifacts/report.png" ]] || fail "chromium wrote no screenshot"
cp "$work/report.html" "$artifacts/report.html"

# A console message of the page's (an error, a blocked fetch) fails; chromium's own
# start-up noise (dbus, GPU) is not the page's.
if grep -E 'CONSOLE|Uncaught|console\.error|Content.Security.Policy|Refused to' "$work/console.log"; then
  fail "the page logged the console messages above"
fi

python3 - "$work/summary.json" "$work/dom.html" <<'PY'
import json, sys
checks = json.load(open(sys.argv[1]))["checks"]
dom = open(sys.argv[2], encoding="utf-8").read()
missing = [c["id"] for c in checks if f'id="check-{c["id"]}"' not in dom]
if not checks or missing:
    sys.exit(f"html: FAILED: the rendered page lacks {missing or 'every check'}")
print(f"html: the page renders all {len(checks)} checks of the run, no console message")
PY
echo "html: screenshot at $artifacts/report.png"
