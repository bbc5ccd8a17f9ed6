"""admin: the simulator's admin API under /hvsim/ (no authentication;
loopback only) and the request statistics it reports:

  GET    /hvsim/stats            counters of authenticated /wsman requests
  POST   /hvsim/stats/reset      zeroes them
  GET    /hvsim/faults           the fault rules with their fired counts
  POST   /hvsim/faults           replaces the rules (list or {"rules": [...]})
  DELETE /hvsim/faults           removes them
  POST   /hvsim/gss/tamper       corrupts the next sealed response
  GET    /hvsim/vms              the VMs
  POST   /hvsim/vms/NAME/state   {"running": bool}
  POST   /hvsim/vms/NAME/items   {"guest": {..}, "intrinsic": {..}}

Each route is a function of the request handler (httpserver.Handler),
which reads the body and sends the JSON answer.
"""

import json
import threading
import time

from .fault_injection import RuleError

MAX_ADMIN_BODY = 64 << 20   # room for hostile item sets (5000 x 2 KB, ...)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.unauthorized = 0
            self.faults_injected = 0
            self.soap_faults = 0
            self.bytes_out = 0
            self.by_action = {}
            self.by_class = {}

    def count(self, label, cls):
        with self.lock:
            self.requests += 1
            self.by_action[label] = self.by_action.get(label, 0) + 1
            if cls:
                self.by_class[cls] = self.by_class.get(cls, 0) + 1

    def add(self, field, n=1):
        with self.lock:
            setattr(self, field, getattr(self, field) + n)

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests,
                    "by_action": dict(self.by_action),
                    "by_class": dict(self.by_class),
                    "unauthorized": self.unauthorized,
                    "faults_injected": self.faults_injected,
                    "soap_faults": self.soap_faults,
                    "bytes_out": self.bytes_out}


def vms_info(model):
    """GET /hvsim/vms: what a test needs to find and reach each VM."""
    out = []
    for vm in model.vms:
        d = {"name": vm.name, "guid": vm.guid, "kind": vm.kind,
             "running": vm.running}
        g = vm.guest
        if getattr(g, "pool_dir", None):
            d["pool"] = g.pool_dir
            d["daemon_pid"] = g.pid
        if getattr(g, "wineprefix", None):
            d["wineprefix"] = g.wineprefix
        if getattr(g, "store_spec", None):
            d["store"] = g.store_spec
        d["host_items"] = dict(vm.host_items)
        out.append(d)
    return out


def do_get(h):
    srv = h.server
    if h.path == "/hvsim/stats":
        return h.send_json(200, srv.stats.snapshot())
    if h.path == "/hvsim/faults":
        return h.send_json(200, {"rules": srv.faults.describe()})
    if h.path == "/hvsim/vms":
        return h.send_json(200, {"vms": vms_info(srv.model)})
    return h.send(404)


def do_delete(h):
    if h.path == "/hvsim/faults":
        h.server.faults.clear()
        return h.send_json(200, {"rules": []})
    return h.send(404)


def do_post(h):
    """Every POST but /wsman."""
    srv = h.server
    body = h.read_body(MAX_ADMIN_BODY)
    if body is None:
        return None
    if h.path == "/hvsim/gss/tamper":
        with srv.stats.lock:
            srv.gss_tamper += 1
        return h.send_json(200, {"tamper": srv.gss_tamper})
    if h.path == "/hvsim/stats/reset":
        srv.stats.reset()
        return h.send_json(200, srv.stats.snapshot())
    if h.path.startswith("/hvsim/vms/"):
        return _vm_admin(h, body)
    if h.path == "/hvsim/faults":
        return _set_faults(h, body)
    return h.send(404)


def _set_faults(h, body):
    try:
        spec = json.loads(body or b"[]")
        rules = spec.get("rules") if isinstance(spec, dict) else spec
        if not isinstance(rules, list):
            raise RuleError("expected a JSON list of rules or "
                            '{"rules": [...]}')
        h.server.faults.replace(rules)
    except (ValueError, RuleError) as e:
        return h.send_json(400, {"error": str(e)})
    return h.send_json(200, {"rules": h.server.faults.describe()})


def _vm_admin(h, body):
    """POST /hvsim/vms/NAME/state or /hvsim/vms/NAME/items."""
    parts = h.path.split("/")
    if len(parts) != 5 or parts[4] not in ("state", "items"):
        return h.send(404)
    name, what = parts[3], parts[4]
    vm = h.server.model.vm_named(name)
    if vm is None:
        return h.send_json(404, {"error": "no VM named %r" % name})
    try:
        spec = json.loads(body or b"{}")
        if not isinstance(spec, dict):
            raise ValueError("expected a JSON object")
        if what == "state":
            return h.send_json(200, _set_state(vm, spec))
        return h.send_json(200, _set_items(vm, spec))
    except ValueError as e:
        return h.send_json(400, {"error": str(e)})


def _set_state(vm, spec):
    running = spec.get("running")
    if not isinstance(running, bool):
        raise ValueError('"running" must be true or false')
    with vm.lock:
        if running and not vm.running:
            vm.started = time.time()
        vm.running = running
        vm.version += 1
    return {"name": vm.name, "running": running}


def _set_items(vm, spec):
    """Synthetic VMs: replaces what the VM publishes (no codec)."""
    g = vm.guest
    if not hasattr(g, "static"):
        raise ValueError("%s is not a synthetic VM" % vm.name)
    for key in ("guest", "intrinsic"):
        items = spec.get(key)
        if items is None:
            continue
        _check_items(key, items)
        if key == "guest":
            g.static = dict(items)
        else:
            g.intrinsic = dict(items)
    vm.set_guest_items(g.intrinsic_items(), g.guest_items())
    return {"name": vm.name}


def _check_items(key, items):
    """Any names and values a guest could store: any length, any count,
    any character (control characters included: they make the page that
    holds them not well-formed XML, as on WinRM), but no lone surrogate
    (not a character; nothing could carry it)."""
    if not isinstance(items, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in items.items()):
        raise ValueError('"%s" must map strings to strings' % key)
    for k, v in items.items():
        for what, text in (("name", k), ("value", v)):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError('"%s": the %s of item %r holds a lone '
                                 "surrogate at %d" % (key, what, k[:40],
                                                      e.start))
