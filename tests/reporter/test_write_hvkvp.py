#!/usr/bin/env python3
"""test_write_hvkvp.py - write_hvkvp.so end to end, with real components
only: a REAL collectd (cpu, memory, load, df and one exec script, plus the
csv writer as the guest's own record) runs inside a simulated Linux guest
(the mount and UTS namespaces of the simulator's real hv_kvp_daemon, so
write_hvkvp's default Store "pool" is the guest's /var/lib/hyperv); the
Hyper-V simulator (contrib/hvsim) serves the guest's items over WS-Man; a
second REAL collectd with hyperv_kvp.so reads them and ends in its csv
writer.

1. For one message: every value list the guest dispatched arrives on the
   host once, with the same identifiers and values (value by value against
   the guest's own csv), and nothing else arrives with that message.
2. The host's <Push> Interval and Tags apply to write_hvkvp and its id is
   echoed in "config"; a push with Collectors is refused in "config_error"
   (the last good config stays).
3. kill -9 of the guest collectd in the middle of writes (the pool store's
   crash hook, as the reporter's crash test) never makes the host dispatch
   a torn message: the items decode or are torn, and every value the host
   dispatched is one the guest dispatched.
4. The reporter (prefix hvkvp) and write_hvkvp (prefix hvkvp_cd) side by
   side in the same guest; one Host block reads both prefixes from the same
   listing: as many requests per poll as a block that reads one.
5. Bad options make collectd refuse to start, naming the option.

Environment (tests/reporter/CMakeLists.txt): HVKVP_BUILD_DIR,
HVKVP_SOURCE_DIR, HVKVP_WRITE_HVKVP_SO, HVKVP_PLUGIN_SO, HVKVP_SANITIZE.
"""

import glob
import json
import os
import shutil
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
    sys.exit("test_write_hvkvp: set HVKVP_SOURCE_DIR and HVKVP_BUILD_DIR")
sys.path.insert(0, os.path.join(SRC, "contrib", "hvsim"))
from hvsimlib import simproc  # noqa: E402

WRITE_SO = os.environ.get("HVKVP_WRITE_HVKVP_SO") or os.path.join(
    BUILD, "guest-reporter", "write_hvkvp.so")
HOST_SO = os.environ.get("HVKVP_PLUGIN_SO") or os.path.join(
    BUILD, "collectd-plugin", "hyperv_kvp.so")
REPORTER = os.path.join(BUILD, "guest-reporter", "hvkvp-reporter")
CODEC = os.path.join(BUILD, "protocol", "hvkvp-codec")
SANITIZE = os.environ.get("HVKVP_SANITIZE", "OFF").upper() in ("ON", "1")
COLLECTD = "/usr/sbin/collectd"
STOCK = "/usr/lib/collectd"
REC = 2560
PREFIX = "hvkvp_cd"
GUEST_INTERVAL = 2


def read_pool(path):
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    for i in range(0, len(data) - REC + 1, REC):
        k = data[i:i + 512].split(b"\0")[0].decode()
        v = data[i + 512:i + REC].split(b"\0")[0].decode()
        out.setdefault(k, v)
    return out


