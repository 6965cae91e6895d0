"""Renders deploy/helm/ollama-verify with Helm's own engine (helm-sdkpy's install action,
against kube_stub.py) for several sets of values, validates every object Helm sent and
every hook it rendered against the Kubernetes schemas (kubernetes-validate), and checks
what each set of values must change.

Usage: python render.py CHART OUT_DIR EMULATOR_PORT LISTEN_PORT
Writes OUT_DIR/<case>.yaml (the objects, as Helm sent them) and OUT_DIR/commands.json
(the DaemonSet's and the test Job's container arguments of the `emulator` case, for
deploy.sh to run in the image). Exit 1 with the reasons when a check fails.
"""

import asyncio
import json
import os
import sys

import helm_sdkpy
import kubernetes_validate
import yaml

import kube_stub

# The chart's default selection (read-only, without the host checks), as values.yaml
# states it: the DaemonSet must pass it on unchanged.
with open(os.path.join(sys.argv[1], "values.yaml")) as f:
    READ_ONLY = yaml.safe_load(f)["tags"]

KUBERNETES = "1.33.0"
NAMESPACE = "gpu-checks"
CRDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}


def kubeconfig(url):
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "stub", "cluster": {"server": url}}],
        "users": [{"name": "stub", "user": {"token": "stub"}}],
        "contexts": [{"name": "stub", "context": {"cluster": "stub", "user": "stub",
                                                  "namespace": NAMESPACE}}],
        "current-context": "stub",
    })


def install(url, chart, release, values):
    cfg = helm_sdkpy.Configuration(namespace=NAMESPACE, kubeconfig=kubeconfig(url))
    return asyncio.run(helm_sdkpy.Install(cfg).run(release, chart, values=values, wait=False,
                                                   timeout=60))


def of_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def one(objects, kind):
    found = of_kind(objects, kind)
    assert len(found) == 1, f"one {kind} expected, rendered {len(found)}"
    return found[0]


def pod(obj):
    return obj["spec"]["template"]["spec"]


def args(obj):
    return pod(obj)["containers"][0]["args"]


def arg(obj, flag):
    a = args(obj)
    assert flag in a, f"{obj['kind']} runs without {flag}: {a}"
    return a[a.index(flag) + 1]


