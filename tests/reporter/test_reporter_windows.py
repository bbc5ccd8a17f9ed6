#!/usr/bin/env python3
"""test_reporter_windows.py - integration test of the Windows guest path.

Runs the mingw-w64 build of hvkvp-reporter.exe under Wine in a throwaway
WINEPREFIX and checks what it leaves in the (Wine) registry:
  - --once with registry:Auto and registry:Guest publishes a message that
    hvkvp-codec decodes, with plausible cpu/memory/df values;
  - host-pushed settings in ...\\Virtual Machine\\External (hvkvp.cfg.*) are
    applied and the config id is echoed;
  - stale values under "hvkvp." are deleted, foreign values are untouched;
  - --dry-run writes nothing; a key without access gives a clear error;
  - Exec entries run Windows programs (output parsed, timeout kills);
  - the console loop stops cleanly on Ctrl-C (SIGINT under Wine);
  - "service install/run/uninstall" through Wine's Service Control Manager.
Nothing is skipped: a missing Wine, .exe or codec is a failure.

Environment: HVKVP_WIN_BUILD_DIR (default <repo>/build-win) holds
guest-reporter/hvkvp-reporter.exe; HVKVP_CODEC is the native hvkvp-codec
(default $HVKVP_BUILD_DIR/protocol/hvkvp-codec, HVKVP_BUILD_DIR defaulting to
<repo>/build). Timings go to stderr.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIN_BUILD = os.environ.get("HVKVP_WIN_BUILD_DIR", os.path.join(REPO, "build-win"))
EXE = os.path.join(WIN_BUILD, "guest-reporter", "hvkvp-reporter.exe")
CODEC = os.environ.get("HVKVP_CODEC") or os.path.join(
    os.environ.get("HVKVP_BUILD_DIR", os.path.join(REPO, "build")), "protocol", "hvkvp-codec")
VM_KEY = "HKLM\\SOFTWARE\\Microsoft\\Virtual Machine"
PREFIX = "hvkvp."
SERVICE = "hvkvp-reporter"
CMD_TIMEOUT = 120  # seconds; a hung Wine command fails the test

_REG_LINE = re.compile(r"^    (.+?)    (REG_[A-Z_]+)(?:    (.*))?$")


def log(msg):
    sys.stderr.write("test_reporter_windows: %s\n" % msg)
    sys.stderr.flush()


class Wine:
    """A throwaway Wine prefix with a persistent wineserver."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hvkvp-wine-")
        self.env = dict(os.environ)
        self.env.update({
            "WINEPREFIX": os.path.join(self.dir, "prefix"),
            "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": "mscoree,mshtml=",
            "WINEARCH": "win64",
            "LANG": "C.UTF-8",  # how wine converts non-ASCII arguments
        })
        self.env.pop("DISPLAY", None)
        self.env.pop("WAYLAND_DISPLAY", None)

    def create(self):
        t0 = time.monotonic()
        r = self.run(["wineboot", "-i"], check=False)
        if r.returncode != 0:
            raise AssertionError("wineboot -i failed (rc %d): %s" % (r.returncode, r.stderr))
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=CMD_TIMEOUT)
        self.prefix_seconds = time.monotonic() - t0
        # Keep one wineserver for the whole test run (faster commands).
        subprocess.run(["wineserver", "-p"], env=self.env, timeout=CMD_TIMEOUT)

    def destroy(self):
        try:
            subprocess.run(["wineserver", "-k"], env=self.env, timeout=CMD_TIMEOUT)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, args, check=True):
        # Files, not pipes: the first wine command starts Wine's background
        # processes (services.exe, explorer.exe, ...), which inherit its
        # stdio and would keep pipes open for as long as the wineserver runs.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            r = subprocess.run(args, env=self.env, stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err, timeout=CMD_TIMEOUT)
            out.seek(0)
            err.seek(0)
            r.stdout = out.read().decode("utf-8", "replace").replace("\r", "")
            r.stderr = err.read().decode("utf-8", "replace").replace("\r", "")
        if check and r.returncode != 0:
            raise AssertionError("%s failed (rc %d)\nstdout: %s\nstderr: %s"
                                 % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def wine(self, args, check=True):
        # Wine's own tools (reg.exe) now and then crash in the loader's exit
        # path after finishing their work ("Inconsistency detected by ld.so:
        # dl-fini.c", rc 127). Their operations are idempotent: run again.
        for _ in range(3):
            r = self.run(["wine"] + args, check=False)
            if not (r.returncode == 127 and "Inconsistency detected by ld.so" in r.stderr):
                break
        if check and r.returncode != 0:
            raise AssertionError("wine %s failed (rc %d)\nstdout: %s\nstderr: %s"
                                 % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def reporter(self, args, check=True):
        return self.wine([EXE] + args, check=check)

    def reg_query(self, sub):
        """The values of VM_KEY\\sub as {name: (type, data)}; None if absent."""
        # Only "key not found" means absent. Under load Wine's reg.exe has
        # also failed in other ways (a CI run saw a key the reporter had just
        # written reported missing): query again, and name what went wrong.
        for _ in range(3):
            r = self.wine(["reg", "query", VM_KEY + "\\" + sub], check=False)
            if r.returncode == 0:
                break
            if "Unable to find the specified registry key" in r.stdout + r.stderr:
                return None
        else:
            raise AssertionError("reg query %s\\%s failed (rc %d)\nstdout: %s\nstderr: %s"
                                 % (VM_KEY, sub, r.returncode, r.stdout, r.stderr))
        values = {}
        for line in r.stdout.split("\n"):
            m = _REG_LINE.match(line.rstrip("\n"))
            if m:
                values[m.group(1)] = (m.group(2), m.group(3) or "")
        return values

    def reg_add(self, sub, name, data, typ="REG_SZ"):
        self.wine(["reg", "add", VM_KEY + "\\" + sub, "/v", name, "/t", typ,
                   "/d", data, "/f"])

    def reg_delete_key(self, sub):
        self.wine(["reg", "delete", VM_KEY + "\\" + sub, "/f"], check=False)


def own_items(values):
    return {k: v[1] for k, v in values.items() if k.startswith(PREFIX)}


def decode(items):
    """Decodes {key: value} with hvkvp-codec; returns the codec's answer."""
    r = subprocess.run([CODEC, "decode"], input=(json.dumps(items) + "\n").encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=CMD_TIMEOUT)
    if r.returncode != 0:
        raise AssertionError("hvkvp-codec decode failed (rc %d): %s"
                             % (r.returncode, r.stderr.decode("utf-8", "replace")))
    lines = [l for l in r.stdout.decode().split("\n") if l.strip()]
    if len(lines) != 1:
        raise AssertionError("hvkvp-codec decode: want one line, got %r" % lines)
    return json.loads(lines[0])


WINE = None
HERE = os.path.dirname(os.path.abspath(__file__))
REGACL = None  # the DACL helper, built into the Wine test directory


def setUpModule():
    global WINE, REGACL
    for tool in ("wine", "wineboot", "wineserver"):
        if shutil.which(tool) is None:
            raise AssertionError("%s not found: install the Debian packages wine and wine64" % tool)
    if not os.path.isfile(EXE):
        raise AssertionError("%s not found: run scripts/build-windows.sh %s first"
                             % (EXE, WIN_BUILD))
    if not os.access(CODEC, os.X_OK):
        raise AssertionError("%s not found: build the native tree (target hvkvp-codec) "
                             "and set HVKVP_CODEC" % CODEC)
    cc = shutil.which("x86_64-w64-mingw32-gcc")
    if cc is None:
        raise AssertionError("x86_64-w64-mingw32-gcc not found: install gcc-mingw-w64-x86-64")
    WINE = Wine()
    REGACL = os.path.join(WINE.dir, "regacl_windows.exe")
    r = subprocess.run([cc, "-O2", os.path.join(HERE, "regacl_windows.c"), "-static",
                        "-o", REGACL], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=CMD_TIMEOUT)
    if r.returncode != 0:
        raise AssertionError("building regacl_windows.exe failed: %s" % r.stdout.decode())
    WINE.create()
    log("Wine prefix created in %.1f s" % WINE.prefix_seconds)


def tearDownModule():
    if WINE is not None:
        WINE.destroy()


class ReporterWindowsTest(unittest.TestCase):
    def setUp(self):
        self.last_run = None
        for sub in ("Auto", "Guest", "External"):
            WINE.reg_delete_key(sub)

    def publish_once(self, store, extra=()):
        t0 = time.monotonic()
        r = WINE.reporter(["--once", "--store", store] + list(extra))
        self.last_run = r
        return r, time.monotonic() - t0

    def decoded(self, sub):
        values = WINE.reg_query(sub)
        last = getattr(self, "last_run", None)
        self.assertIsNotNone(values, "%s\\%s missing after a run; the reporter said: %s"
                             % (VM_KEY, sub, last.stderr if last else "(not run)"))
        items = own_items(values)
        self.assertIn(PREFIX + "head", items, "no head in %s: %r" % (sub, values))
        for k, (typ, _) in values.items():
            if k.startswith(PREFIX):
                self.assertEqual(typ, "REG_SZ", "%s is %s" % (k, typ))
        ans = decode(items)
        self.assertTrue(ans.get("ok"), "decode failed: %r" % ans)
        return ans, values

    def vls(self, msg, plugin, type_=None):
        return [vl for vl in msg["values"] if vl["plugin"] == plugin
                and (type_ is None or vl["type"] == type_)]

    def check_message(self, msg, first=True):
        self.assertEqual(msg["v"], 1)
        self.assertTrue(msg["host"], "empty host")
        self.assertLess(abs(msg["time"] - time.time()), 600, "time far from now")
        # cpu percentages (the default) need a previous reading: none in
        # a first message, then the shares of user, system and idle
        cpu = {vl["type_instance"]: vl["values"][0] for vl in self.vls(msg, "cpu", "percent")}
        self.assertEqual(len(self.vls(msg, "cpu")), 0 if first else 3, msg["values"][:3])
        if not first:
            self.assertEqual(set(cpu), {"user", "system", "idle"})
            self.assertAlmostEqual(sum(cpu.values()), 100, 6)
        mem = {vl["type_instance"]: vl["values"][0] for vl in self.vls(msg, "memory", "memory")}
        self.assertGreater(mem.get("used", 0), 0, "memory-used: %r" % mem)
        self.assertGreater(mem.get("free", 0), 0, "memory-free: %r" % mem)
        df_c = {vl["type_instance"]: vl["values"][0] for vl in self.vls(msg, "df", "df_complex")
                if vl["plugin_instance"] == "C"}
        self.assertTrue({"used", "free", "reserved"} <= set(df_c), "df-C: %r" % df_c)
        self.assertGreater(df_c["used"] + df_c["free"], 0)
        up = self.vls(msg, "uptime", "uptime")
        self.assertEqual(len(up), 1)
        self.assertGreater(up[0]["values"][0], 0)
        swap = {vl["type_instance"] for vl in self.vls(msg, "swap", "swap")}
        self.assertEqual(swap, {"used", "free"})
        ps = self.vls(msg, "processes", "ps_count")
        self.assertEqual(len(ps), 1)
        self.assertGreaterEqual(ps[0]["values"][0], 1)  # at least the reporter
        for vl in self.vls(msg, "interface"):
            self.assertIn(vl["type"], ("if_octets", "if_packets", "if_errors", "if_dropped"))
            self.assertEqual(vl["dsnames"], ["rx", "tx"])
            self.assertTrue(re.match(r"^[A-Za-z0-9_-]+$", vl["plugin_instance"]))

    def test_once_auto(self):
        r, secs = self.publish_once("registry:Auto")
        log("one --once cycle (registry:Auto) took %.2f s under Wine" % secs)
        ans, values = self.decoded("Auto")
        self.check_message(ans["msg"])
        chunks = [k for k in values if k.startswith(PREFIX + ans["slot"] + ".")]
        head = values[PREFIX + "head"][1]
        self.assertIn("n=%d;" % len(chunks), head)
        self.assertIsNone(own_items(WINE.reg_query("Guest") or {}).get(PREFIX + "head"),
                          "registry:Auto wrote to Guest")

    def test_once_guest(self):
        self.publish_once("registry:Guest")
        ans, _ = self.decoded("Guest")
        self.check_message(ans["msg"])
        self.assertNotIn(PREFIX + "head", own_items(WINE.reg_query("Auto") or {}),
                         "registry:Guest wrote to Auto")

    def test_pushed_config_applied_and_echoed(self):
        WINE.reg_add("External", "hvkvp.cfg.interval", "42")
        WINE.reg_add("External", "hvkvp.cfg.id", "cfg-test-7")
        WINE.reg_add("External", "unrelated.setting", "x")
        self.publish_once("registry:Auto")
        ans, _ = self.decoded("Auto")
        self.assertEqual(ans["msg"]["config"], "cfg-test-7")
        self.assertEqual(ans["msg"]["interval"], 42)
        ext = WINE.reg_query("External")
        self.assertEqual(set(ext), {"hvkvp.cfg.interval", "hvkvp.cfg.id", "unrelated.setting"},
                         "the reporter must not change External")

    def test_pushed_collectors_of_other_platforms(self):
        # One Collectors list is pushed to Linux and Windows guests alike:
        # "load" and "disk" exist only on Linux, so Windows accepts the list,
        # runs the collectors it has and nothing else; a name that no
        # platform has refuses the whole config (last good one stays).
        WINE.reg_add("External", "hvkvp.cfg.collectors", "cpu load disk memory")
        WINE.reg_add("External", "hvkvp.cfg.id", "cfg-mixed")
        conf = os.path.join(WINE.dir, "jiffies.conf")  # cpu values at once
        with open(conf, "w") as f:
            f.write("<Collector cpu>\n  ReportByCpu true\n</Collector>\n")
        self.publish_once("registry:Auto", ["--config", "Z:" + conf.replace("/", "\\")])
        ans, _ = self.decoded("Auto")
        msg = ans["msg"]
        self.assertEqual((msg["config"], msg.get("config_error", "")), ("cfg-mixed", ""))
        self.assertEqual({vl["plugin"] for vl in msg["values"]}, {"cpu", "memory"})
        WINE.reg_add("External", "hvkvp.cfg.collectors", "cpu bogus")
        WINE.reg_add("External", "hvkvp.cfg.id", "cfg-bogus")
        self.publish_once("registry:Auto")
        ans, _ = self.decoded("Auto")
        self.assertEqual(ans["msg"]["config"], "")
        self.assertIn("bogus", ans["msg"]["config_error"])

    def test_bad_pushed_values_are_named(self):
        # A pushed value that is not a string, or over the size limit, is
        # refused with its name; the reporter keeps publishing without it.
        WINE.reg_add("External", "hvkvp.cfg.id", "cfg-dword")
        WINE.reg_add("External", "hvkvp.cfg.interval", "30", typ="REG_DWORD")
        r, _ = self.publish_once("registry:Auto")
        self.assertRegex(r.stderr, r"hvkvp\.cfg\.interval'? is not a string")
        ans, _ = self.decoded("Auto")
        self.assertEqual(ans["msg"]["config"], "")
        WINE.reg_add("External", "hvkvp.cfg.interval", "30")
        WINE.reg_add("External", "hvkvp.cfg.tags", "a=" + "b" * 3000)
        r, _ = self.publish_once("registry:Auto")
        self.assertRegex(r.stderr, r"hvkvp\.cfg\.tags'? is longer than the limit")
        ans, _ = self.decoded("Auto")
        self.assertEqual(ans["msg"]["config"], "")
        WINE.wine(["reg", "delete", VM_KEY + "\\External", "/v", "hvkvp.cfg.tags", "/f"])
        self.publish_once("registry:Auto")
        ans, _ = self.decoded("Auto")
        self.assertEqual((ans["msg"]["config"], ans["msg"]["interval"]), ("cfg-dword", 30))

    def test_stale_deleted_foreign_untouched(self):
        foreign = {
            "OSName": "Windows (set by test)",
            "hvkvpx.A.0": "not ours: other prefix",
            "HVKVP_other": "not ours",
            "FullyQualifiedDomainName": "vm.example",
        }
        for k, v in foreign.items():
            WINE.reg_add("Auto", k, v)
        # Non-ASCII names and data (UTF-16 in the registry) are left alone too.
        WINE.reg_add("Auto", "Fremd-\u00e4-\u6771\u4eac", "Wert-\u00f6 Z\u00fcrich")
        foreign_before = {k: v for k, v in WINE.reg_query("Auto").items()
                          if not k.startswith(PREFIX)}
        self.assertEqual(len(foreign_before), len(foreign) + 1)
        self.publish_once("registry:Auto")
        first, _ = self.decoded("Auto")
        stale = {"hvkvp.B.63": "stale chunk", "hvkvp.A.62": "stale chunk",
                 "hvkvp.leftover": "stale",
                 "hvkvp.alt-\u00e4\u6771": "stale \u00f6",  # UTF-16 name
                 "hvkvp.B.9": "x" * 3000}  # over the 2047-byte value limit
        for k, v in stale.items():
            WINE.reg_add("Auto", k, v)
        self.publish_once("registry:Auto")
        second, values = self.decoded("Auto")
        self.assertNotEqual(first["slot"], second["slot"], "slots must alternate")
        self.assertNotEqual((first["epoch"], first["gen"]), (second["epoch"], second["gen"]))
        for k in stale:
            self.assertNotIn(k, values, "stale %s was not deleted" % k)
        for k, v in foreign.items():
            self.assertEqual(values.get(k), ("REG_SZ", v), "foreign %s changed" % k)
        self.assertEqual({k: v for k, v in values.items() if not k.startswith(PREFIX)},
                         foreign_before, "foreign values changed")
        # Only the head and the live slots' chunks remain under the prefix.
        for k in own_items(values):
            self.assertTrue(k == PREFIX + "head" or re.match(r"^hvkvp\.[AB]\.[0-9]+$", k), k)

    def test_dry_run_writes_nothing(self):
        WINE.reg_add("Auto", "OSName", "Windows (set by test)")
        before = (WINE.reg_query("Auto"), WINE.reg_query("Guest"))
        r = WINE.reporter(["--once", "--dry-run", "--store", "registry:Auto"])
        msg = json.loads(r.stdout.strip().split("\n")[-1])
        self.check_message(msg)
        self.assertEqual((WINE.reg_query("Auto"), WINE.reg_query("Guest")), before)
        # Not even the missing key is created.
        self.assertIsNone(before[1])
        WINE.reporter(["--once", "--dry-run", "--store", "registry:Guest"])
        self.assertIsNone(WINE.reg_query("Guest"), "a dry run created the Guest key")

    def wine_processes(self, name):
        """Linux pids of Wine processes of this prefix whose command line
        mentions name."""
        pids = []
        want = ("WINEPREFIX=" + WINE.env["WINEPREFIX"]).encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    env = f.read().split(b"\0")
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").lower()
            except OSError:
                continue
            if want in env and name.encode() in cmd:
                pids.append(int(pid))
        return pids

    def test_exec_entries(self):
        # Exec runs Windows programs through CreateProcessW: output is
        # parsed, a hung command is killed at ExecTimeout (with its job), a
        # failing or missing one is reported and the cycle still publishes.
        conf = os.path.join(WINE.dir, "exec.conf")
        with open(conf, "w") as f:
            f.write('Exec "winexec" "cmd.exe /c echo PUTVAL vm/winexec/gauge-answer N:42"\n'
                    'Exec "winloop" "cmd.exe /c for /l %i in (1,0,2) do rem"\n'
                    'Exec "winfail" "cmd.exe /c exit 3"\n'
                    'Exec "winmissing" "no-such-program-hvkvp.exe"\n'
                    'ExecTimeout 2\n')
        winconf = "Z:" + conf.replace("/", "\\")
        r = WINE.reporter(["--once", "--config", winconf, "--store", "registry:Auto"])
        ans, _ = self.decoded("Auto")
        got = [vl for vl in ans["msg"]["values"] if vl["plugin"] == "winexec"]
        self.assertEqual(len(got), 1, "Exec winexec value missing: %r" % got)
        self.assertEqual((got[0]["type"], got[0]["type_instance"], got[0]["values"]),
                         ("gauge", "answer", [42]))
        self.check_message(ans["msg"])
        lines = r.stderr.split("\n")

        def line_of(name):
            found = [l for l in lines if "Exec " + name in l]
            self.assertTrue(found, "nothing logged for Exec %s: %s" % (name, r.stderr))
            return found[0]
        self.assertIn("killed", line_of("winloop"))
        self.assertIn("3", line_of("winfail"))
        self.assertIn("not found", line_of("winmissing"))
        # The timed-out cmd.exe must be gone (its job was terminated).
        deadline = time.monotonic() + 20
        while self.wine_processes("cmd.exe") and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.wine_processes("cmd.exe"), [], "Exec winloop survived its timeout")

    def test_exec_output_and_stderr_bounded(self):
        # A script's bad output is one warning with a count; its stderr goes
        # to the log through a pipe, at most 3 lines a run.
        conf = os.path.join(WINE.dir, "noisy.conf")
        with open(conf, "w") as f:
            f.write('Exec "winbad" "cmd.exe /c for /l %i in (1,1,40) do echo '
                    'garbage %i"\n'
                    'Exec "winerr" "cmd.exe /c for /l %i in (1,1,40) do echo '
                    'complaint %i 1>&2"\n'
                    'Collectors "winbad winerr"\n')
        winconf = "Z:" + conf.replace("/", "\\")
        r = WINE.reporter(["--once", "--config", winconf, "--store", "registry:Auto"])
        lines = r.stderr.split("\n")
        bad = [l for l in lines if "Exec winbad" in l]
        self.assertEqual(len(bad), 1, r.stderr)
        self.assertIn("40 of 40 output lines skipped", bad[0])
        err = [l for l in lines if "Exec winerr stderr:" in l]
        self.assertEqual(len(err), 3, r.stderr)
        self.assertIn("complaint 1", err[0])
        self.assertLessEqual(len([l for l in lines if "Exec winerr" in l]), 4,
                             r.stderr)

    def test_pushed_interval_strict_decimal(self):
        # The registry path validates with the same protocol code as pool 0.
        for i, value in enumerate(["0x10", " 5", "1e1"]):
            WINE.reg_add("External", "hvkvp.cfg.interval", value)
            WINE.reg_add("External", "hvkvp.cfg.id", "strict-%d" % i)
            self.publish_once("registry:Auto")
            ans, _ = self.decoded("Auto")
            self.assertEqual(ans["msg"]["config"], "")
            self.assertIn('item hvkvp.cfg.interval: "%s"' % value,
                          ans["msg"]["config_error"])
            self.assertEqual(ans["msg"]["interval"], 60)

    def test_console_loop_stops_on_ctrl_c(self):
        # Wine turns SIGINT into a console Ctrl-C event: the loop must finish
        # cleanly (exit 0) after publishing more than one generation.
        with tempfile.TemporaryFile() as out:
            p = subprocess.Popen(["wine", EXE, "--foreground", "--interval", "1",
                                  "--store", "registry:Guest"], env=WINE.env,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            try:
                gen = 0
                deadline = time.monotonic() + 60
                while gen < 2 and time.monotonic() < deadline and p.poll() is None:
                    time.sleep(0.3)
                    values = WINE.reg_query("Guest") or {}
                    head = values.get(PREFIX + "head", ("", ""))[1]
                    m = re.search(r";gen=([0-9]+);", head)
                    gen = int(m.group(1)) if m else 0
                self.assertIsNone(p.poll(), "the loop exited on its own")
                self.assertGreaterEqual(gen, 2, "the loop did not publish twice")
                p.send_signal(2)  # SIGINT
                rc = p.wait(timeout=60)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            out.seek(0)
            log_text = out.read().decode("utf-8", "replace")
        self.assertEqual(rc, 0, log_text)
        self.assertIn("stopping after", log_text)
        ans, _ = self.decoded("Guest")
        self.check_message(ans["msg"], first=False)

    def test_loop_without_foreground_explains(self):
        r = WINE.reporter(["--store", "registry:Guest"], check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--foreground", r.stderr)
        self.assertIn("service install", r.stderr)

    def test_service_bad_config_reports_exit_code(self):
        # A service that cannot start its reporter stops with
        # ERROR_SERVICE_SPECIFIC_ERROR (1066) and the reporter's exit code 2.
        WINE.reporter(["service", "install", "--interval", "bogus"])
        try:
            WINE.wine(["sc", "start", SERVICE], check=False)
            state = ""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = WINE.wine(["sc", "query", SERVICE]).stdout
                if re.search(r"STATE\s+:\s+1\s+STOPPED", state):
                    break
                time.sleep(0.5)
            self.assertRegex(state, r"STATE\s+:\s+1\s+STOPPED")
            self.assertRegex(state, r"WIN32_EXIT_CODE\s+:\s+1066\s")
            self.assertRegex(state, r"SERVICE_EXIT_CODE\s+:\s+2\s")
        finally:
            WINE.reporter(["service", "uninstall"], check=False)

    def test_access_denied_is_explained(self):
        # Wine enforces key DACLs: with all access taken away from Guest the
        # reporter must fail with an error that says what to do.
        WINE.wine([REGACL, "deny", "Guest"])
        try:
            r = WINE.reporter(["--once", "--store", "registry:Guest"], check=False)
        finally:
            WINE.wine([REGACL, "allow", "Guest"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Virtual Machine\\Guest", r.stderr)
        self.assertIn("access denied", r.stderr)
        self.assertIn("Administrator or LocalSystem", r.stderr)
        # With access back, the same run works.
        self.publish_once("registry:Guest")
        self.decoded("Guest")

    def test_include_loopback(self):
        # GetIfTable2 lists the loopback interface ("lo" under Wine); it is
        # reported only with IncludeLoopback true.
        def ifaces(extra):
            r = WINE.reporter(["--dry-run"] + extra)
            msg = json.loads(r.stdout.strip().split("\n")[-1])
            return {vl["plugin_instance"]: vl for vl in self.vls(msg, "interface", "if_octets")}
        conf = os.path.join(WINE.dir, "loopback.conf")
        with open(conf, "w") as f:
            f.write("IncludeLoopback true\n")
        with_lo = ifaces(["--config", "Z:" + conf.replace("/", "\\")])
        without = ifaces([])
        self.assertIn("lo", with_lo)
        self.assertNotIn("lo", without)
        self.assertEqual(set(with_lo) - {"lo"}, set(without))

    def test_cpu_modes(self):
        # <Collector cpu> takes collectd's cpu options. GetSystemTimes has
        # the machine's totals only: every mode is machine-wide
        # (plugin_instance ""); the percent modes need a previous read, so
        # the first cycle has no cpu values and the second has shares of
        # the time in between.
        modes = [  # ReportByCpu, ReportByState, ValuesPercentage -> states
            ("true", "true", "false", {"user", "system", "idle"}),
            ("false", "true", "false", {"user", "system", "idle"}),
            ("false", "false", "true", {"active"}),
            ("true", "true", "true", {"user", "system", "idle"}),
            ("true", "false", "false", {"active"}),
        ]
        conf = os.path.join(WINE.dir, "cpu.conf")
        winconf = "Z:" + conf.replace("/", "\\")
        for by_cpu, by_state, pct, want in modes:
            mode = "ReportByCpu %s, ReportByState %s, ValuesPercentage %s" % (
                by_cpu, by_state, pct)
            with open(conf, "w") as f:
                f.write("Collectors cpu\n<Collector cpu>\n  ReportByCpu %s\n"
                        "  ReportByState %s\n  ValuesPercentage %s\n</Collector>\n"
                        % (by_cpu, by_state, pct))
            r = WINE.reporter(["--dry-run", "--config", winconf])
            first = json.loads(r.stdout.strip().split("\n")[-1])
            if by_cpu == by_state == "true" and pct == "false":
                # collectd's default: jiffies summed over all CPUs, at once
                cpu = {vl["type_instance"]: vl for vl in self.vls(first, "cpu")}
                self.assertEqual(set(cpu), want)
                for vl in cpu.values():
                    self.assertEqual((vl["plugin_instance"], vl["type"], vl["dstypes"]),
                                     ("", "cpu", ["derive"]))
                    self.assertGreaterEqual(vl["values"][0], 0)
                self.assertGreater(sum(vl["values"][0] for vl in cpu.values()), 0)
                continue
            self.assertEqual(first["values"], [], "%s: first read" % mode)
            WINE.reporter(["--foreground", "--config", winconf, "--store", "registry:Auto",
                           "--interval-ms", "500", "--cycles", "2"])
            ans, _ = self.decoded("Auto")
            vls = self.vls(ans["msg"], "cpu")
            self.assertEqual({vl["type_instance"] for vl in vls}, want, mode)
            for vl in vls:
                self.assertEqual((vl["plugin_instance"], vl["type"], vl["dstypes"]),
                                 ("", "percent", ["gauge"]), mode)
                self.assertTrue(0 <= vl["values"][0] <= 100, (mode, vl))
            if len(want) > 1:
                self.assertAlmostEqual(sum(vl["values"][0] for vl in vls), 100, 6, mode)

    def test_unknown_registry_key_is_refused(self):
        r = WINE.reporter(["--once", "--store", "registry:Bogus"], check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("registry:Bogus", r.stderr)
        self.assertRegex(r.stderr, r"Auto.*Guest", "the message names the valid keys")
        self.assertIsNone(WINE.reg_query("Bogus"), "registry:Bogus created a key")

    def test_service_lifecycle(self):
        r = WINE.reporter(["service", "run"], check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Service Control Manager", r.stderr)
        WINE.reporter(["service", "install", "--store", "registry:Guest", "--interval", "1"])
        try:
            r = WINE.reporter(["service", "install"], check=False)
            self.assertNotEqual(r.returncode, 0, "a second install must fail")
            self.assertIn("uninstall", r.stderr)
            WINE.wine(["sc", "start", SERVICE])
            deadline = time.monotonic() + 60
            values = None
            while time.monotonic() < deadline:
                values = WINE.reg_query("Guest")
                if values and PREFIX + "head" in values:
                    break
                time.sleep(0.5)
            self.assertTrue(values and PREFIX + "head" in values,
                            "the service published nothing to Guest")
            ans = decode(own_items(values))
            self.assertTrue(ans.get("ok"), ans)
            self.assertEqual(ans["msg"]["interval"], 1)
            WINE.wine(["sc", "stop", SERVICE])
            state = ""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = WINE.wine(["sc", "query", SERVICE]).stdout
                if re.search(r"STATE\s+:\s+1\s+STOPPED", state):
                    break
                time.sleep(0.5)
            self.assertRegex(state, r"STATE\s+:\s+1\s+STOPPED")
            self.assertRegex(state, r"WIN32_EXIT_CODE\s+:\s+0\s", "unclean service stop")
        finally:
            r = WINE.reporter(["service", "uninstall"], check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = WINE.wine(["sc", "query", SERVICE], check=False)
        self.assertNotEqual(r.returncode, 0, "service still registered after uninstall")


if __name__ == "__main__":
    unittest.main(verbosity=2)
