#!/usr/bin/env python3
"""bench_write_hvkvp: what write_hvkvp adds to a guest's collectd, side by
side with collectd's own network plugin sending the same values. Three real
collectd runs, one after the other, each with an exec script that dispatches
150 value lists per interval (Interval 1, so that a minute is 60 rounds):

  base     the exec script and csv writing to stdout (/dev/null): collectd
           needs one writer, or it logs "no write targets" per value list
  hvkvp    base + write_hvkvp (Store pool:<temp dir>)
  network  base + network (Server 127.0.0.1, UDP to an unused port)

For each: collectd's own CPU time (the schedstat of all its threads; the exec
script is another process) per interval after a warm-up, and its VmRSS /
VmHWM at the end; then the difference to base. Prints figures; asserts
nothing.

  bench/bench_write_hvkvp.py [--build-dir BUILD] [--seconds 40] [--rounds 3]
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STOCK = "/usr/lib/collectd"
N_VLS = 150

SCRIPT = """#!/bin/sh
H="${COLLECTD_HOSTNAME:-localhost}"
I="${COLLECTD_INTERVAL:-1}"
n=0
while true; do
  n=$((n+1))
  i=0
  while [ $i -lt %d ]; do
    echo "PUTVAL \\"$H/bench-app$((i / 10))/gauge-m$i\\" interval=$I N:$((n*7+i)).$i"
    i=$((i+1))
  done
  sleep "$I"
done
""" % N_VLS


def cpu_seconds(pid):
    """On-CPU time of all of the process's threads (schedstat, ns)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total / 1e9


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(tmp, name, plugins, body, seconds, warmup=5):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "plugins"))
    for p in ["exec", "logfile", "csv"] + plugins:
        src = p if os.path.isabs(p) else os.path.join(STOCK, p + ".so")
        shutil.copy(src, os.path.join(d, "plugins"))
    conf = os.path.join(d, "collectd.conf")
    with open(conf, "w") as f:
        f.write("""Hostname "benchvm"
FQDNLookup false
BaseDir "{d}"
PIDFile "{d}/collectd.pid"
PluginDir "{d}/plugins"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  File "{d}/collectd.log"
</Plugin>
LoadPlugin exec
<Plugin exec>
  Exec "nobody" "{script}"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "stdout"
</Plugin>
{body}
""".format(d=d, script=os.path.join(tmp, "app.sh"), body=body))
    p = subprocess.Popen(["/usr/sbin/collectd", "-f", "-C", conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        time.sleep(warmup)
        c0, t0 = cpu_seconds(p.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(p.pid), time.monotonic()
        rss, hwm = status_kb(p.pid, "VmRSS"), status_kb(p.pid, "VmHWM")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
    return (c1 - c0) / (t1 - t0) * 1000.0, rss, hwm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    plugin = os.path.join(a.build_dir, "guest-reporter", "write_hvkvp.so")
    tmp = tempfile.mkdtemp(prefix="hvkvp-bench-wh-")
    os.chmod(tmp, 0o755)
    try:
        with open(os.path.join(tmp, "app.sh"), "w") as f:
            f.write(SCRIPT)
        os.chmod(os.path.join(tmp, "app.sh"), 0o755)
        pool = os.path.join(tmp, "pool")
        os.makedirs(pool)
        runs = [
            ("base", [], ""),
            ("hvkvp", [plugin], "LoadPlugin write_hvkvp\n<Plugin write_hvkvp>"
             "\n  Store \"pool:%s\"\n</Plugin>" % pool),
            ("network", ["network"], "LoadPlugin network\n<Plugin network>\n"
             "  Server \"127.0.0.1\" \"%d\"\n</Plugin>" % free_udp_port()),
        ]
        got = {name: [] for name, _, _ in runs}
        for r in range(a.rounds):  # interleaved: load changes hit all alike
            for name, plugins, body in runs:
                got[name].append(run(tmp, "%s-%d" % (name, r), plugins, body,
                                     a.seconds))
        res = {k: tuple(sorted(x[i] for x in v)[len(v) // 2]
                        for i in range(3)) for k, v in got.items()}
        print("collectd, Interval 1, %d value lists per interval, %.0f s "
              "measured per run, median of %d runs"
              % (N_VLS, a.seconds, a.rounds))
        base = res["base"]
        for name in ("base", "hvkvp", "network"):
            cpu, rss, hwm = res[name]
            print("%-8s CPU %6.2f ms/interval (+%5.2f)   VmRSS %6d KiB "
                  "(+%5d)   VmHWM %6d KiB (+%5d)"
                  % (name, cpu, cpu - base[0], rss, rss - base[1], hwm,
                     hwm - base[2]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
