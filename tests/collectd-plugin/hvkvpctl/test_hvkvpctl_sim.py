#!/usr/bin/env python3
"""test_hvkvpctl_sim.py - integration test (ctest label: integration):
every hvkvpctl command against the Hyper-V simulator (contrib/hvsim) over
HTTP and HTTPS, the job path, injected faults (each gives a clear error and
the next call works), exit codes, and WS-Man round trips when listing 1000
synthetic VMs (counted by the simulator's /hvsim/stats).

usage: test_hvkvpctl_sim.py --hvkvpctl PATH --hvsim PATH
A missing simulator or tool fails the test; nothing is skipped."""

import argparse
import json
import math
import os
import shutil
import ssl
import subprocess
import tempfile
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "contrib", "hvsim"))
from hvsimlib import simproc  # noqa: E402

USER = "hvadmin"
PASSWORD = "pw-Int3gration!"
RESULTS = {"passed": 0, "failed": 0}


def check(cond, what, detail=""):
    if cond:
        RESULTS["passed"] += 1
        print("ok     %s" % what)
    else:
        RESULTS["failed"] += 1
        print("FAILED %s %s" % (what, detail))


class Sim(simproc.Sim):
    def __init__(self, hvsim, build_dir, *extra):
        try:
            super().__init__("--build-dir", build_dir, *extra, user=USER,
                             password=PASSWORD, hvsim=hvsim)
        except RuntimeError as e:
            raise SystemExit("hvsim did not start: %s" % e)
        self.base = self.url.rsplit("/wsman", 1)[0]

    def admin(self, method, path, body=None):
        ctx = None
        if self.url.startswith("https"):
            ctx = ssl.create_default_context(cafile=self.cert)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method)
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def faults(self, rules):
        return self.admin("POST", "/hvsim/faults", rules)

    def stats(self):
        return self.admin("GET", "/hvsim/stats")

    def reset(self):
        return self.admin("POST", "/hvsim/stats/reset", {})


def ctl(tool, sim, *args, password=PASSWORD, extra=()):
    env = dict(os.environ)
    env.pop("HVKVP_PASSWORD", None)
    if password is not None:
        env["HVKVP_PASSWORD"] = password
    cmd = [tool, "--url", sim.url, "--user", USER, "--timeout", "30"]
    cmd += list(extra) + list(args)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=300)
    return p


