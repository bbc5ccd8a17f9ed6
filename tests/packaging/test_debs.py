#!/usr/bin/python3
"""The three .debs installed on this machine for real (apt-get, as an
admin does), used, and purged:
  - the files are where the packages say, the conffile is registered, the
    unit is enabled the Debian way (deb-systemd-helper), man finds the pages;
  - the real collectd, with PluginDir /usr/lib/collectd (the installed
    hyperv_kvp.so next to Debian's plugins), polls the Hyper-V simulator;
    its Linux guest runs the installed unit's ExecStart command unchanged
    inside the guest (nsenter into the guest's hv_kvp_daemon namespace, where
    /var/lib/hyperv is the guest's pool directory), with the installed
    conffile; the guest's values arrive in collectd;
  - the real collectd loads the installed write_hvkvp.so from its own
    PluginDir with the installed example configuration and publishes (into
    a private pool directory), and refuses a bad option naming it;
  - the purge, which always runs, leaves no file, unit or symlink behind.
Runs as root, one run at a time on this machine (a lock file): other
checkouts' tests use their build trees' plugin and never see this one."""
import fcntl
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import sys
import unittest

import pkgs

sys.path.insert(0, os.path.join(pkgs.SRC, "contrib", "demo"))
sys.path.insert(0, os.path.join(pkgs.SRC, "contrib", "hvsim"))
from hvsimlib import client as hc  # noqa: E402
import pipeline  # noqa: E402

LOCK = "/run/lock/hvkvp-packaging-debs.lock"
PACKAGES = ("collectd-hyperv-kvp", "hvkvp-reporter", "collectd-write-hvkvp")
UNIT = "/lib/systemd/system/hvkvp-reporter.service"
WANTS = "/etc/systemd/system/multi-user.target.wants/hvkvp-reporter.service"
PLUGIN = "/usr/lib/collectd/hyperv_kvp.so"
WRITER = "/usr/lib/collectd/write_hvkvp.so"
WRITER_CONF = "/usr/share/doc/collectd-write-hvkvp/examples/guest-write_hvkvp.conf"
LEFTOVERS = (PLUGIN, WRITER, "/usr/bin/hvkvpctl", "/usr/sbin/hvkvp-reporter", "/etc/hvkvp",
             UNIT, WANTS, "/usr/share/man/man1/hvkvpctl.1.gz", "/usr/share/doc/hvkvp-reporter",
             "/usr/share/doc/collectd-write-hvkvp")
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=600"]
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg],
                       capture_output=True, text=True)
    return r.returncode == 0 and r.stdout[:2] in ("ii", "iF", "iU", "rc", "iH")


def purge():
    there = [p for p in PACKAGES if installed(p)]
    if there:
        pkgs.run(APT + ["purge"] + there, env=APT_ENV)


