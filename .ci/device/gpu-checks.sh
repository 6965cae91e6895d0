#!/usr/bin/env bash
# The GPU checks on a machine with an NVIDIA GPU and no Ollama: the driver is real
# (NVML, nvidia-smi), the server is the emulator, and a process named `ollama` holds the
# VRAM that the emulator's /api/ps claims. For the device tool: build here with
# `cargo build --release -p ollama-verify-steps --bins`, then run from the repository
# root there, carrying target/release/ollama-verify and target/release/ollama-emulator.
# Writes its reports under $OUT (or a temporary folder) and prints the summary tables.
# BIN and PORT override the binaries' folder and the emulator's port (.ci/run runs it
# without a GPU, on the debug build, to keep it working).
set -uo pipefail

bin=${BIN:-target/release}
out=${OUT:-$(mktemp -d)}
port=${PORT:-11434}
host=127.0.0.1:$port
for b in ollama-verify ollama-emulator; do
    [[ -x $bin/$b ]] || { echo "gpu-checks: $bin/$b is missing; build it and carry it" >&2; exit 2; }
done

section() { printf '\n=== %s ===\n' "$*"; }

section "the driver, as nvidia-smi shows it"
timeout 30 nvidia-smi || echo "nvidia-smi failed: $?"
timeout 30 nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,compute_cap,clocks.max.memory,utilization.gpu --format=csv

# The emulator as `ollama` on PATH: the CLI checks run it.
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/bin"
ln -s "$(readlink -f "$bin/ollama-emulator")" "$work/bin/ollama"
OLLAMA_HOST=$host "$work/bin/ollama" serve >"$out/emulator.log" 2>&1 &
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

# The VRAM holder, as a copy of the interpreter named `ollama` beside it (so a venv's
# pyvenv.cfg still applies and NVML lists the process as .../ollama).
py=$(command -v python3)
if [[ -n $py ]] && "$py" -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    holder="$(dirname "$py")/ollama"
    cp "$(readlink -f "$py")" "$holder"
    "$holder" .ci/device/vram_holder.py "http://$host" 400 2>"$out/holder.log" &
else
    echo "gpu-checks: no python3 with CUDA torch; diagnose.offload will see no Ollama process" >&2
fi

# security.remote_reachable is left out: it asks the machine's network addresses, and
# this script's server listens on loopback only, so it tells nothing about the GPU.
for gpu in nvml nvidia-smi; do
    section "ollama-verify --gpu $gpu (the server emulated)"
    PATH="$work/bin:$PATH" OLLAMA_HOST=$host timeout 300 "$bin/ollama-verify" \
        --target native --host "http://$host" --gpu "$gpu" \
        --tags "not @check.security.remote_reachable" \
        --summary-json "$out/summary-$gpu.json" --summary-md "$out/summary-$gpu.md" \
        >"$out/run-$gpu.txt" 2>&1
    echo "exit: $? (the whole output: run-$gpu.txt)"
    cat "$out/summary-$gpu.md" 2>/dev/null || tail -n 40 "$out/run-$gpu.txt"
done
section "the VRAM holder"
cat "$out/holder.log" 2>/dev/null
