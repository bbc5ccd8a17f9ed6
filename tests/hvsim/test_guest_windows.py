"""Integration test of contrib/hvsim/hvsimlib WindowsGuest: a real Wine
prefix per VM whose registry is served by hvsim-winreg.exe (mingw-w64)
running under Wine. Needs HVKVP_SOURCE_DIR and HVSIM_WINREG_EXE (ctest sets
both); if Wine or the helper cannot run, the test fails, never skips."""

import os
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.environ.get("HVKVP_SOURCE_DIR")
if not SRC:
    sys.exit("test_guest_windows: set HVKVP_SOURCE_DIR (ctest does)")
sys.path.insert(0, os.path.join(SRC, "contrib", "hvsim"))
from hvsimlib import guests, windows_guest, wine  # noqa: E402

VM_KEY = "HKLM\\SOFTWARE\\Microsoft\\Virtual Machine"
INTRINSIC = ["FullyQualifiedDomainName", "OSName", "OSVersion", "CSDVersion",
             "OSMajorVersion", "OSMinorVersion", "OSBuildNumber",
             "OSPlatformId", "ServicePackMajor", "SuiteMask", "ProductType",
             "OSEditionId", "ProcessorArchitecture",
             "IntegrationServicesVersion", "NetworkAddressIPv4",
             "NetworkAddressIPv6", "RDPAddressIPv4"]
TRICKY = "k\u00fcy = v\u00e4lue with  spaces %41 +\t\\ \"q\" \u20ac\U0001F600"


def helper():
    exe = os.environ.get("HVSIM_WINREG_EXE") or \
        windows_guest.default_winreg_exe()
    if not os.path.isfile(exe):
        raise AssertionError("hvsim-winreg.exe not found at %s (build the "
                             "tree with x86_64-w64-mingw32-gcc installed)"
                             % exe)
    return exe


def prefix_processes(prefix):
    """Live processes that belong to a prefix: a wineserver whose cwd is
    in the prefix's server dir, or any process with WINEPREFIX=prefix."""
    st = os.stat(prefix)
    sdir_tail = "/server-%x-%x" % (st.st_dev, st.st_ino)
    marker = b"\0WINEPREFIX=" + prefix.encode() + b"\0"
    found = []
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent, "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            with open("/proc/%s/comm" % ent) as f:
                comm = f.read().strip()
            cwd = ""
            try:
                cwd = os.readlink("/proc/%s/cwd" % ent)
            except OSError:
                pass
            with open("/proc/%s/environ" % ent, "rb") as f:
                env = b"\0" + f.read()
        except (OSError, IndexError):
            continue
        if cwd.endswith(sdir_tail) or marker in env:
            found.append((int(ent), comm))
    return found


def wine_reg(prefix, *args):
    return wine.wine_reg(prefix, *args)


class WindowsGuestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="hvsim-wg-")
        t0 = time.perf_counter()
        cls.guest = guests.WindowsGuest("win-1", cls.tmp.name + "/vm",
                                        helper(), hostname="win-1.hvsim.test")
        print("\nWindowsGuest start (new prefix, wineboot): %.1f s"
              % (time.perf_counter() - t0))

    @classmethod
    def tearDownClass(cls):
        cls.guest.close()
        cls.tmp.cleanup()

    def test_seeded_intrinsic_items_and_parameters(self):
        g = self.guest
        self.assertTrue(g.alive())
        auto = g.intrinsic_items()
        for k in INTRINSIC:
            self.assertIn(k, auto)
        self.assertEqual(auto["FullyQualifiedDomainName"], "win-1.hvsim.test")
        self.assertEqual(auto["OSMajorVersion"], "10")
        self.assertEqual(auto["CSDVersion"], "")
        params = g.parameters()
        self.assertEqual(params["VirtualMachineName"], "win-1")
        self.assertEqual(params["HostName"], "hvsim-host.hvsim.test")
        self.assertIn("PhysicalHostName", params)
        self.assertEqual(g.store_spec, "registry:Auto")
        self.assertTrue(os.path.isdir(g.wineprefix + "/drive_c/windows"))

    def test_helper_writes_the_real_wine_registry(self):
        g = self.guest
        # Written by the helper, read by Wine's own reg.exe ...
        r = wine_reg(g.wineprefix, "query", VM_KEY + "\\Auto", "/v", "OSName")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Windows Server 2022 Datacenter",
                      r.stdout.decode("utf-8", "replace"))
        # ... and written by another Wine program (as the reporter does),
        # seen by the helper.
        r = wine_reg(g.wineprefix, "add", VM_KEY + "\\Guest", "/v",
                     "hvkvp.head", "/t", "REG_SZ", "/d", "v=1;gen=3", "/f")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(g.guest_items()["hvkvp.head"], "v=1;gen=3")
        r = wine_reg(g.wineprefix, "add", VM_KEY + "\\Guest", "/v", "n",
                     "/t", "REG_DWORD", "/d", "42", "/f")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(g.guest_items()["n"], "42")
        self.assertTrue(g.delete("Guest", "hvkvp.head"))
        self.assertTrue(g.delete("Guest", "n"))
        self.assertEqual(g.guest_items(), {})

    def test_external_set_and_delete_round_trip(self):
        g = self.guest
        g.publish_host_item("hvkvp.cfg.interval", "10")
        g.publish_host_item(TRICKY, TRICKY + "\nsecond line")
        g.publish_host_item("hvkvp.cfg.empty", "")
        ext = g.host_items()
        self.assertEqual(ext, {"hvkvp.cfg.interval": "10",
                               TRICKY: TRICKY + "\nsecond line",
                               "hvkvp.cfg.empty": ""})
        self.assertEqual(g.get("External", TRICKY), TRICKY + "\nsecond line")
        self.assertIsNone(g.get("External", "missing"))
        g.publish_host_item("hvkvp.cfg.interval", "30")
        self.assertEqual(g.host_items()["hvkvp.cfg.interval"], "30")
        for k in ("hvkvp.cfg.interval", TRICKY, "hvkvp.cfg.empty"):
            self.assertTrue(g.remove_host_item(k))
        self.assertFalse(g.remove_host_item("hvkvp.cfg.interval"))
        self.assertEqual(g.host_items(), {})
        self.assertEqual(g.list_key("NoSuchKey"), {})

    def test_helper_rejects_bad_requests(self):
        g = self.guest
        with self.assertRaises(guests.GuestError) as cm:
            g._command(["BOGUS"])
        self.assertIn("unknown command", str(cm.exception))
        with self.assertRaises(ValueError):
            g.set("External", "", "v")
        with self.assertRaises(ValueError):
            g.set("External", "k", "nul\0inside")
        # The helper still serves after errors.
        g.set("External", "still", "fine")
        self.assertTrue(g.remove_host_item("still"))

    def test_helper_raw_protocol(self):
        # A second helper on the same prefix (same wineserver), fed raw
        # lines: hostile or malformed input gets an ERR, never a crash.
        long_line = "SET External k " + "a" * 70000
        script = ["PING", "SET External bad %4", "SET External k %FF%FE",
                  "SET External k v%00x", "GET External", long_line,
                  "SET Guest%5CParameters%5C..%5C..%5CAuto raw v%20w",
                  "GET Guest%5CParameters%5C..%5C..%5CAuto raw",
                  "SET External raw%20key a%3Db", "GET External raw%20key",
                  "DEL External raw%20key", "DEL External raw%20key",
                  "QUIT"]
        r = subprocess.run(["wine", helper()],
                           input=("\r\n".join(script) + "\r\n").encode(),
                           env=self.guest.wine_env(), capture_output=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(lines[0], "READY hvsim-winreg 1")
        ans = [l.split(" ")[:2] for l in lines[1:]]
        self.assertEqual(ans, [["OK"], ["ERR", "87"], ["ERR", "87"],
                               ["ERR", "87"], ["ERR", "1"], ["ERR", "87"],
                               ["OK"], ["OK", "v%20w"], ["OK"],
                               ["OK", "a%3Db"], ["OK"], ["ERR", "2"],
                               ["OK"]])
        # ".." is no path operator in the registry: a key literally named so.
        self.assertNotIn("raw", self.guest.intrinsic_items())
        self.assertTrue(self.guest.delete("Guest\\Parameters\\..\\..\\Auto",
                                          "raw"))

    def test_round_trip_cost(self):
        g = self.guest
        n = 300
        t0 = time.perf_counter()
        for _ in range(n):
            g.get("Auto", "OSName")
        print("\nhvsim-winreg GET round trip: %.3f ms"
              % ((time.perf_counter() - t0) / n * 1000))
        t0 = time.perf_counter()
        for i in range(n):
            g.set("Guest", "bench.%d" % i, "x" * 1000)
        print("hvsim-winreg SET round trip: %.3f ms"
              % ((time.perf_counter() - t0) / n * 1000))
        t0 = time.perf_counter()
        for _ in range(10):
            items = g.guest_items()
        print("hvsim-winreg LIST of %d items: %.3f ms"
              % (len(items), (time.perf_counter() - t0) / 10 * 1000))
        self.assertEqual(len(items), n)
        for i in range(n):
            g.delete("Guest", "bench.%d" % i)


class WindowsGuestLifecycleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="hvsim-wg-")
        cls.template = cls.tmp.name + "/template"

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_close_stops_wineserver_and_saves_registry(self):
        g = guests.WindowsGuest("win-close", self.tmp.name + "/close",
                                helper(), template=self.template)
        prefix = g.wineprefix
        with open(prefix + "/wineserver") as f:
            tmpdir = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                  f.read().strip())
        self.assertTrue(os.path.isdir(tmpdir))
        procs = prefix_processes(prefix)
        self.assertTrue(any(c.startswith("wineserver") for _, c in procs),
                        procs)
        g.publish_host_item("persist", "yes \u00fc")
        g.close()
        g.close()  # idempotent
        self.assertEqual(prefix_processes(prefix), [])
        self.assertFalse(os.path.exists(tmpdir))  # server dir cleaned up
        # wineserver saved the registry on the way out; a restarted guest
        # on the same prefix finds the host item again.
        with open(prefix + "/system.reg", encoding="utf-8",
                  errors="replace") as f:
            self.assertIn('"persist"', f.read())
        g2 = guests.WindowsGuest("win-close", self.tmp.name + "/close",
                                 helper())
        try:
            self.assertEqual(g2.host_items(), {"persist": "yes \u00fc"})
        finally:
            g2.close()
        self.assertEqual(prefix_processes(prefix), [])

    def test_template_clones_are_isolated(self):
        t0 = time.perf_counter()
        a = guests.WindowsGuest("win-a", self.tmp.name + "/a", helper(),
                                template=self.template)
        self.addCleanup(a.close)
        t1 = time.perf_counter()
        b = guests.WindowsGuest("win-b", self.tmp.name + "/b", helper(),
                                template=self.template)
        self.addCleanup(b.close)
        print("\nWindowsGuest start from template: first %.1f s, next %.1f s"
              % (t1 - t0, time.perf_counter() - t1))
        a.publish_host_item("who", "a")
        self.assertEqual(b.host_items(), {})
        self.assertEqual(a.parameters()["VirtualMachineName"], "win-a")
        self.assertEqual(b.parameters()["VirtualMachineName"], "win-b")
        # System files are shared by hard links, registries are private.
        kernel32 = "/drive_c/windows/system32/kernel32.dll"
        self.assertEqual(os.stat(a.wineprefix + kernel32).st_ino,
                         os.stat(self.template + kernel32).st_ino)
        self.assertNotEqual(os.stat(a.wineprefix + "/system.reg").st_ino,
                            os.stat(self.template + "/system.reg").st_ino)
        self.assertNotEqual(prefix_processes(a.wineprefix),
                            prefix_processes(b.wineprefix))

    def test_missing_helper_fails_clearly(self):
        with self.assertRaises(guests.GuestError) as cm:
            guests.WindowsGuest("win-x", self.tmp.name + "/x",
                                "/nonexistent/hvsim-winreg.exe")
        self.assertIn("/nonexistent/hvsim-winreg.exe", str(cm.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