class InstalledDebs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("test_debs installs packages: run it as root")
        debs = [pkgs.package("%s_%s_*.deb" % (p, pkgs.version())) for p in PACKAGES]
        cls.lock = open(LOCK, "w")
        fcntl.flock(cls.lock, fcntl.LOCK_EX)
        cls.addClassCleanup(cls.lock.close)
        cls.addClassCleanup(purge)
        purge()  # a run that was killed before its cleanup
        r = subprocess.run(["dpkg", "-S", PLUGIN], capture_output=True)
        if os.path.exists(PLUGIN) and r.returncode != 0:
            raise AssertionError("%s exists and belongs to no package: a hand-made "
                                 "install; remove it first" % PLUGIN)
        pkgs.run(APT + ["install", "--no-install-recommends"] + debs, env=APT_ENV)

    @classmethod
    def tearDownClass(cls):
        purge()
        left = [p for p in LEFTOVERS if os.path.lexists(p)]
        if left or any(installed(p) for p in PACKAGES):
            raise AssertionError("the purge left %r (installed: %r)" % (
                left, [p for p in PACKAGES if installed(p)]))

    def test_files_conffile_unit_and_man_pages(self):
        for p in (PLUGIN, "/usr/bin/hvkvpctl", "/usr/sbin/hvkvp-reporter",
                  "/etc/hvkvp/hvkvp-reporter.conf", UNIT):
            self.assertTrue(os.path.isfile(p), p)
        conff = pkgs.run(["dpkg-query", "-W", "-f=${Conffiles}", "hvkvp-reporter"]).stdout
        self.assertIn("/etc/hvkvp/hvkvp-reporter.conf", conff)
        self.assertEqual(os.path.realpath(WANTS), os.path.realpath(UNIT), "unit not enabled")
        self.assertFalse(os.path.exists("/var/lib/hyperv"),
                         "the install created /var/lib/hyperv (hyperv-daemons' directory)")
        for page, path in (("hvkvpctl", "man1/hvkvpctl.1.gz"),
                           ("collectd-hyperv_kvp", "man5/collectd-hyperv_kvp.5.gz"),
                           ("hvkvp-reporter", "man8/hvkvp-reporter.8.gz"),
                           ("hvkvp-reporter.conf", "man5/hvkvp-reporter.conf.5.gz")):
            where = pkgs.run(["man", "-w", page]).stdout.strip()
            self.assertEqual(where, "/usr/share/man/" + path)
        r = pkgs.run(["/usr/bin/hvkvpctl", "--help"], ok=(0, 1))
        self.assertIn("--url", r.stdout + r.stderr)

    def test_installed_write_hvkvp_publishes_from_collectd(self):
        """The real collectd loads the installed write_hvkvp.so from
        Debian's PluginDir with the installed example configuration (its
        pool pointed at a private directory, logging to stderr) and
        publishes a message; a bad option stops it, named."""
        self.assertTrue(os.path.exists(WRITER))
        with open(WRITER_CONF) as f:
            conf = f.read()
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        pool = os.path.join(d, "pool")
        os.mkdir(pool)
        conf = conf.replace("LoadPlugin syslog", "LoadPlugin logfile", 1)
        conf = conf.replace("<Plugin syslog>", '<Plugin logfile>\n  File "stderr"', 1)
        conf = re.sub(r'Store "pool"[^\n]*', 'Store "pool:%s"' % pool, conf, count=1)
        conf = re.sub(r"^Interval 10", "Interval 1", conf, count=1, flags=re.M)
        conf = 'BaseDir "%s"\nPIDFile "%s/pid"\n' % (d, d) + conf
        for name, text in (("good", conf), ("bad", conf.replace(
                "<Plugin write_hvkvp>", "<Plugin write_hvkvp>\n  Frobnicate 1", 1))):
            with open(os.path.join(d, name + ".conf"), "w") as f:
                f.write(text)
        r = subprocess.run(["timeout", "--signal=TERM", "5", "/usr/sbin/collectd", "-f",
                            "-C", os.path.join(d, "good.conf")],
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 124, out)  # ran until stopped
        self.assertIn('plugin "write_hvkvp" successfully loaded', out)
        with open(os.path.join(pool, ".kvp_pool_1"), "rb") as f:
            self.assertIn(b"hvkvp_cd.head", f.read())
        r = subprocess.run(["/usr/sbin/collectd", "-f", "-C", os.path.join(d, "bad.conf")],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Frobnicate", r.stdout + r.stderr)

    def test_installed_plugin_and_unit_command_in_a_simulated_guest(self):
        with open(UNIT) as f:
            exec_start = [l.split("=", 1)[1] for l in f.read().splitlines()
                          if l.startswith("ExecStart=")]
        self.assertEqual(len(exec_start), 1)
        argv = shlex.split(exec_start[0])
        self.assertEqual(argv[0], "/usr/sbin/hvkvp-reporter")

        p = None

        def guest_reporter(vm):
            # The unit's command, unchanged, in the guest: the mount and UTS
            # namespace of the guest's hv_kvp_daemon.
            c = hc.Client(p.url, p.user, p.password)
            st, ans = c.admin("GET", "/hvsim/vms")
            pid = [v["daemon_pid"] for v in ans["vms"] if v["name"] == vm.name][0]
            return ["nsenter", "-t", str(pid), "-m", "-u", "--"] + argv

        p = pipeline.Pipeline(pkgs.BUILD, linux=1, windows=0, interval=2.0,
                              plugin_dir="/usr/lib/collectd",
                              linux_reporter=guest_reporter)
        try:
            p.start()
            vm = p.vms[0]
            row = p.wait_for(lambda: p.csv_last(vm.name, "memory", "memory-used"), 120,
                             "the guest's memory values in collectd")
            self.assertGreater(row[1][0], 0)
            self.assertTrue(p.wait_for(lambda: p.csv_last(vm.name, "load", "load"), 60,
                                       "the guest's load values"))
            log = p.log_tail(100000)
            self.assertIn('plugin "hyperv_kvp" successfully loaded', log)
            rep = [x for x in p.procs if x.name.startswith("reporter-")][0]
            self.assertTrue(rep.alive(), rep.tail())
            self.assertIn("store pool, prefix hvkvp, interval 60", rep.tail())
        finally:
            p.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
