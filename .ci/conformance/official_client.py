"""Ollama's official Python client (PyPI `ollama`) against the emulator: the answers of
every endpoint the suite uses must parse with the client users run.
Usage: OLLAMA_HOST=127.0.0.1:PORT python3 official_client.py (exit 1 on any failure).
"""
import os
import sys

import ollama

client = ollama.Client(host=os.environ["OLLAMA_HOST"], timeout=30)
failures = []


def check(name, fn):
    try:
        detail = fn()
        print(f"ok      {name}: {detail}")
    except Exception as e:  # a conformance failure, reported, not raised
        failures.append(name)
        print(f"FAILED  {name}: {type(e).__name__}: {e}")


check("version", lambda: client._request_raw("GET", "/api/version").json()["version"])
check("list", lambda: [m.model for m in client.list().models])
check("show", lambda: (client.show("my-coder").parameters or "").splitlines()[0])
check("chat", lambda: client.chat(model="my-coder", messages=[{"role": "user", "content": "hi"}], options={"num_predict": 5}).message.content)
check("chat stream", lambda: sum(1 for _ in client.chat(model="my-coder", messages=[{"role": "user", "content": "hi"}], stream=True, options={"num_predict": 5})))
check("generate", lambda: client.generate(model="my-coder", prompt="hi", options={"num_predict": 5}).eval_count)
check("ps", lambda: [(m.model, m.size_vram) for m in client.ps().models])
check("pull", lambda: client.pull("nomic-embed-text").status)
check("embed", lambda: len(client.embed(model="nomic-embed-text", input=["a", "b"]).embeddings))
check("create", lambda: client.create(model="brief", from_="qwen2.5-coder:7b", system="Be brief.", parameters={"temperature": 0.1}).status)
check("delete", lambda: client.delete("brief").status)


def missing_model():
    try:
        client.show("no-such-model")
    except ollama.ResponseError as e:
        assert e.status_code == 404, e.status_code
        return f"ResponseError {e.status_code}: {e.error}"
    raise AssertionError("showing a missing model did not fail")


check("missing model", missing_model)
sys.exit(1 if failures else 0)
