#!/bin/sh
# A node-problem-detector custom plugin: runs ollama-verify once against this node's
# Ollama and answers in NPD's contract: exit 0 no problem, 1 a problem, 2 unknown, and
# one short line on stdout that becomes the node condition's message.
#
# ollama-verify's exit codes map as: 0 -> 0 (no check failed); 1 -> 1 (a check failed,
# or did not finish within the deadline); anything else (2 usage or configuration,
# 3 report not written, 130/143 interrupted, 126/127 not runnable) -> 2 unknown.
#
# Settings (environment): OLLAMA_VERIFY_BIN (default: ollama-verify on PATH),
# OLLAMA_VERIFY_HOST (default http://127.0.0.1:11434), OLLAMA_VERIFY_GPU (nvml),
# OLLAMA_VERIFY_TAGS (default: the checks that need no speed measurement),
# OLLAMA_VERIFY_DEADLINE (seconds, default 180: under the rule's timeout in the config).
# POSIX sh and its built-ins only: it runs in NPD's container or on the node.

bin="${OLLAMA_VERIFY_BIN:-ollama-verify}"
out=$("$bin" --target native --host "${OLLAMA_VERIFY_HOST:-http://127.0.0.1:11434}" \
  --gpu "${OLLAMA_VERIFY_GPU:-nvml}" --tags "${OLLAMA_VERIFY_TAGS:-not @perf}" \
  --deadline "${OLLAMA_VERIFY_DEADLINE:-180}" --color never 2>&1)
code=$?

# The failed checks, from the console's "FAIL  <check>  <detail>" lines, each once; and
# the closing "N passed, N failed, N warned, N skipped" line; and the last line said.
failed=""
totals=""
last=""
nl='
'
old_ifs=$IFS
IFS=$nl
for line in $out; do
  IFS=$old_ifs
  case "$line" in
  "FAIL  "*)
    id=${line#FAIL  }
    id=${id%% *}
    id=${id%:}
    case " $failed " in *" $id "*) ;; *) failed="${failed:+$failed }$id" ;; esac
    ;;
  *" passed, "*" failed"*) totals=$line ;;
  esac
  [ -n "$line" ] && last=$line
  IFS=$nl
done
IFS=$old_ifs

case "$code" in
0)
  echo "ollama-verify: no check failed (${totals:-no totals printed})"
  exit 0
  ;;
1)
  echo "ollama-verify: failed: ${failed:-see the output of the run} (${totals:-no totals printed})"
  exit 1
  ;;
*)
  echo "ollama-verify could not decide (exit $code): $last"
  exit 2
  ;;
esac
