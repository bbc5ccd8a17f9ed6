"""Integration test: hvkvp-reporter against the REAL hv_kvp_daemon.

A LinuxGuest (contrib/hvsim/hvsimlib/linux_guest.py) runs Debian's hv_kvp_daemon in a
private namespace behind the VMBus shim; this test plays the host through
it. The reporter writes the pool files in guest.pool_dir; everything the
test reads or writes goes through the daemon (ENUMERATE / SET), and the
items are decoded with <build>/protocol/hvkvp-codec. Checked: --once
publishes a decodable message whose values are plausible against /proc;
the loop keeps publishing with increasing gen; a host SET of cfg.interval /
cfg.id on pool 0 changes the reporter's interval and the id is echoed; a
refused push is reported in config_error; foreign records placed in pool 1
before and during the run come back unchanged; SIGTERM stops it cleanly.
Needs HVKVP_BUILD_DIR and HVKVP_SOURCE_DIR (ctest sets them); anything
missing makes the test FAIL, never skip."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.environ.get("HVKVP_SOURCE_DIR")
BUILD = os.environ.get("HVKVP_BUILD_DIR")
if not SRC or not BUILD:
    sys.exit("test_reporter_daemon: set HVKVP_SOURCE_DIR and HVKVP_BUILD_DIR")
sys.path.insert(0, os.path.join(SRC, "contrib", "hvsim"))
from hvsimlib import guests  # noqa: E402

REPORTER = os.path.join(BUILD, "guest-reporter", "hvkvp-reporter")
CODEC = os.path.join(BUILD, "protocol", "hvkvp-codec")
SHIM = os.path.join(BUILD, "contrib", "hvsim", "libhvsim_vmbus.so")
POOL_GUEST, POOL_EXTERNAL = 1, 0


def decode(items):
    """Decodes a dict of KVP items with hvkvp-codec; returns its answer."""
    out = subprocess.run([CODEC, "decode"], input=json.dumps(items) + "\n",
                         capture_output=True, text=True, timeout=30,
                         check=True).stdout
    return json.loads(out.splitlines()[0])


def values(msg):
    """{(plugin, plugin_instance, type, type_instance): [values]}"""
    return {(v["plugin"], v["plugin_instance"], v["type"],
             v["type_instance"]): v["values"] for v in msg["values"]}


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0]) * 1024
    return out


class ReporterDaemonTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for p in (REPORTER, CODEC, SHIM):
            if not os.path.isfile(p):
                raise AssertionError("%s missing: build the tree first" % p)
        cls.tmp = tempfile.TemporaryDirectory(prefix="hvkvp-rep-")
        cls.guest = guests.LinuxGuest("repvm", os.path.join(cls.tmp.name, "vm"),
                                      SHIM)
        cls.conf = os.path.join(cls.tmp.name, "reporter.conf")
        with open(cls.conf, "w") as f:
            f.write("# test config\nLogLevel debug\n")

    @classmethod
    def tearDownClass(cls):
        cls.guest.close()
        cls.tmp.cleanup()

    def guest_items(self):
        return dict(self.guest.enumerate(POOL_GUEST))

    def own(self):
        return {k: v for k, v in self.guest_items().items()
                if k.startswith("hvkvp.")}

    def run_once(self, *extra):
        r = subprocess.run([REPORTER, "--config", self.conf, "--once",
                            "--store", self.guest.store_spec] + list(extra),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_1_once_publishes_plausible_values(self):
        self.guest.set(POOL_GUEST, "cloud-init|boot", '{"ok":true}')
        self.guest.set(POOL_GUEST, "azure.agent", "v2.9 ready")
        self.run_once()
        items = self.guest_items()
        self.assertEqual(items["cloud-init|boot"], '{"ok":true}')
        self.assertEqual(items["azure.agent"], "v2.9 ready")
        d = decode({k: v for k, v in items.items() if k.startswith("hvkvp.")})
        self.assertTrue(d["ok"], d)
        msg = d["msg"]
        self.assertEqual(msg["host"], socket.gethostname())
        self.assertEqual(msg["interval"], 60)
        self.assertLess(abs(msg["time"] - time.time()), 120)
        vals = values(msg)
        mem = meminfo()
        used = vals[("memory", "", "memory", "used")][0]
        free = vals[("memory", "", "memory", "free")][0]
        self.assertGreater(used, 0)
        self.assertLessEqual(used + free, mem["MemTotal"])
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
        self.assertLess(abs(vals[("uptime", "", "uptime", "")][0] - up), 120)
        # cpu percentages need a previous reading: none in a first message
        self.assertFalse([k for k in vals if k[0] == "cpu"], vals)
        self.assertIn(("df", "root", "df_complex", "used"), vals)
        self.assertIn(("load", "", "load", ""), vals)
        self.assertNotIn(("interface", "lo", "if_octets", ""), vals)
        # a second run continues the gen of the first (restart-safe)
        gen1 = d["gen"]
        self.run_once()
        d2 = decode(self.own())
        self.assertTrue(d2["ok"], d2)
        self.assertEqual(d2["gen"], gen1 + 1)
        self.assertNotEqual(d2["epoch"], d["epoch"])
        self.assertEqual(d2["msg"]["seq"], gen1 + 1)

    def wait_for(self, pred, what, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            d = decode(self.own())
            if d.get("ok"):
                last = d
                if pred(d):
                    return d
            time.sleep(0.2)
        self.fail("timed out waiting for %s; last decoded: %s"
                  % (what, json.dumps(last)[:500]))

    def test_2_loop_push_and_foreign_records(self):
        self.guest.set(POOL_GUEST, "before.loop", "kept")
        log = open(os.path.join(self.tmp.name, "loop.log"), "w")
        p = subprocess.Popen([REPORTER, "--config", self.conf, "--foreground",
                              "--interval", "1", "--store",
                              self.guest.store_spec],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            first = self.wait_for(lambda d: True, "a first message")
            d = self.wait_for(lambda d: d["gen"] >= first["gen"] + 2,
                              "two more messages")
            # from the second cycle on: the default cpu values, each
            # state's share of all CPUs' time
            cpu = {k[3]: v[0] for k, v in values(d["msg"]).items()
                   if k[:3] == ("cpu", "", "percent")}
            self.assertEqual(set(cpu), {"user", "nice", "system", "idle", "wait",
                                        "interrupt", "softirq", "steal"}, cpu)
            self.assertAlmostEqual(sum(cpu.values()), 100, 6)
            self.guest.set(POOL_GUEST, "during.loop", "x" * 1500)
            # host pushes a config through the daemon (pool 0)
            self.guest.set(POOL_EXTERNAL, "hvkvp.cfg.interval", "2")
            self.guest.set(POOL_EXTERNAL, "hvkvp.cfg.tags", "env=ci")
            self.guest.set(POOL_EXTERNAL, "hvkvp.cfg.id", "push-42")
            d = self.wait_for(lambda d: d["msg"]["config"] == "push-42",
                              "the pushed config id echoed")
            self.assertEqual(d["msg"]["interval"], 2)
            self.assertEqual(d["msg"].get("tags"), {"env": "ci"})
            # the interval really changed (it was 1 s): messages are now
            # about 2 s apart, averaged over three intervals
            d1 = self.wait_for(lambda x: x["gen"] > d["gen"], "next message")
            d2 = self.wait_for(lambda x: x["gen"] >= d1["gen"] + 3,
                               "three more messages")
            per = ((d2["msg"]["time"] - d1["msg"]["time"])
                   / (d2["gen"] - d1["gen"]))
            self.assertTrue(1.4 < per < 3.0, "%.3f s per message" % per)
            # a refused push: reported, the good one stays
            self.guest.set(POOL_EXTERNAL, "hvkvp.cfg.interval", "0")
            self.guest.set(POOL_EXTERNAL, "hvkvp.cfg.id", "push-43")
            d = self.wait_for(lambda d: "config_error" in d["msg"],
                              "config_error for a refused push")
            self.assertEqual(d["msg"]["config"], "push-42")
            self.assertIn("hvkvp.cfg.interval", d["msg"]["config_error"])
            items = self.guest_items()
            self.assertEqual(items["before.loop"], "kept")
            self.assertEqual(items["during.loop"], "x" * 1500)
            self.assertEqual(items["cloud-init|boot"], '{"ok":true}')
            own = [k for k in items if k.startswith("hvkvp.")]
            self.assertLessEqual(len(own), 2 * 64 + 1)
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=30)
            log.close()
            for k in ("hvkvp.cfg.interval", "hvkvp.cfg.id", "hvkvp.cfg.tags"):
                self.guest.delete(POOL_EXTERNAL, k)
        self.assertEqual(rc, 0, "SIGTERM must stop the reporter cleanly")
        with open(os.path.join(self.tmp.name, "loop.log")) as f:
            text = f.read()
        self.assertIn("pushed config push-42 applied", text)
        self.assertIn("pushed config refused", text)
        self.assertIn("stopping after", text)

    def test_3_dry_run_writes_nothing(self):
        before = self.guest_items()
        r = subprocess.run([REPORTER, "--config", self.conf, "--dry-run",
                            "--store", self.guest.store_spec],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        msg = json.loads(r.stdout)
        self.assertEqual(msg["v"], 1)
        self.assertTrue(msg["values"])
        self.assertEqual(self.guest_items(), before)

    def test_4_bad_config_exit_2(self):
        bad = os.path.join(self.tmp.name, "bad.conf")
        with open(bad, "w") as f:
            f.write("Interval 10\nEncoding brotli\n")
        r = subprocess.run([REPORTER, "--config", bad, "--once", "--store",
                            self.guest.store_spec],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s:2: Encoding \"brotli\": want zd1, z64 or json" % bad,
                      r.stderr)

    def test_5_sighup_reloads_config(self):
        conf = os.path.join(self.tmp.name, "hup.conf")
        with open(conf, "w") as f:
            f.write("Interval 1\nHostname before-hup\n")
        log_path = os.path.join(self.tmp.name, "hup.log")
        log = open(log_path, "w")
        p = subprocess.Popen([REPORTER, "--config", conf, "--foreground",
                              "--store", self.guest.store_spec],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            self.wait_for(lambda d: d["msg"]["host"] == "before-hup",
                          "the first host name")
            with open(conf, "w") as f:
                f.write("Interval 1\nHostname after-hup\n<Collector cpu>\n"
                        "  ReportByState false\n</Collector>\n")
            p.send_signal(signal.SIGHUP)
            d = self.wait_for(lambda d: d["msg"]["host"] == "after-hup",
                              "the reloaded host name")
            # the new cpu mode at once: the reading before the reload stays
            cpu = {k for k in values(d["msg"]) if k[0] == "cpu"}
            self.assertEqual(cpu, {("cpu", "", "percent", "active")})
            # a broken file is refused and the running config kept
            with open(conf, "w") as f:
                f.write("Interval 1\nHostname broken\nInterval nope\n")
            p.send_signal(signal.SIGHUP)
            d = self.wait_for(lambda d: True, "a message after the bad reload")
            g = d["gen"]
            d = self.wait_for(lambda x: x["gen"] >= g + 2, "two more messages")
            self.assertEqual(d["msg"]["host"], "after-hup")
            self.assertIsNone(p.poll(), "a bad reload must not stop it")
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=30)
            log.close()
        self.assertEqual(rc, 0)
        with open(log_path) as f:
            text = f.read()
        self.assertIn("config reloaded", text)
        self.assertIn("reload refused, keeping the running config: %s:3: "
                      "Interval \"nope\"" % conf, text)

    def test_6_daemon_mode(self):
        """Without --foreground: the parent exits 0, the daemon keeps
        publishing (logging to LogFile), SIGTERM stops it."""
        conf = os.path.join(self.tmp.name, "daemon.conf")
        log_path = os.path.join(self.tmp.name, "daemon.log")
        with open(conf, "w") as f:
            f.write("Interval 1\nHostname daemon-mode\nLogFile %s\n"
                    % log_path)
        r = subprocess.run([REPORTER, "--config", conf, "--store",
                            self.guest.store_spec],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = None
        try:
            d = self.wait_for(lambda d: d["msg"]["host"] == "daemon-mode",
                              "a message from the daemon")
            self.wait_for(lambda x: x["gen"] >= d["gen"] + 1,
                          "the daemon's next message")
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open("/proc/%s/cmdline" % entry, "rb") as f:
                        args = f.read().split(b"\0")
                except OSError:
                    continue
                if conf.encode() in args:
                    pid = int(entry)
            self.assertIsNotNone(pid, "daemon process not found")
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # detached: a session of its own (setsid), not the test's
            self.assertNotEqual(int(fields[3]), os.getsid(0))
        finally:
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        with open("/proc/%d/stat" % pid) as f:
                            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                                break
                    except OSError:
                        break
                    time.sleep(0.1)
        with open(log_path) as f:
            text = f.read()
        self.assertIn("started: store %s" % self.guest.store_spec, text)
        self.assertIn("stopping after", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
