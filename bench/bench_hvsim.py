#!/usr/bin/env python3
"""bench_hvsim: Pull throughput of the Hyper-V simulator (contrib/hvsim) for
1000 synthetic VMs x 200 GuestExchangeItems, as a WS-Man poller sees it:
Enumerate + Pull loops of Msvm_KvpExchangeComponent (all properties, and
the WQL projection a poller uses) at the default 500 KB envelope. Prints
figures; asserts nothing.

  bench/bench_hvsim.py [--vms 1000] [--items 200] [--rounds 3]
                       [--build-dir BUILD]   (for hvkvp-codec)
"""

import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "contrib", "hvsim"))

from hvsimlib import client as hc, simproc  # noqa: E402


CTX = re.compile(rb"<n:EnumerationContext>(uuid:[0-9A-F-]+)<")
END = re.compile(rb"<[nw]:EndOfSequence/>")


def enumerate_raw(c, uri, wql, max_el, cls):
    """Enumerate + Pull without XML parsing (regexes on the bytes), so the
    figures are the simulator's, not this client's parser's."""
    marker = b"<p:" + cls.encode() + b" "
    r = c.post(hc.enumerate_req(uri, wql, True, max_el))
    n, trips = r.body.count(marker), 1
    while not END.search(r.body):
        if r.status != 200:
            raise RuntimeError("HTTP %d: %r" % (r.status, r.body[:300]))
        r = c.post(hc.pull_req(uri, CTX.search(r.body).group(1).decode(),
                               max_el))
        n += r.body.count(marker)
        trips += 1
    return n, trips


def run(c, label, uri, wql, max_el, rounds):
    best = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        before = c.admin("GET", "/hvsim/stats")[1]["bytes_out"]
        cls = "Msvm_ComputerSystem" if "ComputerSystem" in uri else \
            "Msvm_KvpExchangeComponent"
        n, trips = enumerate_raw(c, uri, wql, max_el, cls)
        dt = time.perf_counter() - t0
        nbytes = c.admin("GET", "/hvsim/stats")[1]["bytes_out"] - before
        if best is None or dt < best[0]:
            best = (dt, n, trips, nbytes)
    dt, n, trips, nbytes = best
    print("%-34s %5d VMs %4d round trips %7.1f MB %6.2f s  %7.0f VMs/s "
          "%6.1f MB/s %6.1f ms/trip" % (label, n, trips, nbytes / 1e6, dt,
                                        n / dt, nbytes / 1e6 / dt,
                                        1000 * dt / trips))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=1000)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build-dir", default=os.environ.get("HVSIM_BUILD_DIR"))
    args = ap.parse_args()
    extra = ["--build-dir", args.build_dir] if args.build_dir else []
    t0 = time.perf_counter()
    sim = simproc.Sim("--synthetic", str(args.vms), "--items", str(args.items),
                      "--interval", "3600", *extra, timeout=600)
    print("hvsim start with %d synthetic VMs x %d items: %.1f s (%s)" % (
        args.vms, args.items, time.perf_counter() - t0,
        "hvkvp-codec" if args.build_dir else "built-in framing"))
    try:
        c = sim.client(timeout=600)
        kvp = hc.class_uri("Msvm_KvpExchangeComponent")
        all_uri = hc.WMI_V2 + "/*"
        run(c, "cold+warm, all properties", kvp, None, 32000, 1)
        run(c, "Msvm_KvpExchangeComponent (all)", kvp, None, 32000,
            args.rounds)
        run(c, "WQL SystemName+Guest*Items", all_uri,
            "SELECT SystemName, GuestIntrinsicExchangeItems, "
            "GuestExchangeItems FROM Msvm_KvpExchangeComponent", 32000,
            args.rounds)
        run(c, "WQL, MaxElements 20", all_uri,
            "SELECT SystemName, GuestExchangeItems FROM "
            "Msvm_KvpExchangeComponent", 20, args.rounds)
        run(c, "Msvm_ComputerSystem", hc.class_uri("Msvm_ComputerSystem"),
            None, 32000, args.rounds)
        c.close()
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
