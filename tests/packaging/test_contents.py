#!/usr/bin/python3
"""What scripts/package.sh built holds, needs and runs: lintian on the three
.debs (errors, warnings and pedantic tags fail), the files, dependencies,
conffiles and maintainer scripts of each .deb, the man pages they carry
(rendered by man without a warning, a proper NAME line), and the RPM
(rpm -qlp, -qcp, -qRp, --scripts) and the MSI's tables (msiinfo)."""
import os
import re
import subprocess
import tempfile
import unittest

import pkgs

V = pkgs.version()


def deb_files(deb):
    out = pkgs.run(["dpkg-deb", "-c", deb]).stdout
    return {line.split()[-1].lstrip(".") for line in out.splitlines()}


def deb_field(deb, field):
    return pkgs.run(["dpkg-deb", "-f", deb, field]).stdout.strip()


def deb_control_files(deb):
    d = tempfile.mkdtemp(prefix="hvkvp-ctrl-")
    pkgs.run(["dpkg-deb", "-e", deb, d])
    out = {}
    for name in os.listdir(d):
        with open(os.path.join(d, name), errors="replace") as f:
            out[name] = f.read()
    subprocess.run(["rm", "-rf", d])
    return out


class Debs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.plugin = pkgs.package("collectd-hyperv-kvp_%s_*.deb" % V)
        cls.reporter = pkgs.package("hvkvp-reporter_%s_*.deb" % V)
        cls.writer = pkgs.package("collectd-write-hvkvp_%s_*.deb" % V)

    def test_lintian_clean(self):
        r = pkgs.run(["lintian", "--fail-on", "error,warning,pedantic", "--pedantic",
                      "--display-info", self.plugin, self.reporter, self.writer],
                     ok=(0, 1, 2))
        tags = [l for l in r.stdout.splitlines() if re.match(r"^[EWP]: ", l)]
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(tags, [])
        # No override hides anything: every override would need a comment.
        r = pkgs.run(["lintian", "--show-overrides", "--pedantic", self.plugin,
                      self.reporter, self.writer], ok=(0, 1, 2))
        self.assertNotIn("O: ", r.stdout)

    def holds(self, deb, want, never, why):
        """deb has every path of want and none under the prefix never."""
        files = deb_files(deb)
        self.assertEqual(sorted(set(want) - files), [], "missing from " + deb)
        self.assertEqual([f for f in files if f.startswith(never)], [], why)

    def test_plugin_package(self):
        self.holds(self.plugin, ("/usr/lib/collectd/hyperv_kvp.so", "/usr/bin/hvkvpctl",
                                 "/usr/share/man/man1/hvkvpctl.1.gz",
                                 "/usr/share/man/man5/collectd-hyperv_kvp.5.gz",
                                 "/usr/share/doc/collectd-hyperv-kvp/examples/hyperv_kvp.conf",
                                 "/usr/share/doc/collectd-hyperv-kvp/copyright"),
                   "/etc/", "the plugin package ships no configuration")
        dep = deb_field(self.plugin, "Depends")
        self.assertRegex(dep, r"collectd-core \(>= 5\.12")
        self.assertRegex(dep, r"collectd-core \(<< 5\.13")
        for lib in ("libcurl4", "libxml2", "libyajl2", "libgssapi-krb5-2"):
            self.assertIn(lib, dep, "${shlibs:Depends} missing %s" % lib)
        # Nothing runs at install.
        ctrl = deb_control_files(self.plugin)
        self.assertEqual(sorted(ctrl), ["control", "md5sums"])

    def test_write_hvkvp_package(self):
        self.holds(self.writer, ("/usr/lib/collectd/write_hvkvp.so",
                                 "/usr/share/doc/collectd-write-hvkvp/write_hvkvp.md.gz",
                                 "/usr/share/doc/collectd-write-hvkvp/examples/"
                                 "guest-write_hvkvp.conf",
                                 "/usr/share/doc/collectd-write-hvkvp/copyright"),
                   "/etc/", "the plugin package ships no configuration")
        dep = deb_field(self.writer, "Depends")
        self.assertRegex(dep, r"collectd-core \(>= 5\.12")
        self.assertRegex(dep, r"collectd-core \(<< 5\.13")
        self.assertIn("hyperv-daemons", dep)
        self.assertIn("libyajl2", dep)
        self.assertEqual(sorted(deb_control_files(self.writer)),
                         ["control", "md5sums"])

    def test_reporter_package(self):
        self.holds(self.reporter, ("/usr/sbin/hvkvp-reporter", "/etc/hvkvp/hvkvp-reporter.conf",
                                   "/lib/systemd/system/hvkvp-reporter.service",
                                   "/usr/share/man/man8/hvkvp-reporter.8.gz",
                                   "/usr/share/man/man5/hvkvp-reporter.conf.5.gz"),
                   "/var/lib/hyperv", "the pool directory belongs to hyperv-daemons")
        self.assertIn("hyperv-daemons", deb_field(self.reporter, "Depends"))
        ctrl = deb_control_files(self.reporter)
        self.assertEqual(ctrl["conffiles"].split(), ["/etc/hvkvp/hvkvp-reporter.conf"])
        # Enabled and started the Debian way (dh_installsystemd).
        self.assertIn("deb-systemd-helper unmask 'hvkvp-reporter.service'", ctrl["postinst"])
        self.assertIn("deb-systemd-helper enable 'hvkvp-reporter.service'", ctrl["postinst"])
        self.assertRegex(ctrl["postinst"], r"deb-systemd-invoke \$_dh_action 'hvkvp-reporter.service'")
        self.assertIn("deb-systemd-invoke stop 'hvkvp-reporter.service'", ctrl["prerm"])
        self.assertIn("deb-systemd-helper purge 'hvkvp-reporter.service'", ctrl["postrm"])

    def test_man_pages(self):
        d = tempfile.mkdtemp(prefix="hvkvp-man-")
        try:
            for deb in (self.plugin, self.reporter):
                pkgs.run(["dpkg-deb", "-x", deb, d])
            pages = {
                "man1/hvkvpctl.1.gz": ["--password-file", "EXIT CODES", "messages VM"],
                "man5/collectd-hyperv_kvp.5.gz": ["PasswordFile", "HostnameFormat", "hvkvpctl(1)"],
                "man8/hvkvp-reporter.8.gz": ["--foreground", "SIGHUP", "hvkvp-reporter.conf(5)"],
                "man5/hvkvp-reporter.conf.5.gz": ["IncludeLoopback", "PUTVAL", "hvkvp-reporter(8)"],
            }
            env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
            for page, words in pages.items():
                path = os.path.join(d, "usr/share/man", page)
                r = pkgs.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", path], env=env)
                self.assertEqual(r.stderr.strip(), "", "%s: groff warnings" % page)
                text = pkgs.run(["man", "-l", path], env=dict(env, MANPAGER="cat")).stdout
                name = os.path.basename(page).rsplit(".", 2)[0]
                self.assertRegex(text, r"NAME\n\s+%s - \S" % re.escape(name))
                for w in words:
                    self.assertIn(w, text, "%s lacks %r" % (page, w))
                whatis = pkgs.run(["lexgrog", path]).stdout
                self.assertIn('"%s - ' % name, whatis)
        finally:
            subprocess.run(["rm", "-rf", d])