def common(objects):
    """What every set of values must render: GPU nodes only, the taint tolerated, the
    Service pointing at the DaemonSet's pods and port, a test hook that runs the suite."""
    ds, svc, job = one(objects, "DaemonSet"), one(objects, "Service"), one(objects, "Job")
    for o in (ds, job):
        terms = pod(o)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        keys = [e["key"] for t in terms for e in t["matchExpressions"]]
        assert "nvidia.com/gpu.present" in keys, f"{o['kind']}: no GPU-node affinity: {terms}"
        assert any(t.get("key") == "nvidia.com/gpu" for t in pod(o).get("tolerations", [])), \
            f"{o['kind']}: the nvidia.com/gpu taint is not tolerated"
        for c in pod(o)["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"], sc
            for m in c.get("volumeMounts", []):
                assert m.get("readOnly"), f"{o['kind']}: a writable mount {m}"
    labels = ds["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()), \
        f"the Service selects {svc['spec']['selector']}, the pods carry {labels}"
    ports = [p["name"] for p in pod(ds)["containers"][0]["ports"]]
    assert svc["spec"]["ports"][0]["targetPort"] in ports, (svc["spec"]["ports"], ports)
    assert args(ds)[0] == "serve", f"the DaemonSet does not run serve: {args(ds)}"
    assert args(job)[0] != "serve", f"the test Job runs serve: {args(job)}"
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert job["spec"]["backoffLimit"] == 0 and pod(job)["restartPolicy"] == "Never"


def default(objects):
    ds = one(objects, "DaemonSet")
    assert pod(ds).get("hostNetwork") is True, "default: host network"
    assert arg(ds, "--host") == "http://127.0.0.1:11434", arg(ds, "--host")
    assert arg(ds, "--interval") == "5m"
    assert arg(ds, "--tags") == READ_ONLY, arg(ds, "--tags")
    assert "runtimeClassName" not in pod(ds) and "hostPID" not in pod(ds)
    assert "volumes" not in pod(ds), "default: no host mounts"
    assert not of_kind(objects, "ServiceMonitor"), "default: no ServiceMonitor"
    assert pod(ds)["containers"][0]["securityContext"]["runAsNonRoot"] is True


def tuned(objects):
    ds, job = one(objects, "DaemonSet"), one(objects, "Job")
    assert pod(ds)["runtimeClassName"] == "nvidia"
    assert "hostNetwork" not in pod(ds), "nodeAddress: no host network"
    assert arg(ds, "--host") == "http://$(NODE_IP):11500", arg(ds, "--host")
    env = {e["name"]: e for e in pod(ds)["containers"][0]["env"]}
    assert env["NODE_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
    assert arg(ds, "--interval") == "20m" and arg(ds, "--tags") == "@api"
    assert args(ds)[-2:] == ["--features", "/specs"], args(ds)
    assert pod(ds)["hostPID"] is True
    mounts = {m["mountPath"] for m in pod(ds)["containers"][0]["volumeMounts"]}
    paths = {v["hostPath"]["path"] for v in pod(ds)["volumes"]}
    expected = {"/run/systemd", "/var/log/journal", "/run/log/journal", "/etc/machine-id"}
    assert mounts == paths == expected, (mounts, paths)
    sm = one(objects, "ServiceMonitor")
    assert sm["metadata"]["labels"]["release"] == "prometheus"
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"
    svc = one(objects, "Service")
    assert all(sm["spec"]["selector"]["matchLabels"].get(k) == v
               for k, v in svc["metadata"]["labels"].items()
               if k in sm["spec"]["selector"]["matchLabels"])
    assert arg(job, "--deadline") == "300" and job["spec"]["activeDeadlineSeconds"] == 360
    assert not of_kind(objects, "ServiceAccount"), "serviceAccount.create=false"
    assert pod(ds)["serviceAccountName"] == "gpu-reader"


def service_address(objects):
    ds = one(objects, "DaemonSet")
    assert arg(ds, "--host") == "http://ollama.ollama.svc:11434"
    assert "hostNetwork" not in pod(ds)
    assert "NVIDIA_VISIBLE_DEVICES" not in {e["name"] for e in pod(ds)["containers"][0]["env"]}


def emulator(objects):
    default_like = one(objects, "DaemonSet")
    assert pod(default_like).get("hostNetwork") is True


def cases(port, listen):
    return [
        ("default", {}, default),
        ("tuned", {
            "runtimeClassName": "nvidia",
            "ollama": {"mode": "nodeAddress", "port": 11500},
            "interval": "20m", "tags": "@api", "extraArgs": ["--features", "/specs"],
            "hostChecks": {"enabled": True},
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
            "serviceAccount": {"create": False, "name": "gpu-reader"},
            "test": {"deadline": 300},
        }, tuned),
        ("service-address", {
            "ollama": {"mode": "address", "address": "http://ollama.ollama.svc:11434"},
            "visibleDevices": "", "gpu": "none",
        }, service_address),
        ("emulator", {"ollama": {"port": port}, "gpu": "none", "listenPort": listen,
                      "tags": READ_ONLY}, emulator),
    ]


def main():
    chart, out, port, listen = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    server, store, url = kube_stub.start()
    problems, validated, rendered = [], 0, 0
    # helm lint: warnings (severity 2) and errors (3) fail; infos (an icon) do not.
    cfg = helm_sdkpy.Configuration(namespace=NAMESPACE, kubeconfig=kubeconfig(url))
    lint = asyncio.run(helm_sdkpy.Lint(cfg).run(chart))
    bad = [m for m in lint.get("Messages") or [] if m.get("Severity", 0) >= 2]
    if lint.get("Errors") or bad:
        problems.append(f"helm lint: {lint.get('Errors')} {bad}")
    else:
        print(f"  helm lint: {len(lint.get('Messages') or [])} note(s), no warning or error")
    for name, values, check in cases(port, listen):
        before = len(store.created)
        try:
            result = install(url, chart, name, values)
        except helm_sdkpy.HelmError as e:
            problems.append(f"{name}: helm install failed: {e}")
            continue
        sent = [o for o in store.created[before:]
                if o.get("metadata", {}).get("labels", {}).get("owner") != "helm"]
        manifest = [d for d in yaml.safe_load_all(result["manifest"]) if d]
        hooks = [d for h in result.get("hooks") or [] for d in yaml.safe_load_all(h["manifest"]) if d]
        key = lambda o: (o["kind"], o["metadata"]["name"])
        if sorted(map(key, sent)) != sorted(map(key, manifest)):
            problems.append(f"{name}: Helm sent {sorted(map(key, sent))}, its manifest has {sorted(map(key, manifest))}")
        objects = sent + hooks
        rendered += len(objects)
        for o in objects:
            where = f"{name}: {o['kind']}/{o['metadata']['name']}"
            if (o["apiVersion"], o["kind"]) in CRDS:
                print(f"  {where}: a CRD kind (no schema in kubernetes-validate): its references are checked below")
                continue
            try:
                kubernetes_validate.validate(o, KUBERNETES, strict=True)
                validated += 1
            except kubernetes_validate.ValidationError as e:
                problems.append(f"{where}: {'.'.join(map(str, e.path))}: {e.message}")
        try:
            common(objects)
            check(objects)
        except (AssertionError, KeyError, StopIteration) as e:
            problems.append(f"{name}: {type(e).__name__}: {e}")
        with open(os.path.join(out, f"{name}.yaml"), "w") as f:
            yaml.safe_dump_all(objects, f, sort_keys=False)
        print(f"  {name}: {len(objects)} objects ({', '.join(sorted(o['kind'] for o in objects))})")
        if name == "emulator":
            with open(os.path.join(out, "commands.json"), "w") as f:
                json.dump({"serve": args(one(objects, "DaemonSet")),
                           "test": args(one(objects, "Job"))}, f)
    # A value the chart refuses: Helm's engine stops the install with the chart's message.
    try:
        install(url, chart, "refused", {"ollama": {"mode": "address"}})
        problems.append("refused: ollama.mode=address without an address was installed")
    except helm_sdkpy.HelmError as e:
        if "ollama.address is required" not in str(e):
            problems.append(f"refused: another error than the chart's: {e}")
        else:
            print("  refused: ollama.mode=address without ollama.address: the chart's message")
    server.shutdown()
    print(f"helm: {len(cases(port, listen))} sets of values rendered by Helm's engine "
          f"(helm-sdkpy {helm_sdkpy.__version__}): {rendered} objects, {validated} validated "
          f"against the Kubernetes {KUBERNETES} schemas (strict)")
    if problems:
        print("\n".join(["FAILED:"] + problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
