#!/usr/bin/python3
"""The Windows MSI (scripts/package.sh, contrib/windows/hvkvp-reporter.wxs)
under Wine, in a throwaway prefix, as an admin would push it:
  msiexec /i hvkvp-reporter-<v>-x64.msi /qn STORE=registry:Auto INTERVAL=2
installs the files, registers the service hvkvp-reporter with those options
(its program path quoted) and starts it; the running service publishes a
message to HKLM\\SOFTWARE\\Microsoft\\Virtual Machine\\Auto that hvkvp-codec
decodes, with interval 2, and keeps publishing; msiexec /x stops and deletes
the service and removes the files, folders, the published hvkvp.* values and
the product's registration. Without properties the service gets no --store
or --interval (the configuration file decides). Restart-on-failure (set by
the reporter's own service registration) is not observable here: Wine's
Service Control Manager neither stores nor applies failure actions."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import pkgs

sys.path.insert(0, os.path.join(pkgs.SRC, "contrib", "hvsim"))
from hvsimlib import wine  # noqa: E402

VM_KEY = "HKLM\\SOFTWARE\\Microsoft\\Virtual Machine"
SVC_KEY = "HKLM\\System\\CurrentControlSet\\Services\\hvkvp-reporter"
UNINSTALL_KEY = "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
CODEC = os.environ.get("HVKVP_CODEC") or os.path.join(pkgs.BUILD, "protocol", "hvkvp-codec")


class MsiUnderWine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.msi = pkgs.package("hvkvp-reporter-%s-x64.msi" % pkgs.version())
        props = pkgs.run(["msiinfo", "export", cls.msi, "Property"]).stdout
        cls.product = [l.split("\t")[1].strip() for l in props.splitlines()
                       if l.startswith("ProductCode\t")][0]
        cls.tmp = tempfile.mkdtemp(prefix="hvkvp-msi-")
        t0 = time.monotonic()
        cls.prefix = wine.ensure_wine_template(os.path.join(cls.tmp, "prefix"))
        cls.env = wine.wine_environment(cls.prefix)
        subprocess.run(["wineserver", "-p"], env=cls.env, timeout=60, check=True)
        print("\nWine prefix: %.1f s" % (time.monotonic() - t0), file=sys.stderr)
        cls.drive_c = os.path.join(cls.prefix, "drive_c")

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["wineserver", "-k"], env=cls.env, timeout=60)
        deadline = time.monotonic() + 30
        while wine.wine_processes(cls.prefix) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = wine.wine_processes(cls.prefix)
        subprocess.run(["rm", "-rf", cls.tmp])
        if left:
            raise AssertionError("Wine processes left behind: %r" % left)

    def wine(self, *args):
        """Runs a Wine program with its output in files (Wine's background
        processes inherit and keep pipes open); (rc, stdout)."""
        with tempfile.TemporaryFile() as out:
            rc = subprocess.run(["wine"] + list(args), env=self.env,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, timeout=300).returncode
            out.seek(0)
            return rc, out.read().decode("utf-8", "replace").replace("\r", "")

    def msiexec(self, *args):
        log = os.path.join(self.tmp, "msiexec-%d.log" % time.monotonic_ns())
        t0 = time.monotonic()
        rc, out = self.wine("msiexec", *args, "/qn", "/l*v", log)
        try:
            with open(log, "rb") as f:
                text = f.read().replace(b"\0", b"").decode("utf-8", "replace")
        except OSError:
            text = ""
        self.assertEqual(rc, 0, "msiexec %s: exit %d\n%s\n%s" % (" ".join(args), rc,
                                                                  out, text[-4000:]))
        print("msiexec %s: %.1f s" % (args[0], time.monotonic() - t0), file=sys.stderr)
        return text

    def values(self, key):
        """{name: data} of a registry key (None if the key is absent)."""
        r = wine.wine_reg(self.prefix, "query", key)
        if r.returncode != 0:
            return None
        out = {}
        for line in r.stdout.decode("utf-8", "replace").replace("\r", "").split("\n"):
            parts = line.strip().split("    ")
            if len(parts) >= 2 and parts[1].startswith("REG_"):
                out[parts[0]] = parts[2] if len(parts) > 2 else ""
        return out

    def service_state(self):
        rc, out = self.wine("sc", "query", "hvkvp-reporter")
        if rc != 0:
            return None
        for line in out.split("\n"):
            if "STATE" in line:
                return line.split()[-1]
        return "?"

    def own(self, key):
        return {k: v for k, v in (self.values(key) or {}).items() if k.startswith("hvkvp.")}

    def wait(self, pred, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.5)
        self.fail("timed out waiting for " + what)

    def assert_nothing_left(self):
        self.assertIsNone(self.service_state(), "the service is still registered")
        self.assertIsNone(self.values(SVC_KEY), "the service's key is still there")
        for d in ("Program Files/hvkvp", "ProgramData/hvkvp"):
            self.assertFalse(os.path.exists(os.path.join(self.drive_c, d)), d + " left behind")
        for sub in ("Auto", "Guest"):
            self.assertEqual(self.own(VM_KEY + "\\" + sub), {}, "hvkvp.* values left in " + sub)
        self.assertIsNone(self.values(UNINSTALL_KEY + "\\" + self.product),
                          "the product is still registered")

    def test_1_install_with_properties_runs_and_uninstall_removes_all(self):
        self.msiexec("/i", self.msi, "STORE=registry:Auto", "INTERVAL=2")
        exe = os.path.join(self.drive_c, "Program Files/hvkvp/hvkvp-reporter.exe")
        self.assertTrue(os.path.isfile(exe))
        self.assertTrue(os.path.isfile(os.path.join(self.drive_c,
                                                    "ProgramData/hvkvp/hvkvp-reporter.conf")))
        svc = self.values(SVC_KEY)
        self.assertEqual(svc["ImagePath"], '"C:\\Program Files\\hvkvp\\hvkvp-reporter.exe" '
                         "service run --store registry:Auto --interval 2")
        self.assertEqual(svc["Start"], "0x2", "automatic start")
        self.assertEqual(svc["ObjectName"], "LocalSystem")
        self.wait(lambda: self.service_state() == "RUNNING", "the service to run")
        self.assertIsNotNone(self.values(UNINSTALL_KEY + "\\" + self.product))

        # The service publishes, and keeps publishing every 2 s.
        items = self.wait(lambda: (lambda o: o if "hvkvp.head" in o else None)(
            self.own(VM_KEY + "\\Auto")), "the service's first message in Auto")
        r = subprocess.run([CODEC, "decode"], input=json.dumps(items) + "\n",
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        ans = json.loads(r.stdout)
        self.assertTrue(ans.get("ok"), ans)
        self.assertEqual(ans["msg"]["interval"], 2)
        self.assertTrue(any(v["plugin"] == "memory" for v in ans["msg"]["values"]))
        gen = ans["head"]["gen"] if "head" in ans else ans["msg"]["seq"]
        self.wait(lambda: "gen=%d;" % gen not in self.own(VM_KEY + "\\Auto").get("hvkvp.head", ""),
                  "a newer message", timeout=30)

        self.msiexec("/x", self.msi)
        self.assert_nothing_left()

    def test_2_install_without_properties_leaves_options_to_the_config(self):
        self.msiexec("/i", self.msi)
        svc = self.values(SVC_KEY)
        self.assertEqual(svc["ImagePath"],
                         '"C:\\Program Files\\hvkvp\\hvkvp-reporter.exe" service run')
        self.wait(lambda: self.service_state() == "RUNNING", "the service to run")
        self.msiexec("/x", self.msi)
        self.assert_nothing_left()


if __name__ == "__main__":
    unittest.main(verbosity=2)
