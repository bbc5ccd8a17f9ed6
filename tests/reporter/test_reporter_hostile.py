"""Integration test: the real hvkvp-reporter under a hostile host or script
(issue 11, item 6).

- Pushed intervals are strict decimal (PROTOCOL.md 11): "0x10", " 5", "1e1"
  and friends, set by the host through the REAL hv_kvp_daemon (pool 0), are
  refused by name in config_error and the last good interval stays.
- An Exec script that prints hundreds of bad lines and floods stderr costs
  the log one warning for its output and a few stderr lines, and its
  values still arrive.
- A 64 MiB pool 0 (the config after 26000 host records) is streamed: the
  config is applied even with the reporter's data segment limited to 24 MiB
  (not under the sanitizers, whose shadow memory such a limit forbids).
- A pool-0 problem (too many cfg items, an oversized pool, a refused
  config) is logged once while it lasts, again when it changes.
Needs HVKVP_BUILD_DIR and HVKVP_SOURCE_DIR (ctest sets them); anything
missing makes the test FAIL, never skip."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.environ.get("HVKVP_SOURCE_DIR")
BUILD = os.environ.get("HVKVP_BUILD_DIR")
if not SRC or not BUILD:
    sys.exit("test_reporter_hostile: set HVKVP_SOURCE_DIR and HVKVP_BUILD_DIR")
sys.path.insert(0, os.path.join(SRC, "contrib", "hvsim"))
from hvsimlib import guests  # noqa: E402

REPORTER = os.path.join(BUILD, "guest-reporter", "hvkvp-reporter")
CODEC = os.path.join(BUILD, "protocol", "hvkvp-codec")
SHIM = os.path.join(BUILD, "contrib", "hvsim", "libhvsim_vmbus.so")
SANITIZED = os.environ.get("HVKVP_SANITIZED", "OFF") == "ON"
REC = 2560
POOL_GUEST, POOL_EXTERNAL = 1, 0


def record(key, value):
    k, v = key.encode(), value.encode()
    return k + b"\0" * (512 - len(k)) + v + b"\0" * (2048 - len(v))


def read_pool(path):
    """{key: value} of a pool file (first record of a key wins)."""
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    for i in range(0, len(data) - REC + 1, REC):
        k = data[i:i + 512].split(b"\0", 1)[0].decode()
        v = data[i + 512:i + REC].split(b"\0", 1)[0].decode()
        out.setdefault(k, v)
    return out


def decode(items):
    own = {k: v for k, v in items.items() if k.startswith("hvkvp.")}
    out = subprocess.run([CODEC, "decode"], input=json.dumps(own) + "\n",
                         capture_output=True, text=True, timeout=30,
                         check=True).stdout
    ans = json.loads(out.splitlines()[0])
    if not ans.get("ok"):
        raise AssertionError("message does not decode: %r" % ans)
    return ans["msg"]


class ReporterHostileTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for p in (REPORTER, CODEC, SHIM):
            if not os.path.isfile(p):
                raise AssertionError("%s missing: build the tree first" % p)
        cls.tmp = tempfile.TemporaryDirectory(prefix="hvkvp-hostile-")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def pool_dir(self, name):
        d = os.path.join(self.tmp.name, name)
        os.makedirs(d)
        return d

    def conf(self, name, text):
        path = os.path.join(self.tmp.name, name + ".conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def reporter(self, conf, store, *extra, prefix=()):
        r = subprocess.run(list(prefix) + [REPORTER, "--config", conf,
                                           "--store", store] + list(extra),
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        return r

    def wait_for(self, guest, pred, what, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = decode(dict(guest.enumerate(POOL_GUEST)))
            except AssertionError:
                last = None  # no message yet
            if last is not None and pred(last):
                return last
            time.sleep(0.1)
        self.fail("timed out waiting for %s; last message: %s"
                  % (what, json.dumps(last)[:500]))

    def test_pushed_interval_strict_decimal(self):
        """Through the real hv_kvp_daemon, to a running reporter: every
        non-decimal interval is refused by name, the good one stays."""
        with guests.LinuxGuest("strictvm", os.path.join(self.tmp.name, "vm"),
                               SHIM) as guest:
            conf = self.conf("strict", "Collectors uptime\nInterval 2\n")
            guest.set(POOL_EXTERNAL, "hvkvp.cfg.interval", "1")
            guest.set(POOL_EXTERNAL, "hvkvp.cfg.id", "good-1")
            p = subprocess.Popen([REPORTER, "--config", conf, "--foreground",
                                  "--store", guest.store_spec],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            try:
                self.wait_for(guest, lambda m: m["config"] == "good-1",
                              "the good config applied")
                bad = ["0x10", " 5", "1e1", "+5", "5.", "-1", "10 ", "\u0665",
                       "1,5", "0", "3601"]
                for i, value in enumerate(bad):
                    guest.set(POOL_EXTERNAL, "hvkvp.cfg.interval", value)
                    guest.set(POOL_EXTERNAL, "hvkvp.cfg.id", "bad-%d" % i)
                    want = 'item hvkvp.cfg.interval: "%s"' % value
                    msg = self.wait_for(
                        guest, lambda m: want in m.get("config_error", ""),
                        "%r refused" % value)
                    self.assertEqual((msg["config"], msg["interval"]),
                                     ("good-1", 1), "accepted %r" % value)
                guest.set(POOL_EXTERNAL, "hvkvp.cfg.interval", "1.0")
                guest.set(POOL_EXTERNAL, "hvkvp.cfg.id", "good-2")
                msg = self.wait_for(guest, lambda m: m["config"] == "good-2",
                                    "the second good config")
                self.assertEqual(msg["interval"], 1)
                self.assertNotIn("config_error", msg)
            finally:
                p.terminate()
                self.assertEqual(p.wait(timeout=30), 0)

    def test_exec_output_and_stderr_bounded(self):
        script = os.path.join(self.tmp.name, "noisy.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n"
                    "i=0\n"
                    "while [ $i -lt 800 ]; do\n"
                    "  echo \"not putval $i\"\n"
                    "  echo \"stderr complaint $i\" >&2\n"
                    "  i=$((i+1))\n"
                    "done\n"
                    "i=0\n"
                    "while [ $i -lt 3000 ]; do\n"
                    "  echo \"more stderr $i\" >&2; i=$((i+1))\n"
                    "done\n"
                    "echo 'PUTVAL vm/app/gauge-kept N:42'\n")
        os.chmod(script, 0o755)
        log = os.path.join(self.tmp.name, "exec.log")
        conf = self.conf("exec", 'Collectors noisy\nExec noisy "%s"\n'
                         'LogFile %s\n' % (script, log))
        store = self.pool_dir("execpool")
        r = self.reporter(conf, "pool:" + store, "--once")
        msg = decode(read_pool(os.path.join(store, ".kvp_pool_1")))
        vals = [v for v in msg["values"] if v["plugin"] == "app"]
        self.assertEqual([v["values"] for v in vals], [[42]])
        with open(log) as f:
            lines = [l for l in f.read().splitlines() if "Exec noisy" in l]
        skipped = [l for l in lines if "output lines skipped" in l]
        self.assertEqual(len(skipped), 1, lines)
        self.assertIn("800 of 801 output lines skipped", skipped[0])
        stderr_lines = [l for l in lines if "Exec noisy stderr:" in l]
        self.assertEqual(len(stderr_lines), 3, lines)
        self.assertLessEqual(len(lines), 5, lines)
        self.assertNotIn("complaint", r.stderr)

    def write_pool0(self, store, records):
        with open(os.path.join(store, ".kvp_pool_0"), "wb") as f:
            for k, v in records:
                f.write(record(k, v))

    def test_pool0_64mib_streamed(self):
        store = self.pool_dir("bigpool")
        n = 64 * 1024 * 1024 // REC
        filler = [("host.item.%d" % i, "v" * 900) for i in range(n - 2)]
        self.write_pool0(store, filler + [("hvkvp.cfg.interval", "7"),
                                          ("hvkvp.cfg.id", "after-64mib")])
        self.assertLessEqual(os.path.getsize(os.path.join(store,
                                                          ".kvp_pool_0")),
                             64 * 1024 * 1024)
        conf = self.conf("big", "Collectors uptime\n")
        # A reporter that read pool 0 whole would need 64 MiB of heap.
        limit = [] if SANITIZED else ["prlimit", "--data=%d" % (24 << 20)]
        self.reporter(conf, "pool:" + store, "--once", prefix=limit)
        msg = decode(read_pool(os.path.join(store, ".kvp_pool_1")))
        self.assertEqual((msg["config"], msg["interval"]), ("after-64mib", 7))

    def loop(self, name, store, cycles):
        log = os.path.join(self.tmp.name, name + ".log")
        conf = self.conf(name, "Collectors uptime\nLogFile %s\n" % log)
        self.reporter(conf, "pool:" + store, "--foreground", "--interval-ms",
                      "50", "--cycles", str(cycles))
        with open(log) as f:
            return f.read().splitlines()

    def test_pool0_problem_logged_once(self):
        store = self.pool_dir("problems")
        # too many cfg items: one line for 6 cycles
        self.write_pool0(store, [("hvkvp.cfg.x%d" % i, "y")
                                 for i in range(300)])
        lines = self.loop("many", store, 6)
        bad = [l for l in lines if "cannot read pushed config" in l]
        self.assertEqual(len(bad), 1, lines)
        self.assertIn("more than 256 hvkvp.cfg.* records", bad[0])
        msg = decode(read_pool(os.path.join(store, ".kvp_pool_1")))
        self.assertIn("more than 256", msg["config_error"])
        # over 64 MiB: refused once (a different problem)
        with open(os.path.join(store, ".kvp_pool_0"), "wb") as f:
            f.truncate(64 * 1024 * 1024 + REC)
        lines = self.loop("huge", store, 6)
        bad = [l for l in lines if "cannot read pushed config" in l]
        self.assertEqual(len(bad), 1, lines)
        self.assertIn("byte limit", bad[0])
        # a refused config: one line; then a good one is applied
        self.write_pool0(store, [("hvkvp.cfg.id", "x"),
                                 ("hvkvp.cfg.interval", "0x10")])
        lines = self.loop("refused", store, 6)
        bad = [l for l in lines if "pushed config refused" in l]
        self.assertEqual(len(bad), 1, lines)
        self.assertIn('item hvkvp.cfg.interval: "0x10"', bad[0])
        # a control character in a pushed value does not forge a log line
        self.write_pool0(store, [("hvkvp.cfg.id", "x"),
                                 ("hvkvp.cfg.interval",
                                  "5\n2030-01-01T00:00:00Z forged: line")])
        lines = self.loop("forged", store, 2)
        self.assertFalse([l for l in lines if l.startswith("2030-")], lines)


if __name__ == "__main__":
    unittest.main(verbosity=2)
