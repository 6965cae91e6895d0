"""A stand-in Kubernetes API server, just enough for Helm's install action: discovery,
the release Secrets of Helm's storage driver, and the creation of the chart's objects,
which it keeps so that the caller can read what Helm's engine rendered and sent.

No scheduling, no controllers, no admission: it stores what it is sent. Only used by
render.py, to run the real Helm engine (helm-sdkpy) without a cluster.
"""

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# group/version -> [(plural, kind, namespaced)]
RESOURCES = {
    "v1": [
        ("namespaces", "Namespace", False),
        ("secrets", "Secret", True),
        ("configmaps", "ConfigMap", True),
        ("services", "Service", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("pods", "Pod", True),
    ],
    "apps/v1": [("daemonsets", "DaemonSet", True), ("deployments", "Deployment", True)],
    "batch/v1": [("jobs", "Job", True)],
    "rbac.authorization.k8s.io/v1": [
        ("roles", "Role", True),
        ("rolebindings", "RoleBinding", True),
        ("clusterroles", "ClusterRole", False),
        ("clusterrolebindings", "ClusterRoleBinding", False),
    ],
    "node.k8s.io/v1": [("runtimeclasses", "RuntimeClass", False)],
    "monitoring.coreos.com/v1": [("servicemonitors", "ServiceMonitor", True)],
}


def resource_list(gv):
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": [
            {
                "name": plural,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            }
            for plural, kind, namespaced in RESOURCES[gv]
        ],
    }


def _fields(buf):
    """A protobuf message's fields: [(number, value)], value an int or bytes."""
    out, i = [], 0

    def varint():
        nonlocal i
        shift = result = 0
        while True:
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7

    while i < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, varint()))
        elif wire == 2:
            n = varint()
            out.append((number, buf[i:i + n]))
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"protobuf wire type {wire}")
    return out


def _map(entries):
    return {dict(_fields(e)).get(1, b"").decode(): dict(_fields(e)).get(2, b"") for e in entries}


def secret_from_protobuf(data):
    """The Secret in Kubernetes' protobuf envelope (what client-go sends for core types),
    as its JSON form: metadata name, namespace, labels; data; type. Nothing else is read."""
    if not data.startswith(b"k8s\x00"):
        raise ValueError("not a Kubernetes protobuf envelope")
    unknown = dict(_fields(data[4:]))
    secret = _fields(unknown[2])
    meta = dict(_fields(next(v for n, v in secret if n == 1)))
    labels = _map([v for n, v in _fields(next(v for n, v in secret if n == 1)) if n == 11])
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": meta.get(1, b"").decode(),
            "namespace": meta.get(3, b"").decode(),
            "labels": {k: v.decode() for k, v in labels.items()},
        },
        "data": {k: base64.b64encode(v).decode() for k, v in _map([v for n, v in secret if n == 2]).items()},
        "type": next((v.decode() for n, v in secret if n == 3), "Opaque"),
    }


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.objects = {}  # (gv, plural, namespace, name) -> object
        self.created = []  # every object created, in order

    def labels_match(self, obj, selector):
        labels = obj.get("metadata", {}).get("labels", {}) or {}
        for term in filter(None, selector.split(",")):
            key, _, value = term.partition("=")
            if labels.get(key) != value:
                return False
        return True


def make_handler(store):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def status(self, code, reason, message):
            self.reply(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Failure", "message": message, "reason": reason,
                              "code": code})

        def route(self):
            """(group/version, plural, namespace, name) of a resource path, or None."""
            parts = [p for p in urlparse(self.path).path.split("/") if p]
            if parts[:1] == ["api"] and len(parts) >= 2:
                gv, rest = parts[1], parts[2:]
            elif parts[:1] == ["apis"] and len(parts) >= 3:
                gv, rest = parts[1] + "/" + parts[2], parts[3:]
            else:
                return None
            namespace = None
            # namespaces/NS/PLURAL[/NAME]; namespaces[/NAME] is the Namespace itself.
            if len(rest) >= 3 and rest[0] == "namespaces":
                namespace, rest = rest[1], rest[2:]
            if not rest:
                return gv, None, namespace, None
            return gv, rest[0], namespace, rest[1] if len(rest) > 1 else None

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length)
            kind = self.headers.get("Content-Type", "")
            if kind.startswith("application/vnd.kubernetes.protobuf") and "/secrets" in self.path:
                return secret_from_protobuf(data)
            if "json" not in kind:
                raise ValueError(f"{self.command} {self.path}: a {kind} body, not JSON")
            return json.loads(data or b"{}")

        def do_GET(self):
            path = urlparse(self.path).path.rstrip("/")
            query = parse_qs(urlparse(self.path).query)
            if path == "/version":
                return self.reply(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0",
                                        "platform": "linux/amd64"})
            if path == "/api":
                return self.reply(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": []})
            if path == "/apis":
                groups = {}
                for gv in RESOURCES:
                    if "/" in gv:
                        g, v = gv.split("/")
                        groups.setdefault(g, []).append({"groupVersion": gv, "version": v})
                return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                    {"name": g, "versions": vs, "preferredVersion": vs[0]}
                    for g, vs in groups.items()]})
            r = self.route()
            if r is None:
                return self.status(404, "NotFound", f"no route {path}")
            gv, plural, namespace, name = r
            if gv not in RESOURCES:
                return self.status(404, "NotFound", f"no group version {gv}")
            if plural is None:
                return self.reply(200, resource_list(gv))
            with store.lock:
                if name is None:
                    selector = (query.get("labelSelector") or [""])[0]
                    items = [o for (g, p, ns, _), o in store.objects.items()
                             if g == gv and p == plural and (namespace is None or ns == namespace)
                             and store.labels_match(o, selector)]
                    kind = next(k for p, k, _ in RESOURCES[gv] if p == plural)
                    return self.reply(200, {"kind": kind + "List", "apiVersion": gv,
                                            "metadata": {"resourceVersion": "1"}, "items": items})
                obj = store.objects.get((gv, plural, namespace, name))
            if obj is None:
                return self.status(404, "NotFound", f'{plural} "{name}" not found')
            return self.reply(200, obj)

        def save(self, create):
            r = self.route()
            if r is None or r[0] not in RESOURCES or r[1] is None:
                return self.status(404, "NotFound", f"no route {self.path}")
            gv, plural, namespace, name = r
            obj = self.body()
            meta = obj.setdefault("metadata", {})
            name = name or meta.get("name")
            key = (gv, plural, namespace, name)
            with store.lock:
                if create and key in store.objects:
                    return self.status(409, "AlreadyExists", f'{plural} "{name}" already exists')
                if not create and key not in store.objects:
                    return self.status(404, "NotFound", f'{plural} "{name}" not found')
                if create:
                    store.created.append(json.loads(json.dumps(obj)))
                if namespace:
                    meta.setdefault("namespace", namespace)
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
                meta["resourceVersion"] = str(len(store.created) + 1)
                store.objects[key] = obj
            return self.reply(201 if create else 200, obj)

        def do_POST(self):
            return self.save(True)

        def do_PUT(self):
            return self.save(False)

        def do_DELETE(self):
            r = self.route()
            with store.lock:
                obj = store.objects.pop(r, None) if r else None
            if obj is None:
                return self.status(404, "NotFound", "not found")
            return self.reply(200, obj)

    return Handler


def start():
    """Starts the stub on a free loopback port: (server, store, url)."""
    store = Store()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(store))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, store, f"http://127.0.0.1:{server.server_address[1]}"
