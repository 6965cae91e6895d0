"""Holds on the GPU the VRAM that the emulated server's /api/ps claims, as Ollama's
runner would, so that NVML's per-process list shows a process named `ollama` holding
it. Run by gpu-checks.sh as a copy of the interpreter named `ollama`.

usage: ollama vram_holder.py http://127.0.0.1:11434 SECONDS
"""

import json
import sys
import time
import urllib.request

import torch

base, seconds = sys.argv[1], float(sys.argv[2])
held = {}  # model name -> the tensor that holds its VRAM
deadline = time.monotonic() + seconds
work = torch.randn(2048, 2048, device="cuda")
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(base + "/api/ps", timeout=2) as r:
            loaded = {m["name"]: m["size_vram"] for m in json.load(r)["models"]}
    except OSError as e:
        print(f"vram_holder: /api/ps: {e}", file=sys.stderr)
        loaded = {}
    for name in list(held):
        if name not in loaded:
            del held[name]
            torch.cuda.empty_cache()
    for name, size in loaded.items():
        if name not in held and size > 0:
            held[name] = torch.empty(size, dtype=torch.uint8, device="cuda")
            held[name].fill_(1)  # touched, as loaded weights are
            print(f"vram_holder: holding {size} bytes for {name}", file=sys.stderr)
    if held:
        work = work @ work  # busy while a model is loaded, as generation keeps the GPU
        work = work / work.norm()
    torch.cuda.synchronize()
    time.sleep(0.1)
