#!/usr/bin/env python3
"""test_collectd_sim.py - the hyperv_kvp plugin inside the REAL collectd
(/usr/sbin/collectd) against the Hyper-V simulator (contrib/hvsim/hvsim) with
100 synthetic VMs: every VM's values land in collectd's csv files under the
VM's name; a dead second <Host> (a closed port) does not stop the first; a
<Push> block's Interval reaches every VM's HostExchangeItems and the in-sync
count reaches 100 (synthetic guests echo PREFIX.cfg.id); collectd stops
cleanly. A bad option makes collectd exit non-zero naming the option.
Prints what a 100-VM poll costs (WS-Man requests, milliseconds).

Environment (set by tests/collectd-plugin/CMakeLists.txt): HVKVP_BUILD_DIR,
HVKVP_SOURCE_DIR, HVKVP_PLUGIN_SO (the built hyperv_kvp.so), HVKVP_SANITIZE
(ON: the plugin is an ASan/UBSan build, loaded with libasan preloaded).
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

SRC = os.environ.get("HVKVP_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("HVKVP_BUILD_DIR", "")
HVKVPCTL = os.environ.get("HVKVP_HVKVPCTL", "")
PLUGIN = os.environ.get("HVKVP_PLUGIN_SO") or os.path.join(
    BUILD, "collectd-plugin", "hyperv_kvp.so")
SANITIZE = os.environ.get("HVKVP_SANITIZE", "OFF").upper() in ("ON", "1",
                                                               "TRUE")
COLLECTD = "/usr/sbin/collectd"
STOCK_PLUGINS = "/usr/lib/collectd"
N_VMS = 100
PUSH_INTERVAL = 7

sys.path.insert(0, os.path.join(SRC, "contrib", "hvsim"))
from hvsimlib import client as hc, simproc  # noqa: E402


def closed_port():
    """A loopback port nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def csv_rows(path_glob):
    """All data rows of the csv files matching path_glob, as float lists."""
    rows = []
    for path in sorted(glob.glob(path_glob)):
        with open(path) as fh:
            for line in fh:
                if line[:1].isdigit():
                    rows.append([float(x) for x in line.strip().split(",")])
    return rows


def asan_env():
    env = dict(os.environ)
    if SANITIZE:
        lib = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()
        if not os.path.isabs(lib) or not os.path.exists(lib):
            raise RuntimeError("HVKVP_SANITIZE=ON but libasan.so not found "
                               "(gcc -print-file-name=libasan.so: %r)" % lib)
        env["LD_PRELOAD"] = lib
        # collectd itself is not built with ASan: only errors count, and
        # leaks are checked for allocations made by our plugin (see below).
        env["ASAN_OPTIONS"] = ("detect_leaks=1:abort_on_error=0:"
                               "exitcode=66:log_path=" +
                               env.get("HKP_ASAN_LOG", "/dev/stderr"))
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