def decode(items, prefix=PREFIX):
    own = {k: v for k, v in items.items() if k.startswith(prefix + ".")}
    out = subprocess.run([CODEC, "decode", "--prefix", prefix],
                         input=json.dumps(own) + "\n", capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return json.loads(out.splitlines()[0])


def asan_env(env):
    if SANITIZE:
        lib = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()
        env["LD_PRELOAD"] = lib
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:exitcode=66"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


def csv_rows(csv_dir, host):
    """{(plugin, pinst, type, tinst): [(time, [values as text])]} of a csv
    DataDir. Identifiers are split at the first '-' as collectd joins them
    (our plugin and type names have none)."""
    out = {}
    for path in glob.glob(os.path.join(csv_dir, host, "*", "*")):
        pdir = os.path.basename(os.path.dirname(path))
        tfile = os.path.basename(path)[:-len("-YYYY-MM-DD")]
        plugin, _, pinst = pdir.partition("-")
        typ, _, tinst = tfile.partition("-")
        with open(path) as f:
            for line in f:
                if line[:1].isdigit():
                    cols = line.strip().split(",")
                    out.setdefault((plugin, pinst, typ, tinst), []).append(
                        (float(cols[0]), cols[1:]))
    return out


def same_value(csv_text, value):
    if value is None:
        return csv_text in ("nan", "-nan")
    return abs(float(csv_text) - float(value)) <= 1e-6 * max(1, abs(value))


class Collectd:
    """A private collectd (own BaseDir, plugins copied: collectd refuses
    symlinks), optionally entered into a guest's namespaces."""

    def __init__(self, root, name, plugins, body, interval, ns_pid=None):
        self.dir = os.path.join(root, name)
        self.plugins = os.path.join(self.dir, "plugins")
        self.csv = os.path.join(self.dir, "csv")
        self.log = os.path.join(self.dir, "collectd.log")
        os.makedirs(self.plugins)
        os.makedirs(self.csv)
        for p in plugins:
            src = p if os.path.isabs(p) else os.path.join(STOCK, p + ".so")
            shutil.copy(src, self.plugins)
        for p in ("csv", "logfile"):
            shutil.copy(os.path.join(STOCK, p + ".so"), self.plugins)
        self.conf = os.path.join(self.dir, "collectd.conf")
        with open(self.conf, "w") as f:
            f.write("""FQDNLookup false
BaseDir "{d}"
PIDFile "{d}/collectd.pid"
PluginDir "{p}"
TypesDB "/usr/share/collectd/types.db"
Interval {iv}
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{log}"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{csv}"
</Plugin>
{body}
""".format(d=self.dir, p=self.plugins, iv=interval, log=self.log,
           csv=self.csv, body=body))
        self.cmd = [COLLECTD, "-f", "-C", self.conf]
        if ns_pid is not None:
            self.cmd = ["nsenter", "-t", str(ns_pid), "-m", "-u"] + self.cmd
        self.proc = None

    def start(self, env_extra=None):
        env = asan_env(dict(os.environ))
        env.update(env_extra or {})
        self.out = open(os.path.join(self.dir, "stdout"), "a")
        self.proc = subprocess.Popen(self.cmd, stdout=self.out,
                                     stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def run_to_exit(self):
        r = subprocess.run(self.cmd, capture_output=True, text=True,
                           timeout=60, env=asan_env(dict(os.environ)))
        return r.returncode, r.stdout + r.stderr

    def stop(self):
        if self.proc is not None:
            simproc.terminate(self.proc)
            try:  # exec children of a collectd killed by -9 stay behind
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.out.close()
        self.proc = None

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""


class WriteHvkvpTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for p in (COLLECTD, WRITE_SO, HOST_SO, REPORTER, CODEC):
            if not os.path.exists(p):
                raise AssertionError("%s missing" % p)
        cls.tmp = tempfile.mkdtemp(prefix="hvkvp-wh-")
        os.chmod(cls.tmp, 0o755)  # the exec script runs as nobody
        cls.sim = simproc.Sim("--linux", "1", "--build-dir", BUILD,
                              "--job-delay", "0.05", user="monitor",
                              password="pw 1:x")
        # the simulator's own daemon (other tests may run their guests now)
        ours = cls.sim.processes("hv_kvp_daemon")
        if len(ours) != 1:
            cls.sim.stop()  # tearDownClass does not run after a failed setup
            raise AssertionError("want one hv_kvp_daemon under the simulator, "
                                 "got %r" % ours)
        cls.ns_pid = ours[0]
        line = [l for l in cls.sim.lines if l.startswith("hvsim: vm ")][0]
        cls.vm, cls.guid, pool = line.split()[2], line.split()[3], \
            line.split()[5].split("=", 1)[1]
        cls.pool1 = os.path.join(pool, ".kvp_pool_1")
        cls.hostname = subprocess.run(
            ["nsenter", "-t", str(cls.ns_pid), "-u", "hostname"],
            capture_output=True, text=True, check=True).stdout.strip()
        cls.script = os.path.join(cls.tmp, "app.sh")
        with open(cls.script, "w") as f:
            f.write("#!/bin/sh\n"
                    "H=\"${COLLECTD_HOSTNAME:-localhost}\"\n"
                    "I=\"${COLLECTD_INTERVAL:-2}\"\n"
                    "n=0\n"
                    "while true; do\n"
                    "  n=$((n+1))\n"
                    "  echo \"PUTVAL \\\"$H/myapp-web/gauge-requests\\\" "
                    "interval=$I N:$n\"\n"
                    "  echo \"PUTVAL \\\"$H/myapp-web/derive-bytes\\\" "
                    "interval=$I N:$((n*1000))\"\n"
                    "  sleep \"$I\"\n"
                    "done\n")
        os.chmod(cls.script, 0o755)
        cls.guest = cls.guest_collectd("guest")
        cls.guest.start()

    @classmethod
    def tearDownClass(cls):
        cls.guest.stop()
        cls.sim.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def guest_collectd(cls, name, extra=""):
        body = """LoadPlugin cpu
LoadPlugin memory
LoadPlugin load
LoadPlugin df
LoadPlugin exec
<Plugin exec>
  Exec "nobody" "{script}"
</Plugin>
LoadPlugin write_hvkvp
<Plugin write_hvkvp>
  Prefix "{prefix}"
  Tags "role=db"
{extra}
</Plugin>""".format(script=cls.script, prefix=PREFIX, extra=extra)
        return Collectd(cls.tmp, name, ["cpu", "memory", "load", "df", "exec",
                                        WRITE_SO], body, GUEST_INTERVAL,
                        ns_pid=cls.ns_pid)

    def host_collectd(self, name, push="", blocks=None):
        pwfile = os.path.join(self.tmp, "pw")
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:  # the plugin refuses readable ones
            f.write(self.sim.password + "\n")
        blocks = blocks or [("sim", PREFIX)]
        text = ""
        for block, prefix in blocks:
            prefixes = (prefix,) if isinstance(prefix, str) else prefix
            text += """  <Host "{b}">
    URL "{url}"
    User "{user}"
    PasswordFile "{pw}"
    Auth "basic"
    Interval 1
    Timeout 20
    HostnameFormat "guest_hostname"
    Prefix {prefix}
{push}
  </Host>
""".format(b=block, url=self.sim.url, user=self.sim.user, pw=pwfile,
           prefix=" ".join('"%s"' % p for p in prefixes),
           push=push if prefixes == (PREFIX,) else "")
        body = "LoadPlugin hyperv_kvp\n<Plugin hyperv_kvp>\n%s</Plugin>" % text
        return Collectd(self.tmp, name, [HOST_SO], body, 1)

    def message(self):
        ans = decode(read_pool(self.pool1))
        return ans["msg"] if ans.get("ok") else None

    def wait_for(self, pred, what, timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.message()
            if last is not None and pred(last):
                return last
            time.sleep(0.2)
        self.fail("timed out waiting for %s; last: %s"
                  % (what, json.dumps(last)[:600]))

    def test_1_every_value_list_arrives_once(self):
        host = self.host_collectd("host1")
        host.start()
        try:
            # steady state: every plugin has reported (exec too)
            self.wait_for(lambda m: any(v["plugin"] == "myapp"
                                        for v in m["values"]) and
                          m["seq"] >= 3, "a steady-state message")
            msg = self.wait_for(lambda m: True, "a message")
            seq = msg["seq"]
            msg = self.wait_for(lambda m: m["seq"] > seq, "the next message")
            t = round(msg["time"], 3)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                hrows = csv_rows(host.csv, self.hostname)
                at_t = {k: [r for r in rows if abs(r[0] - t) < 0.0015]
                        for k, rows in hrows.items()}
                at_t = {k: v for k, v in at_t.items() if v}
                if len(at_t) >= len(msg["values"]):
                    break
                time.sleep(0.5)
        finally:
            host.stop()
        self.assertEqual(msg["host"], self.hostname)
        self.assertEqual(msg["tags"], {"role": "db"})
        self.assertNotIn("trimmed", msg)
        grows = csv_rows(self.guest.csv, self.hostname)
        in_msg = {(v["plugin"], v["plugin_instance"], v["type"],
                   v["type_instance"]): v["values"] for v in msg["values"]}
        plugins = {k[0] for k in in_msg}
        self.assertTrue({"cpu", "memory", "load", "df", "myapp"} <= plugins,
                        plugins)
        # every identifier the guest dispatched is in the message
        self.assertEqual(set(grows), set(in_msg))
        for ident, values in in_msg.items():
            # the guest dispatched exactly these values (its latest as of
            # the message's time)
            latest = max((r for r in grows[ident] if r[0] <= t + 0.001),
                         key=lambda r: r[0])
            self.assertEqual(len(latest[1]), len(values), ident)
            for c, v in zip(latest[1], values):
                self.assertTrue(same_value(c, v), (ident, latest, values))
            # ... and the host dispatched them once, with the same values
            rows = at_t.get(ident, [])
            self.assertEqual(len(rows), 1, (ident, rows))
            for c, v in zip(rows[0][1], values):
                self.assertTrue(same_value(c, v), (ident, rows, values))
        self.assertEqual(set(at_t), set(in_msg))  # nothing else arrived

    def test_2_push_interval_tags_and_refused_collectors(self):
        push = """    <Push>
      Interval 3
      Tags "site.dc=eu,pushed=yes"
    </Push>"""
        host = self.host_collectd("host2", push)
        host.start()
        try:
            msg = self.wait_for(lambda m: m["config"] != "", "the pushed id")
            self.assertEqual(msg["interval"], 3)
            self.assertEqual(msg["tags"], {"site.dc": "eu", "pushed": "yes"})
            good = msg["config"]
            # messages now come about 3 s apart
            m1 = self.wait_for(lambda m: m["seq"] > msg["seq"], "next")
            m2 = self.wait_for(lambda m: m["seq"] >= m1["seq"] + 3, "3 more")
            per = (m2["time"] - m1["time"]) / (m2["seq"] - m1["seq"])
            self.assertTrue(2.4 < per < 3.8, "%.2f s per message" % per)
        finally:
            host.stop()
        push = push.replace("Interval 3", "Interval 3\n      Collectors cpu")
        host = self.host_collectd("host3", push)
        host.start()
        try:
            msg = self.wait_for(lambda m: "config_error" in m,
                                "pushed Collectors refused")
        finally:
            host.stop()
        self.assertIn("item %s.cfg.collectors: write_hvkvp does not apply "
                      "pushed Collectors" % PREFIX, msg["config_error"])
        self.assertEqual(msg["config"], good)
        self.assertEqual(msg["interval"], 3)
        self.assertIn("pushed config refused", self.guest.log_text())

    def test_3_kill_9_never_dispatches_a_torn_message(self):
        cls = type(self)
        self.wait_for(lambda m: True, "a message to start from")
        cls.guest.stop()
        host = self.host_collectd("host4")
        host.start()
        outcomes = []
        guests = [cls.guest.csv]
        try:
            # A first publish writes the new slot's chunk (one for this
            # guest), then the head: write 2 cut at 60 or 75 characters
            # leaves a head naming the new slot with the old crc (torn);
            # cut inside the epoch it names the old, intact slot; write 1
            # or 3 cuts a chunk the head does not name.
            for n, partial in ((1, 600), (2, 10), (2, 35), (2, 60), (2, 75),
                               (3, 60), (3, 300), (4, 60)):
                crash = self.guest_collectd("crash%d-%d" % (n, partial))
                guests.append(crash.csv)
                crash.start({"HVKVP_TEST_KILL_AFTER_WRITES": str(n),
                             "HVKVP_TEST_KILL_PARTIAL": str(partial)})
                try:
                    crash.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.fail("collectd with the crash hook did not die")
                finally:
                    crash.stop()
                ans = decode(read_pool(self.pool1))
                outcomes.append(ans.get("error", "ok"))
                if not ans.get("ok"):  # skipped by readers, never decoded
                    self.assertTrue(ans.get("torn") or ans["error"] in
                                    ("HEAD_SYNTAX", "NOHEAD"), ans)
                time.sleep(2.5)  # the host polls the state left behind
        finally:
            host.stop()
            cls.guest = cls.guest_collectd("guest-again")
            cls.guest.start()
        self.assertTrue(any(o in ("CRC", "LENGTH", "MISSING_CHUNK",
                                  "HEAD_SYNTAX") for o in outcomes), outcomes)
        # every value the host dispatched was dispatched by a guest collectd
        guest_vals = {}
        for d in guests:
            for k, rows in csv_rows(d, self.hostname).items():
                guest_vals.setdefault(k, set()).update(
                    tuple(r[1]) for r in rows)
        hrows = csv_rows(host.csv, self.hostname)
        for k, rows in hrows.items():
            for _, vals in rows:
                self.assertIn(k, guest_vals)
                self.assertTrue(any(all(same_value(a, float(b))
                                        for a, b in zip(vals, g))
                                    for g in guest_vals[k]), (k, vals))

    def test_4_reporter_side_by_side(self):
        conf = os.path.join(self.tmp, "reporter.conf")
        with open(conf, "w") as f:
            f.write("Collectors \"uptime load\"\nInterval 1\n")
        replog = open(os.path.join(self.tmp, "reporter.log"), "w")
        rep = subprocess.Popen(["nsenter", "-t", str(self.ns_pid), "-m",
                                "-u", REPORTER, "--config", conf,
                                "--foreground", "--store", "pool"],
                               stdout=replog, stderr=subprocess.STDOUT)
        # "both" reads the two writers; "one" only write_hvkvp's prefix, as
        # the yardstick for requests per poll
        host = self.host_collectd("host5", blocks=[("both", ("hvkvp", PREFIX)),
                                                   ("one", PREFIX)])
        host.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                rows = csv_rows(host.csv, self.hostname)
                if ("uptime", "", "uptime", "") in rows and \
                        ("myapp", "web", "gauge", "requests") in rows:
                    break
                time.sleep(0.5)
            why = host.log_text()[-6000:]
            self.assertIn(("uptime", "", "uptime", ""), rows, why)
            self.assertIn(("myapp", "web", "gauge", "requests"), rows, why)
            items = read_pool(self.pool1)
            self.assertTrue(decode(items, "hvkvp")["ok"])
            self.assertTrue(decode(items, PREFIX)["ok"])
            # steady state: both streams in the guest pool, so "both" reads
            # nothing more than "one" does
            time.sleep(4)
            me = csv_rows(host.csv, socket.gethostname())
            req = {b: [float(v[0]) for _, v in
                       me.get(("hyperv_kvp", b, "requests", "poll"), [])][-3:]
                   for b in ("both", "one")}
            self.assertEqual(len(req["both"]), 3, (req, why))
            self.assertEqual(req["both"], req["one"], why)
            sys.stderr.write("test_write_hvkvp: requests per poll: %s for two "
                             "prefixes, %s for one\n" % (req["both"], req["one"]))
        finally:
            host.stop()
            rep.terminate()
            self.assertEqual(rep.wait(timeout=30), 0)
            replog.close()

    def test_5_bad_options_refuse_to_start(self):
        for opt, want in (('Prefix "a b"', "option Prefix"),
                          ("MaxValueLists 0", "option MaxValueLists"),
                          ('Tags "k"', "option Tags"),
                          ('Store "registry"', "option Store"),
                          ("Interval 0.5", "option Interval"),
                          ("Colour 1", "option Colour: unknown option")):
            cd = Collectd(self.tmp, "bad-%d" % abs(hash(opt)), [WRITE_SO],
                          "LoadPlugin write_hvkvp\n<Plugin write_hvkvp>\n  "
                          "%s\n</Plugin>" % opt, 2)
            with open(cd.conf) as f:
                text = f.read().replace('File "%s"' % cd.log, "File stderr")
            with open(cd.conf, "w") as f:
                f.write(text)
            rc, out = cd.run_to_exit()
            self.assertNotEqual(rc, 0, opt)
            self.assertIn("write_hvkvp plugin: " + want, out)

    def test_6_capped_deterministically(self):
        """MaxValueLists: the first value lists in identifier order are
        kept, the rest counted in "trimmed", one log line for it."""
        type(self).guest.stop()
        capped = self.guest_collectd("capped", "  MaxValueLists 10")
        capped.start()
        try:
            first = self.wait_for(lambda m: m.get("trimmed", 0) > 0,
                                  "a capped message")
            self.wait_for(lambda m: m["seq"] >= first["seq"] + 3,
                          "three more messages")
            msg = self.message()
        finally:
            capped.stop()
        self.assertEqual(len(msg["values"]), 10)
        ids = [(v["plugin"], v["plugin_instance"], v["type"],
                v["type_instance"]) for v in msg["values"]]
        self.assertEqual(ids, sorted(ids))
        all_ids = set(csv_rows(capped.csv, self.hostname))
        self.assertEqual(ids, sorted(all_ids)[:10])
        self.assertEqual(msg["trimmed"], len(all_ids) - 10)
        lines = [l for l in capped.log_text().splitlines()
                 if "message capped" in l]
        self.assertEqual(len(lines), 1, lines)

    def test_7_example_config(self):
        """contrib/collectd/guest-write_hvkvp.conf runs as it is in the
        guest (only PluginDir/BaseDir/TypesDB added, Interval shortened)."""
        type(self).guest.stop()
        with open(os.path.join(SRC, "contrib", "collectd",
                               "guest-write_hvkvp.conf")) as f:
            text = f.read().replace("Interval 10", "Interval 1")
        d = os.path.join(self.tmp, "example")
        os.makedirs(os.path.join(d, "plugins"))
        for p in ("syslog", "cpu", "memory", "load", "df", "interface"):
            shutil.copy(os.path.join(STOCK, p + ".so"),
                        os.path.join(d, "plugins"))
        shutil.copy(WRITE_SO, os.path.join(d, "plugins"))
        conf = os.path.join(d, "collectd.conf")
        with open(conf, "w") as f:
            f.write('PluginDir "%s/plugins"\nBaseDir "%s"\n'
                    'TypesDB "/usr/share/collectd/types.db"\n%s'
                    % (d, d, text))
        p = subprocess.Popen(["nsenter", "-t", str(self.ns_pid), "-m", "-u",
                              COLLECTD, "-f", "-C", conf],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             env=asan_env(dict(os.environ)),
                             start_new_session=True)
        try:
            msg = self.wait_for(lambda m: m["host"] == "web-01" and
                                {v["plugin"] for v in m["values"]} >=
                                {"cpu", "memory", "load", "df", "interface"},
                                "a message from the example config")
            self.assertEqual(msg["tags"], {"role": "web"})
            self.assertFalse([v for v in msg["values"]
                              if v["plugin_instance"] == "lo"])
        finally:
            p.terminate()
            self.assertEqual(p.wait(timeout=60), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