def jout(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def functional(tool, sim, label, extra=()):
    p = ctl(tool, sim, "--json", "vms", extra=extra)
    j = jout(p)
    check(p.returncode == 0 and j is not None and len(j["vms"]) == 3,
          "%s: vms lists the 3 VMs" % label, p.stderr)
    if not j:
        return
    v1 = [v for v in j["vms"] if v["name"] == "synth-0001"]
    check(len(v1) == 1 and v1[0]["os"] and v1[0]["message"]["present"]
          and v1[0]["message"]["gen"] >= 1 and v1[0]["state_name"]
          == "Running", "%s: vms shows OS, state and message gen" % label,
          json.dumps(v1))
    guid = v1[0]["guid"] if v1 else ""

    p = ctl(tool, sim, "vms", extra=extra)
    check(p.returncode == 0 and "synth-0002" in p.stdout
          and "GUID" in p.stdout, "%s: vms text output" % label, p.stderr)

    p = ctl(tool, sim, "--json", "items", "synth-0001", extra=extra)
    j = jout(p)
    check(p.returncode == 0 and j and "OSName" in j["intrinsic"]
          and "hvkvp.head" in j["guest"] and "host" in j,
          "%s: items shows intrinsic, guest and host pools" % label,
          p.stderr)

    p = ctl(tool, sim, "--json", "items", guid.lower(), "--guest",
            extra=extra)
    j = jout(p)
    check(p.returncode == 0 and j and "guest" in j and "intrinsic" not in j,
          "%s: items by lower-case GUID, guest pool only" % label, p.stderr)

    p = ctl(tool, sim, "--json", "messages", "synth-0001", extra=extra)
    j = jout(p)
    check(p.returncode == 0 and j and j["host"] == "synth-0001"
          and j["gen"] >= 1 and len(j["values"]) > 0,
          "%s: messages decodes the hvkvp message" % label, p.stderr)

    p = ctl(tool, sim, "messages", "synth-0001", extra=extra)
    check(p.returncode == 0 and "seq" in p.stdout and "values" in p.stdout,
          "%s: messages text output" % label, p.stderr)

    # A Windows reporter writes to the "Auto" key by default: its message
    # arrives in GuestIntrinsicExchangeItems. Move synth-0001's items there
    # on synth-0003 (no guest items at all) and decode them from there.
    p = ctl(tool, sim, "--json", "items", "synth-0001", "--guest",
            extra=extra)
    g = (jout(p) or {}).get("guest", {})
    p = ctl(tool, sim, "--json", "items", "synth-0003", "--intrinsic",
            extra=extra)
    intr = dict((jout(p) or {}).get("intrinsic", {}))
    intr.update({k: v for k, v in g.items() if k.startswith("hvkvp.")})
    sim.admin("POST", "/hvsim/vms/synth-0003/items",
              {"guest": {}, "intrinsic": intr})
    p = ctl(tool, sim, "--json", "messages", "synth-0003", extra=extra)
    j = jout(p)
    check(p.returncode == 0 and j and j["host"] == "synth-0001",
          "%s: messages falls back to intrinsic items (Windows Auto key)"
          % label, p.stderr)

    sim.reset()
    p = ctl(tool, sim, "set", "synth-0002", "hvkvp.cfg.interval=15",
            "hvkvp.cfg.id=it-1", extra=extra)
    st = sim.stats()
    check(p.returncode == 0 and st["by_action"].get("Invoke:AddKvpItems")
          == 1, "%s: set adds new keys with one AddKvpItems" % label,
          p.stderr + json.dumps(st))
    check(st["by_class"].get("Msvm_ConcreteJob", 0) >= 1,
          "%s: set follows the returned job (Msvm_ConcreteJob Get)" % label,
          json.dumps(st))
    p = ctl(tool, sim, "--json", "items", "synth-0002", "--host",
            extra=extra)
    j = jout(p)
    check(p.returncode == 0 and j and j["host"].get("hvkvp.cfg.id")
          == "it-1" and j["host"].get("hvkvp.cfg.interval") == "15",
          "%s: items --host shows the pushed items" % label, p.stdout)

    sim.reset()
    p = ctl(tool, sim, "set", "synth-0002", "hvkvp.cfg.id=it-2",
            "new.key=x y", extra=extra)
    st = sim.stats()
    check(p.returncode == 0
          and st["by_action"].get("Invoke:ModifyKvpItems") == 1
          and st["by_action"].get("Invoke:AddKvpItems") == 1,
          "%s: set modifies existing keys and adds new ones" % label,
          p.stderr + json.dumps(st))
    p = ctl(tool, sim, "rm", "synth-0002", "hvkvp.cfg.id", "new.key",
            extra=extra)
    p2 = ctl(tool, sim, "--json", "items", "synth-0002", "--host",
             extra=extra)
    j = jout(p2)
    check(p.returncode == 0 and j and "hvkvp.cfg.id" not in j["host"]
          and "new.key" not in j["host"]
          and j["host"].get("hvkvp.cfg.interval") == "15",
          "%s: rm removes exactly the given keys" % label,
          p.stderr + p2.stdout)

    p = ctl(tool, sim, "items", "no-such-vm", extra=extra)
    check(p.returncode == 5 and "no-such-vm" in p.stderr,
          "%s: unknown VM exits 5 naming it" % label, p.stderr)
    p = ctl(tool, sim, "messages", "synth-0001", extra=list(extra)
            + ["--prefix", "nothere"])
    check(p.returncode == 6 and "decode error" in p.stderr,
          "%s: message decode error exits 6" % label, p.stderr)
    p = ctl(tool, sim, "vms", password="wrong-password", extra=extra)
    check(p.returncode == 3 and "wrong-password" not in p.stderr
          and "401" in p.stderr, "%s: wrong password exits 3, not echoed"
          % label, p.stderr)


def faults(tool, sim):
    sim.faults([{"kind": "soap_fault", "action": "Enumerate", "count": 1,
                 "code": 2150858793, "reason": "Injected timeout."}])
    p = ctl(tool, sim, "vms")
    check(p.returncode == 4 and "2150858793" in p.stderr
          and "Injected timeout" in p.stderr,
          "fault: SOAP fault exits 4 with the WSManFault code and reason",
          p.stderr)
    p = ctl(tool, sim, "vms")
    check(p.returncode == 0, "fault: the next call works", p.stderr)

    sim.faults([{"kind": "http500", "action": "Enumerate", "skip": 1,
                 "count": 1}])
    p = ctl(tool, sim, "vms")
    check(p.returncode == 4 and "500" in p.stderr,
          "fault: HTTP 500 exits 4", p.stderr)
    check(ctl(tool, sim, "vms").returncode == 0, "fault: next call works")

    sim.faults([{"kind": "failed_job", "action": "Invoke", "count": 1,
                 "error_code": 32779,
                 "error_description": "Injected job failure."}])
    p = ctl(tool, sim, "set", "synth-0003", "k=v")
    check(p.returncode == 4 and "32779" in p.stderr
          and "Injected job failure" in p.stderr,
          "fault: failed job exits 4 with ErrorCode and description",
          p.stderr)
    p = ctl(tool, sim, "set", "synth-0003", "k=v")
    check(p.returncode == 0, "fault: next set works", p.stderr)

    sim.faults([{"kind": "reset", "count": 1}])
    p = ctl(tool, sim, "vms")
    check(p.returncode == 2, "fault: connection reset exits 2", p.stderr)
    check(ctl(tool, sim, "vms").returncode == 0, "fault: next call works")

    sim.faults([{"kind": "truncate", "count": 1}])
    p = ctl(tool, sim, "vms")
    check(p.returncode in (2, 4) and p.stderr.strip() != "",
          "fault: truncated response is an error with a message", p.stderr)
    sim.faults([])
    check(ctl(tool, sim, "vms").returncode == 0, "fault: next call works")

    p = ctl(tool, sim)
    check(p.returncode == 1, "usage: no command exits 1")
    # the whole --timeout argument must be a number of seconds in (0, 86400]
    for bad in ("5x", "", "nan", "inf", "1e300", "0", "-1"):
        p = ctl(tool, sim, "vms", extra=("--timeout", bad))
        check(p.returncode == 1 and "--timeout" in p.stderr,
              "usage: --timeout %r exits 1" % bad, p.stderr)
    check(ctl(tool, sim, "vms", extra=("--timeout", "2.5")).returncode == 0,
          "--timeout 2.5 works")


def https(tool, hvsim, build_dir):
    sim = Sim(hvsim, build_dir, "--https", "--synthetic", "3", "--items",
              "5")
    try:
        check(sim.url.startswith("https://") and sim.cert,
              "https: simulator printed its certificate")
        functional(tool, sim, "https", extra=["--cacert", sim.cert])
        p = ctl(tool, sim, "vms")
        check(p.returncode == 2 and "tls" in p.stderr.lower(),
              "https: an unknown CA is refused by default (exit 2, TLS)",
              p.stderr)
        p = ctl(tool, sim, "vms", extra=["--insecure"])
        check(p.returncode == 0, "https: --insecure skips verification",
              p.stderr)
    finally:
        sim.stop()


def round_trips(tool, hvsim, build_dir):
    n, items = 1000, 5
    sim = Sim(hvsim, build_dir, "--synthetic", str(n), "--items", str(items))
    try:
        sim.reset()
        t0 = time.time()
        p = ctl(tool, sim, "--json", "vms")
        dt = time.time() - t0
        j = jout(p)
        st = sim.stats()
        req = st["requests"]
        cs = st["by_class"].get("Msvm_ComputerSystem", 0)
        kvp = st["by_class"].get("Msvm_KvpExchangeComponent", 0)
        check(p.returncode == 0 and j and len(j["vms"]) == n,
              "scale: vms lists %d VMs" % n, p.stderr[-500:])
        present = sum(1 for v in j["vms"] if v["message"].get("present")
                      and "error" not in v["message"]) if j else 0
        check(present == n, "scale: every VM's message decodes",
              "%d of %d" % (present, n))
        # Pages are filled by bytes (MaxElements 32000 by default): the
        # projected Msvm_ComputerSystem instances of 1000 VMs (a few hundred
        # bytes each) fit one 500 KB envelope, plus the Enumerate that
        # OptimizeEnumeration may answer with one instance; the KVP
        # enumeration is bounded by envelope size, not by the number of VMs.
        env_bytes = 500 * 1024
        bound_cs = 2
        bound = 4 + math.ceil(st["bytes_out"] / env_bytes)
        print("scale: %d VMs x %d items: %d requests (%d Msvm_ComputerSystem,"
              " %d Msvm_KvpExchangeComponent), %.1f MB, %.2f s"
              % (n, items, req, cs, kvp, st["bytes_out"] / 1e6, dt))
        check(cs <= bound_cs, "scale: Msvm_ComputerSystem in at most %d "
              "requests" % bound_cs, "got %d" % cs)
        check(req == cs + kvp and req <= bound,
              "scale: round trips bounded by batches and envelope size "
              "(%d <= %d), not by VM count" % (req, bound), json.dumps(st))
        sim.reset()
        p = ctl(tool, sim, "--max-elements", "100", "vms")
        st = sim.stats()
        cs = st["by_class"].get("Msvm_ComputerSystem", 0)
        check(p.returncode == 0 and cs == 1 + math.ceil(n / 100),
              "scale: --max-elements 100 gives %d Msvm_ComputerSystem "
              "requests" % (1 + math.ceil(n / 100)), "got %d" % cs)
    finally:
        sim.stop()


def secrets(tool, sim):
    """Credentials come only from a private file or the environment, and are
    never echoed."""
    secret = "Not-On-The-Command-Line-42"
    for opt in (["--password", secret], ["--password=" + secret],
                ["--pass", secret]):
        p = ctl(tool, sim, "vms", password=None, extra=opt)
        check(p.returncode == 1 and "unknown option --pass" in p.stderr
              and secret not in p.stderr + p.stdout,
              "secrets: %s is refused (no prefix of --password-file), the "
              "value not echoed" % opt[0].split("=")[0], p.stderr)
    d = tempfile.mkdtemp()
    try:
        pw = os.path.join(d, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pw, 0o644)
        p = ctl(tool, sim, "vms", password=None, extra=["--password-file", pw])
        check(p.returncode == 1 and pw in p.stderr and "0644" in p.stderr
              and PASSWORD not in p.stderr,
              "secrets: a password file others can read is refused, naming "
              "the file and its mode", p.stderr)
        os.chmod(pw, 0o600)
        p = ctl(tool, sim, "vms", password=None, extra=["--password-file", pw])
        check(p.returncode == 0, "secrets: a mode 0600 password file works",
              p.stderr)
        with open(pw, "w") as f:
            f.write("x" * 2000 + "\n")
        p = ctl(tool, sim, "vms", password=None, extra=["--password-file", pw])
        check(p.returncode == 1 and "longer than 1024" in p.stderr
              and "xxxx" not in p.stderr,
              "secrets: a password over the limit is refused, not cut",
              p.stderr)
    finally:
        shutil.rmtree(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hvkvpctl", required=True)
    ap.add_argument("--hvsim", required=True)
    a = ap.parse_args()
    for path in (a.hvkvpctl, a.hvsim):
        if not os.access(path, os.X_OK):
            print("FAILED prerequisite: %s is not an executable" % path)
            print("0 passed, 1 failed")
            return 1
    # the build directory holds protocol/hvkvp-codec, which hvsim uses to
    # frame synthetic messages as real guests do (enc=z64)
    build_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(a.hvkvpctl))))
    sim = Sim(a.hvsim, build_dir, "--synthetic", "3", "--items", "8")
    try:
        functional(a.hvkvpctl, sim, "http")
        faults(a.hvkvpctl, sim)
        secrets(a.hvkvpctl, sim)
    finally:
        sim.stop()
    https(a.hvkvpctl, a.hvsim, build_dir)
    round_trips(a.hvkvpctl, a.hvsim, build_dir)
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 0 if RESULTS["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