class CollectdRun:
    """A private collectd: own BaseDir, PIDFile, PluginDir (copies: collectd
    refuses symlinked plugins), csv DataDir, log to a file."""

    def __init__(self, plugin_block, interval=5):
        self.dir = tempfile.mkdtemp(prefix="hkp-collectd-")
        self.plugins = os.path.join(self.dir, "plugins")
        self.csv = os.path.join(self.dir, "csv")
        self.log = os.path.join(self.dir, "collectd.log")
        self.asan_log = os.path.join(self.dir, "asan")
        os.makedirs(self.plugins)
        os.makedirs(self.csv)
        shutil.copy(PLUGIN, os.path.join(self.plugins, "hyperv_kvp.so"))
        for p in ("csv", "logfile"):
            shutil.copy(os.path.join(STOCK_PLUGINS, p + ".so"), self.plugins)
        self.conf = os.path.join(self.dir, "collectd.conf")
        with open(self.conf, "w") as fh:
            fh.write("""Hostname "collector"
FQDNLookup false
BaseDir "{d}"
PIDFile "{d}/collectd.pid"
PluginDir "{p}"
TypesDB "/usr/share/collectd/types.db"
Interval {iv}
ReadThreads 4
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{log}"
  Timestamp true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{csv}"
</Plugin>
LoadPlugin hyperv_kvp
<Plugin hyperv_kvp>
{block}
</Plugin>
""".format(d=self.dir, p=self.plugins, iv=interval, log=self.log,
           csv=self.csv, block=plugin_block))
        self.proc = None

    def start(self):
        env = asan_env()
        env["HKP_ASAN_LOG"] = self.asan_log
        if SANITIZE:
            env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace(
                "log_path=/dev/stderr", "log_path=" + self.asan_log)
        self.out = open(os.path.join(self.dir, "stdout"), "w")
        self.proc = subprocess.Popen([COLLECTD, "-f", "-C", self.conf],
                                     stdout=self.out,
                                     stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def run_to_exit(self, timeout=30):
        """Runs collectd expecting it to exit by itself; (rc, output)."""
        env = asan_env()
        p = subprocess.run([COLLECTD, "-f", "-C", self.conf],
                           capture_output=True, text=True, timeout=timeout,
                           env=env)
        return p.returncode, p.stdout + p.stderr + self.log_text()

    def stop(self):
        if self.proc is None:
            return None
        simproc.terminate(self.proc)
        self.out.close()
        return self.proc.returncode

    def log_text(self):
        try:
            with open(self.log) as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def asan_reports(self):
        text = ""
        for path in glob.glob(self.asan_log + "*"):
            with open(path) as fh:
                text += fh.read()
        return text

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def plugin_reports(asan_text):
    """The ASan/UBSan reports that involve our plugin's code: a leak whose
    stack passes through hyperv_kvp.so, or any error report."""
    reports = [r for r in asan_text.split("\n\n") if r.strip()]
    bad = []
    for r in reports:
        if "ERROR: AddressSanitizer" in r and "LeakSanitizer" not in r:
            bad.append(r)
        elif "runtime error:" in r:
            bad.append(r)
        elif ("Direct leak" in r or "Indirect leak" in r) and \
                "hyperv_kvp.so" in r:
            bad.append(r)
    return bad


class TestCollectdSim(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path, what in ((COLLECTD, "collectd-core"),
                           (PLUGIN, "the hyperv_kvp build")):
            if not os.path.exists(path):
                raise RuntimeError("%s is missing (%s)" % (path, what))
        cls.sim = simproc.Sim("--synthetic", str(N_VMS), "--interval",
                              "5", "--build-dir", BUILD,
                              "--job-delay", "0.02",
                              user="monitor", password="pw 1:x")
        cls.pwfile = tempfile.NamedTemporaryFile("w", delete=False)
        cls.pwfile.write(cls.sim.password + "\n")
        cls.pwfile.close()
        block = """  <Host "sim">
    URL "{url}"
    User "{user}"
    PasswordFile "{pw}"
    Auth "basic"
    Interval 5
    Timeout 20
    HostnameFormat "name"
    <Push>
      IncludeVM "/^synth-/"
      Interval {pi}
      Collectors "cpu memory"
    </Push>
  </Host>
  <Host "dead">
    URL "http://127.0.0.1:{dead}/wsman"
    User "x"
    Password "y"
    Timeout 2
    Interval 5
  </Host>""".format(url=cls.sim.url, user=cls.sim.user, pw=cls.pwfile.name,
                    pi=PUSH_INTERVAL, dead=closed_port())
        cls.cd = CollectdRun(block, interval=5)
        cls.cd.start()
        cls.t_start = time.monotonic()
        cls.sync_seconds = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if cls.cd.proc.poll() is not None:
                raise RuntimeError("collectd exited (%d): %s" % (
                    cls.cd.proc.returncode, cls.cd.log_text()[-3000:]))
            sync = csv_rows(os.path.join(cls.cd.csv, "collector",
                                         "hyperv_kvp-sim",
                                         "count-vms_in_sync-*"))
            if sync and sync[-1][1] == N_VMS:
                cls.sync_seconds = time.monotonic() - cls.t_start
                break
            time.sleep(1)
        # Two more polls at steady state for the cost figures.
        time.sleep(11)

    @classmethod
    def tearDownClass(cls):
        rc = cls.cd.stop()
        sim_rc, _, sim_err = cls.sim.stop()
        os.unlink(cls.pwfile.name)
        log = cls.cd.log_text()
        asan = cls.cd.asan_reports()
        bad = plugin_reports(asan)
        keep = os.environ.get("HKP_KEEP")
        if not keep:
            cls.cd.cleanup()
        if rc != 0:
            raise AssertionError("collectd exited %r on SIGTERM; log tail:\n%s"
                                 "\nsanitizer:\n%s" % (rc, log[-2000:],
                                                       asan[-4000:]))
        if bad:
            raise AssertionError("sanitizer reports involving the plugin:\n"
                                 + "\n\n".join(bad)[:8000])
        if "Exiting normally" not in log:
            raise AssertionError("collectd did not exit normally:\n" +
                                 log[-2000:])
        if SANITIZE:
            print("ASan/UBSan: plugin loaded into collectd with libasan "
                  "preloaded; no report involves hyperv_kvp.so")

    def self_rows(self, host_block, metric):
        return csv_rows(os.path.join(self.cd.csv, "collector",
                                     "hyperv_kvp-" + host_block,
                                     metric + "-*"))

    def test_values_for_every_vm(self):
        self.assertIsNotNone(self.sync_seconds,
                             "in-sync never reached %d; log:\n%s" %
                             (N_VMS, self.cd.log_text()[-3000:]))
        missing = []
        for i in range(1, N_VMS + 1):
            vm = "synth-%04d" % i
            rows = csv_rows(os.path.join(self.cd.csv, vm, "cpu-0",
                                         "percent-user-*"))
            if not rows:
                missing.append(vm)
                continue
            # time is the message's time (within the last few minutes)
            self.assertLess(abs(rows[-1][0] - time.time()), 600)
            self.assertTrue(0 <= rows[-1][1] <= 100)
            octets = csv_rows(os.path.join(self.cd.csv, vm, "interface-eth0",
                                           "if_octets-*"))
            self.assertTrue(octets and len(octets[-1]) == 3, vm)
        self.assertEqual(missing, [])
        # No directory for a VM that does not exist.
        self.assertFalse(os.path.exists(os.path.join(
            self.cd.csv, "synth-%04d" % (N_VMS + 1))))

    def test_self_metrics(self):
        self.assertEqual(self.self_rows("sim", "count-vms")[-1][1], N_VMS)
        self.assertEqual(
            self.self_rows("sim", "count-vms_without_message")[-1][1], 0)
        self.assertEqual(self.self_rows("sim", "count-vms_stale")[-1][1], 0)
        # csv stores DERIVE as rates by default: counters need rows to exist
        self.assertTrue(self.self_rows("sim", "operations-messages_ok"))
        dropped = self.self_rows("sim", "operations-values_dropped")
        self.assertTrue(all(r[1] == 0 for r in dropped[1:]), dropped)
        self.assertNotIn("not in collectd's types.db", self.cd.log_text())

    def test_dead_host_does_not_stop_the_first(self):
        log = self.cd.log_text()
        self.assertIn('Host "dead": listing the VMs of http://127.0.0.1:',
                      log)
        self.assertIn("read-function of plugin `hyperv_kvp-dead' failed",
                      log)
        self.assertTrue(self.self_rows("dead", "duration-poll"))
        self.assertFalse(os.path.exists(os.path.join(
            self.cd.csv, "collector", "hyperv_kvp-dead", "count-vms-" +
            time.strftime("%Y-%m-%d"))))
        self.assertGreater(len(self.self_rows("sim", "count-vms")), 2)

    def test_push_reaches_host_items(self):
        self.assertIsNotNone(self.sync_seconds)
        client = self.sim.client()
        try:
            items, _ = client.enumerate_all(hc.class_uri(
                "Msvm_KvpExchangeComponentSettingData"))
        finally:
            client.close()
        with_interval = 0
        for inst in items:
            kv = {}
            for child in inst:
                if child.tag.rsplit("}", 1)[-1] != "HostExchangeItems" or \
                        not child.text:
                    continue
                emb = ET.fromstring(child.text)
                props = {p.get("NAME"): p.findtext("VALUE")
                         for p in emb.iter("PROPERTY")}
                kv[props.get("Name")] = props.get("Data")
            if kv.get("hvkvp.cfg.interval") == str(PUSH_INTERVAL) and \
                    kv.get("hvkvp.cfg.collectors") == "cpu memory" and \
                    len(kv.get("hvkvp.cfg.id", "")) == 12:
                with_interval += 1
        self.assertEqual(with_interval, N_VMS)
        self.assertEqual(self.self_rows("sim", "count-vms_in_sync")[-1][1],
                         N_VMS)
        failed = self.self_rows("sim", "operations-push_failed")
        self.assertTrue(all(r[1] == 0 for r in failed[1:]), failed)

    def test_zz_poll_cost(self):
        req = self.self_rows("sim", "requests-poll")
        dur = self.self_rows("sim", "duration-poll")
        self.assertTrue(req and dur)
        steady_req = req[-1][1]
        steady_ms = dur[-1][1] * 1000
        print("\nhyperv_kvp: %d-VM poll at steady state: %d WS-Man requests,"
              " %.0f ms (first poll with pushes: %d requests, %.0f ms); "
              "all %d VMs in sync after %.0f s" % (
                  N_VMS, steady_req, steady_ms, req[0][1], dur[0][1] * 1000,
                  N_VMS, self.sync_seconds or -1))
        # listing is a constant number of enumerations, not one per VM
        self.assertLess(steady_req, N_VMS)


class TestCollectdHttpsFaults(unittest.TestCase):
    """HTTPS with the simulator's certificate as CACert; the same host
    without it fails certificate verification (on by default); failed KVP
    jobs are logged with Hyper-V's error and counted, then recover; a host
    answering HTTP 500 recovers."""

    def test_https_and_faults(self):
        sim = simproc.Sim("--https", "--synthetic", "5", "--interval",
                          "2", "--build-dir", BUILD, "--job-delay",
                          "0.02", user="monitor", password="pw")
        cd = None
        try:
            self.assertTrue(sim.cert and os.path.exists(sim.cert), sim.lines)
            client = sim.client()
            status, _ = client.admin("POST", "/hvsim/faults", [{
                "kind": "failed_job", "action": "Invoke",
                "method": "AddKvpItems", "error_code": 32768,
                "error_description": "injected by the test"}])
            self.assertEqual(status, 200)
            block = """  <Host "tls">
    URL "{url}"
    User "monitor"
    Password "pw"
    CACert "{ca}"
    Interval 2
    <Push>
      Interval 9
    </Push>
  </Host>
  <Host "noca">
    URL "{url}"
    User "monitor"
    Password "pw"
    Interval 2
  </Host>""".format(url=sim.url, ca=sim.cert)
            cd = CollectdRun(block, interval=2)
            cd.start()

            def wait_for(cond, what, timeout=60):
                deadline = time.monotonic() + timeout
                while not cond():
                    self.assertIsNone(cd.proc.poll(), cd.log_text()[-3000:])
                    if time.monotonic() > deadline:
                        self.fail("%s did not happen; log:\n%s" %
                                  (what, cd.log_text()[-3000:]))
                    time.sleep(0.5)

            tls = os.path.join(cd.csv, "collector", "hyperv_kvp-tls")
            wait_for(lambda: "injected by the test" in cd.log_text(),
                     "a failed push")
            log = cd.log_text()
            self.assertIn('Host "tls": VM ', log)
            self.assertIn("pushing configuration", log)
            wait_for(lambda: csv_rows(os.path.join(
                cd.csv, "synth-0001", "cpu-0", "percent-user-*")),
                "values over HTTPS")
            # the same host without its CA: verification fails, no values
            wait_for(lambda: 'Host "noca": listing the VMs' in
                     cd.log_text(), "a TLS failure")
            self.assertFalse(os.path.exists(os.path.join(
                cd.csv, "collector", "hyperv_kvp-noca", "count-vms-" +
                time.strftime("%Y-%m-%d"))))

            # the fault goes away: pushes succeed, all in sync
            client.admin("DELETE", "/hvsim/faults")
            wait_for(lambda: (csv_rows(os.path.join(
                tls, "count-vms_in_sync-*")) or [[0, 0]])[-1][1] == 5,
                "in sync after the fault")
            self.assertIn("pushing configuration works again",
                          cd.log_text())
            self.assertTrue(any(r[1] > 0 for r in csv_rows(os.path.join(
                tls, "operations-push_failed-*"))[1:]))

            # two failed listings, then recovery
            client.admin("POST", "/hvsim/faults", [{
                "kind": "http500", "action": "Enumerate", "count": 2}])
            wait_for(lambda: 'Host "tls": listing the VMs' in cd.log_text(),
                     "a failed listing")
            wait_for(lambda: 'Host "tls": listing the VMs of %s works again'
                     % sim.url in cd.log_text(), "recovery")
            client.close()
            rc = cd.stop()
            self.assertEqual(rc, 0, cd.log_text()[-2000:])
            self.assertEqual(plugin_reports(cd.asan_reports()), [])
        finally:
            if cd is not None:
                cd.stop()
                cd.cleanup()
            sim.stop()


class TestCollectdLinuxReporter(unittest.TestCase):
    """A Linux guest served by the real hv_kvp_daemon with the real
    hvkvp-reporter (hvsim --linux 1 --reporter): its values reach collectd,
    and a <Push> Interval and Tags (keys with '.' and ':', PROTOCOL.md 11)
    travel host -> daemon -> pool 0 -> reporter, which applies them and
    echoes the id: in sync, and the guest's message carries the tags."""

    def test_linux_reporter_push(self):
        reporter = os.path.join(BUILD, "guest-reporter", "hvkvp-reporter")
        self.assertTrue(os.path.exists(reporter), reporter)
        sim = simproc.Sim("--linux", "1", "--build-dir", BUILD,
                          "--reporter", reporter, "--reporter-interval",
                          "2", "--job-delay", "0.02", user="monitor",
                          password="pw")
        cd = None
        try:
            block = """  <Host "hv01">
    URL "{url}"
    User "monitor"
    Password "pw"
    Interval 2
    HostnameFormat "name"
    <Push>
      IncludeVM "linux-1"
      Interval 3
      Tags "site.dc=eu-west,rack:row=r1"
    </Push>
  </Host>""".format(url=sim.url)
            cd = CollectdRun(block, interval=2)
            cd.start()
            hv = os.path.join(cd.csv, "collector", "hyperv_kvp-hv01")
            deadline = time.monotonic() + 120
            synced = False
            while time.monotonic() < deadline and not synced:
                self.assertIsNone(cd.proc.poll(), cd.log_text()[-3000:])
                rows = csv_rows(os.path.join(hv, "count-vms_in_sync-*"))
                synced = bool(rows) and rows[-1][1] == 1
                time.sleep(1)
            self.assertTrue(synced, cd.log_text()[-3000:])
            dirs = [d for d in os.listdir(os.path.join(cd.csv, "linux-1"))]
            self.assertTrue(dirs, "no values from linux-1")
            self.assertIn("pushed configuration", cd.log_text())
            env = dict(os.environ, HVKVP_PASSWORD="pw")
            p = subprocess.run([HVKVPCTL, "--url", sim.url, "--user",
                                "monitor", "--json", "messages", "linux-1"],
                               capture_output=True, text=True, timeout=60,
                               env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            msg = json.loads(p.stdout)
            self.assertEqual(msg["tags"], {"site.dc": "eu-west",
                                           "rack:row": "r1"}, msg)
            self.assertEqual(msg["interval"], 3)
            rc = cd.stop()
            self.assertEqual(rc, 0)
            self.assertEqual(plugin_reports(cd.asan_reports()), [])
        finally:
            if cd is not None:
                cd.stop()
                cd.cleanup()
            sim.stop()


class TestCollectdConfigError(unittest.TestCase):
    def run_bad(self, option_lines, expect):
        block = """  <Host "hv01">
    URL "http://127.0.0.1:1/wsman"
    User "u"
    Password "p"
{opt}
  </Host>""".format(opt=option_lines)
        cd = CollectdRun(block)
        try:
            rc, out = cd.run_to_exit()
        finally:
            cd.cleanup()
        self.assertNotEqual(rc, 0, out)
        for e in expect:
            self.assertIn(e, out)
        return out

    def test_bad_value(self):
        self.run_bad('    Timeout "ten"', ['option "Timeout" "ten"'])

    def test_unknown_option(self):
        self.run_bad('    Bogus 1', ['unknown option "Bogus"'])

    def test_example_config_loads(self):
        """contrib/collectd/hyperv_kvp.conf is accepted as it is (paths and
        URLs pointed at this machine)."""
        with open(os.path.join(SRC, "contrib", "collectd",
                               "hyperv_kvp.conf")) as fh:
            text = fh.read()
        block = text.split("<Plugin hyperv_kvp>\n", 1)[1].rsplit(
            "</Plugin>", 1)[0]
        pw = tempfile.NamedTemporaryFile("w", delete=False)
        pw.write("secret\n")
        pw.close()
        port = closed_port()
        block = block.replace('"/etc/collectd/hv01.pass"', '"%s"' % pw.name)
        # any readable file will do: the CA file is read when connecting
        block = block.replace('"/etc/ssl/certs/example-ca.pem"',
                              '"%s"' % pw.name)
        # and any readable file as the keytab: it is read when connecting
        block = block.replace('"/etc/collectd/monitor.keytab"',
                              '"%s"' % pw.name)
        for host in ("hv01", "hv02"):
            block = block.replace("https://%s.example.com:5986" % host,
                                  "https://127.0.0.1:%d" % port)
            block = block.replace("http://%s.example.com:5985" % host,
                                  "http://127.0.0.1:%d" % port)
        self.assertIn("PasswordFile \"%s\"" % pw.name, block)
        cd = CollectdRun(block)
        try:
            cd.start()
            deadline = time.monotonic() + 30
            while "Initialization complete" not in cd.log_text():
                self.assertIsNone(cd.proc.poll(), cd.log_text())
                self.assertLess(time.monotonic(), deadline, cd.log_text())
                time.sleep(0.2)
            rc = cd.stop()
            log = cd.log_text()
        finally:
            cd.stop()
            cd.cleanup()
            os.unlink(pw.name)
        self.assertEqual(rc, 0, log)
        self.assertNotIn("option", log)
        self.assertNotIn("secret", log)

    def test_bad_push(self):
        self.run_bad('    <Push>\n      Interval 0\n    </Push>',
                     ['option "Interval" 0'])


if __name__ == "__main__":
    unittest.main(verbosity=2)
