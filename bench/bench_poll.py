#!/usr/bin/env python3
"""bench_poll: the cost of polling Hyper-V hosts, every figure of issue 13's
table in one run, as ratios to its floor or bound. Prints; asserts nothing.

For each size (default 100, 1000, 3000 VMs) the simulator (contrib/hvsim)
runs that many synthetic guests, each publishing a new message of about
150 value lists every interval with the framing every hvkvp writer uses
(hvkvp-codec: zd1, one slot at rest), plus Hyper-V's 10 intrinsic items.
Three real collectd runs follow, each measured from /proc over the same
number of polls once warm:

  idle   collectd with no read plugin (its own ticking)
  floor  hvkvp_dispatch_floor.so dispatching the same value lists, decoded
         once at start (what collectd itself costs: plugin_dispatch_values
         and its cache)
  plugin hyperv_kvp.so polling the simulator

and prints per VM per poll: bytes on the wire (goal <= 8,192), collectd
CPU of the plugin and of the floor over idle (goal plugin <= 1.5 x floor),
and WS-Management requests per poll against the fewest the bytes allow:
ceil(bytes / envelope) + 3 (two enumerations, each an Enumerate answered
with one instance, as WinRM does, and its own last page).
The protocol and page figures come from the C benchmarks
(bench_protocol: decode per message; bench_host: page decode against
libxml2's xmlTextReader).

  bench/bench_poll.py [--build-dir build] [--sizes 100,1000,3000]
                      [--polls 4] [--interval 5]
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "contrib", "hvsim"))

from hvsimlib import client as hc, simproc  # noqa: E402

COLLECTD = "/usr/sbin/collectd"
TYPES_DB = "/usr/share/collectd/types.db"
ENVELOPE = 500 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as fh:
        f = fh.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / CLK_TCK


class Collectd:
    """A private collectd with the given plugin blocks and a writer that
    does nothing (what is measured is taking the values, not writing them;
    without a writer collectd logs a line per value)."""

    def __init__(self, build, interval, body, plugins, floor, vms=0,
                 message=""):
        self.dir = tempfile.mkdtemp(prefix="hkp-bench-")
        pdir = os.path.join(self.dir, "plugins")
        os.makedirs(pdir)
        for p in plugins + [floor]:  # copies: no symlinked plugins
            shutil.copy(p, pdir)
        body += ('\nLoadPlugin hvkvp_dispatch_floor\n'
                 '<Plugin hvkvp_dispatch_floor>\n  Message "%s"\n'
                 '  VMs %d\n</Plugin>\n' % (message, vms))
        self.conf = os.path.join(self.dir, "collectd.conf")
        with open(self.conf, "w") as fh:
            fh.write('Hostname "bench"\nFQDNLookup false\nBaseDir "%s"\n'
                     'PIDFile "%s/pid"\nPluginDir "%s"\nTypesDB "%s"\n'
                     "Interval %g\nReadThreads 2\n%s\n"
                     % (self.dir, self.dir, pdir, TYPES_DB, interval, body))
        self.log = open(os.path.join(self.dir, "out"), "w")
        self.proc = subprocess.Popen([COLLECTD, "-f", "-C", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def stop(self):
        simproc.terminate(self.proc)
        self.log.close()
        with open(os.path.join(self.dir, "out")) as fh:
            out = fh.read()
        shutil.rmtree(self.dir, ignore_errors=True)
        return out


def measure(c, interval, polls, warm=2):
    """CPU seconds collectd spends over `polls` intervals, once warm."""
    time.sleep(interval * warm)
    t0, c0 = time.monotonic(), c.cpu()
    time.sleep(interval * polls)
    return c.cpu() - c0, time.monotonic() - t0


def one_message(sim, codec, path):
    """The message one synthetic guest publishes, as JSON in path."""
    cl = sim.client(timeout=120)
    items, _ = cl.enumerate_all(
        hc.WMI_V2 + "/*", "SELECT SystemName, GuestExchangeItems FROM "
        "Msvm_KvpExchangeComponent", max_elements=1)
    cl.close()
    guest = {}
    for e in items[0]:
        if e.tag.endswith("GuestExchangeItems"):
            p = {x.get("NAME"): x.findtext("VALUE")
                 for x in ET.fromstring(e.text)}
            guest[p["Name"]] = p["Data"] or ""
    out = subprocess.run([codec, "decode"], input=json.dumps(guest) + "\n",
                         capture_output=True, text=True, check=True).stdout
    res = json.loads(out)
    with open(path, "w") as fh:
        json.dump(res["msg"], fh)
    return res["msg"], guest


def run_size(a, n, plugin, floor, codec):
    iv, polls = a.interval, a.polls
    sim = simproc.Sim("--synthetic", str(n), "--items", "1", "--interval",
                      str(iv), "--build-dir", a.build_dir, timeout=900)
    tmp = tempfile.mkdtemp(prefix="hkp-bench-msg-")
    try:
        msg_path = os.path.join(tmp, "message.json")
        msg, guest = one_message(sim, codec, msg_path)
        c = Collectd(a.build_dir, iv, "", [], floor)
        idle, wall = measure(c, iv, polls)
        c.stop()
        c = Collectd(a.build_dir, iv, "", [], floor, n, msg_path)
        fl, _ = measure(c, iv, polls)
        c.stop()
        c = Collectd(a.build_dir, iv,
                     'LoadPlugin hyperv_kvp\n<Plugin hyperv_kvp>\n'
                     '  <Host "sim">\n    URL "%s"\n    User "%s"\n'
                     '    Password "%s"\n    Auth "basic"\n'
                     '    Timeout 120\n  </Host>\n</Plugin>'
                     % (sim.url, sim.user, sim.password), [plugin], floor)
        time.sleep(iv * 2)
        cl = sim.client()
        cl.admin("POST", "/hvsim/stats/reset")
        c0, t0 = c.cpu(), time.monotonic()
        time.sleep(iv * polls)
        pl, wall = c.cpu() - c0, time.monotonic() - t0
        st = cl.admin("GET", "/hvsim/stats")[1]
        cl.close()
        out = c.stop()
    finally:
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done = wall / iv
    return {
        "vms": n, "value_lists": len(msg["values"]),
        "guest_items": len(guest),
        "bytes_per_vm": st["bytes_out"] / done / n,
        "requests": st["requests"] / done,
        # two enumerations (Msvm_ComputerSystem, Msvm_KvpExchangeComponent),
        # each an Enumerate answered with one instance (as WinRM does with
        # OptimizeEnumeration) and Pulls of full envelopes: the fewest
        # requests their bytes allow
        "bound": math.ceil(st["bytes_out"] / done / ENVELOPE) + 3,
        "plugin_us": (pl - idle) / done / n * 1e6,
        "floor_us": (fl - idle) / done / n * 1e6,
        "idle_s": idle, "errors": [ln for ln in out.splitlines()
                                   if "error" in ln.lower()][:3],
    }


def c_bench(path, *args):
    if not os.path.exists(path):
        return "(not built: %s)" % path
    return subprocess.run([path, *args], capture_output=True,
                          text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sizes", default="100,1000,3000")
    ap.add_argument("--polls", type=int, default=4)
    ap.add_argument("--interval", type=float, default=5)
    a = ap.parse_args()
    a.build_dir = os.path.abspath(a.build_dir)
    plugin = os.path.join(a.build_dir, "collectd-plugin", "hyperv_kvp.so")
    floor = os.path.join(a.build_dir, "bench", "hvkvp_dispatch_floor.so")
    codec = os.path.join(a.build_dir, "protocol", "hvkvp-codec")
    for p in (plugin, floor, codec, COLLECTD):
        if not os.path.exists(p):
            sys.exit("bench_poll: %s is missing (build first)" % p)

    print("== protocol (bench_protocol, typical Linux message)")
    print(c_bench(os.path.join(a.build_dir, "bench", "bench_protocol")),
          end="")
    print("== page decode (bench_host)")
    print(c_bench(os.path.join(a.build_dir, "bench", "bench_host")), end="")

    rows = []
    for n in [int(x) for x in a.sizes.split(",")]:
        t0 = time.monotonic()
        r = run_size(a, n, plugin, floor, codec)
        rows.append(r)
        print("== %d VMs (%.0f s): %d value lists, %d guest items per VM%s"
              % (n, time.monotonic() - t0, r["value_lists"], r["guest_items"],
                 "; collectd said: %s" % r["errors"] if r["errors"] else ""))
    print()
    print("%-6s %13s %9s %12s %12s %8s %14s" % (
        "VMs", "bytes/VM/poll", "/8192", "plugin us/VM", "floor us/VM",
        "/floor", "requests/bound"))
    for r in rows:
        print("%-6d %13.0f %9.2f %12.1f %12.1f %8.2f %8.1f/%-5d" % (
            r["vms"], r["bytes_per_vm"], r["bytes_per_vm"] / 8192,
            r["plugin_us"], r["floor_us"],
            r["plugin_us"] / r["floor_us"] if r["floor_us"] > 0 else 0,
            r["requests"], r["bound"]))
    if len(rows) > 1:
        base = rows[0]["plugin_us"]
        print("scaling of plugin CPU per VM against %d VMs: %s" % (
            rows[0]["vms"], ", ".join("%d: %.2f" % (r["vms"],
                                                    r["plugin_us"] / base)
                                      for r in rows)))


if __name__ == "__main__":
    main()