class Rpm(unittest.TestCase):
    def setUp(self):
        self.rpm = pkgs.package("hvkvp-reporter-%s-1*.rpm" % V)

    def test_files_config_requires_scripts(self):
        files = pkgs.run(["rpm", "-qlp", self.rpm]).stdout.split()
        for f in ("/usr/sbin/hvkvp-reporter", "/etc/hvkvp/hvkvp-reporter.conf",
                  "/usr/lib/systemd/system/hvkvp-reporter.service",
                  "/usr/share/man/man8/hvkvp-reporter.8",
                  "/usr/share/man/man5/hvkvp-reporter.conf.5"):
            self.assertIn(f, files)
        self.assertEqual(pkgs.run(["rpm", "-qcp", self.rpm]).stdout.split(),
                         ["/etc/hvkvp/hvkvp-reporter.conf"])
        req = pkgs.run(["rpm", "-qRp", self.rpm]).stdout.split("\n")
        self.assertIn("hyperv-daemons", req)
        self.assertIn("libyajl.so.2()(64bit)", req)
        self.assertIn("systemd", req)
        scripts = pkgs.run(["rpm", "-qp", "--scripts", self.rpm]).stdout
        self.assertRegex(scripts, r"postinstall scriptlet[^\n]*\n(.*\n)*.*systemctl --no-reload preset hvkvp-reporter.service")
        self.assertRegex(scripts, r"preuninstall scriptlet[^\n]*\n(.*\n)*.*systemctl --no-reload disable --now hvkvp-reporter.service")
        self.assertIn("try-restart hvkvp-reporter.service", scripts)


class Msi(unittest.TestCase):
    def setUp(self):
        self.msi = pkgs.package("hvkvp-reporter-%s-x64.msi" % V)

    def table(self, name):
        out = pkgs.run(["msiinfo", "export", self.msi, name]).stdout
        return [l.split("\t") for l in out.splitlines()[3:] if "\t" in l]

    def test_tables(self):
        files = {r[2].split("|")[-1] for r in self.table("File")}
        self.assertEqual(files, {"hvkvp-reporter.exe", "hvkvp-reporter.conf"})
        props = dict((r[0], r[1]) for r in self.table("Property"))
        self.assertEqual(props["ProductVersion"], V)
        self.assertIn("STORE;INTERVAL", props["SecureCustomProperties"])
        ca = {r[0]: r for r in self.table("CustomAction")}
        self.assertEqual(ca["RegisterService"][3],
                         "service install{ --store [STORE]}{ --interval [INTERVAL]}")
        self.assertEqual(int(ca["RegisterServiceRollback"][1]) & 0x500, 0x500,
                         "the rollback action must run in the rollback script")
        summary = pkgs.run(["msiinfo", "suminfo", self.msi]).stdout
        self.assertRegex(summary, r"Template: x64;1033")


if __name__ == "__main__":
    unittest.main(verbosity=2)
