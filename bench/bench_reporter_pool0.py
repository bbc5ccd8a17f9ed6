#!/usr/bin/env python3
"""bench_reporter_pool0: peak RSS of hvkvp-reporter when the host has filled
pool 0 (the host -> guest pool) up to the 64 MiB the pool store reads, with
the pushed config after all the other records; and, for comparison, with
an empty pool 0. Runs the real binary (--once, pool store in a temp dir)
under /usr/bin/time -v and reads "Maximum resident set size". Prints
figures; asserts nothing. Goal (guest-reporter/README.md): <= 4 MB.

  bench/bench_reporter_pool0.py [--build-dir BUILD] [--runs 3]
"""

import argparse
import os
import re
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REC = 2560


def record(key, value):
    k, v = key.encode(), value.encode()
    return k + b"\0" * (512 - len(k)) + v + b"\0" * (2048 - len(v))


def write_pool0(path, size):
    n = size // REC
    with open(path, "wb") as f:
        for i in range(max(n - 2, 0)):
            f.write(record("host.item.%d" % i, "v" * 900))
        if n >= 2:
            f.write(record("hvkvp.cfg.interval", "7"))
            f.write(record("hvkvp.cfg.id", "bench"))


def peak_rss_kb(reporter, store):
    r = subprocess.run(["/usr/bin/time", "-v", reporter, "--once",
                        "--config", "/dev/null", "--store", "pool:" + store],
                       capture_output=True, text=True, check=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    reporter = os.path.join(a.build_dir, "guest-reporter", "hvkvp-reporter")
    with tempfile.TemporaryDirectory(prefix="hvkvp-bench-pool0-") as d:
        pool0 = os.path.join(d, ".kvp_pool_0")
        for label, size in (("empty pool 0", 0),
                            ("64 MiB pool 0", 64 * 1024 * 1024)):
            write_pool0(pool0, size)
            rss, secs = [], []
            for _ in range(a.runs):
                t0 = time.monotonic()
                rss.append(peak_rss_kb(reporter, d))
                secs.append(time.monotonic() - t0)
            print("%-14s %6.1f MiB file: peak RSS %s KiB (max %.2f MB), "
                  "%.3f s per run" % (label, os.path.getsize(pool0) / 2**20,
                                      "/".join(map(str, rss)),
                                      max(rss) * 1024 / 1e6,
                                      min(secs)))


if __name__ == "__main__":
    main()
