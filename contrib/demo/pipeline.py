"""The whole hvkvp pipeline on one machine, for the demo and the end-to-end tests.

    simulated Hyper-V host (contrib/hvsim/hvsim, WS-Man on 127.0.0.1)
      + Linux guests (real hv_kvp_daemon) with a real hvkvp-reporter each
      + Windows guests (Wine registry) with the mingw hvkvp-reporter.exe under Wine
    -> real collectd with hyperv_kvp.so -> csv files, InfluxDB, carbon (sinks.py)
       (+ graphite-web over carbon with the "graphite-web" sink)

Pipeline.start() brings everything up, close() stops it all (reverse order)
and leaves no process or mount behind. Every process logs to a file in the
work directory; errors quote those logs.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HVSIM = os.path.join(ROOT, "contrib", "hvsim", "hvsim")
TYPES_DB = "/usr/share/collectd/types.db"
COLLECTD = "/usr/sbin/collectd"
COLLECTD_PLUGINS = "/usr/lib/collectd"


class PipelineError(RuntimeError):
    pass


class Proc:
    """A child process with its own log file and process group."""

    def __init__(self, name, argv, logdir, env=None, stdout_pipe=False):
        self.name = name
        self.logpath = os.path.join(logdir, name + ".log")
        self.log = open(self.logpath, "wb")
        self.p = subprocess.Popen(
            argv, env=env, start_new_session=True,
            stdout=subprocess.PIPE if stdout_pipe else self.log,
            stderr=self.log, stdin=subprocess.DEVNULL)

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=3000):
        try:
            with open(self.logpath, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=15):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait()
        if self.p.stdout:
            self.p.stdout.close()
        self.log.close()


class Vm:
    def __init__(self, name, guid, kind, where):
        self.name, self.guid, self.kind, self.where = name, guid, kind, where

    def __repr__(self):
        return "Vm(%r, %s, %s)" % (self.name, self.guid, self.kind)


class Pipeline:
    def __init__(self, build_dir, win_build_dir=None, workdir=None, linux=2,
                 windows=1, synthetic=0, sim_config=None, interval=2.0,
                 push=None, sinks=("csv",), user="hvkvp",
                 password="hvkvp-demo-password", https=False,
                 reporter_args=(), keep=False, plugin_dir=None,
                 linux_reporter=None):
        self.build = os.path.abspath(build_dir)
        self.win_build = os.path.abspath(win_build_dir or os.path.join(ROOT, "build-win"))
        self.work = workdir or tempfile.mkdtemp(prefix="hvkvp-pipeline-")
        self.linux, self.windows, self.synthetic = linux, windows, synthetic
        self.sim_config = sim_config
        self.interval = interval
        self.push = push
        self.sink_kinds = tuple(sinks)
        self.user, self.password, self.https = user, password, https
        self.reporter_args = list(reporter_args)
        self.keep = keep
        # plugin_dir: collectd's PluginDir as is (e.g. /usr/lib/collectd with
        # an installed hyperv_kvp.so) instead of a private copy of the build's
        # plugin; linux_reporter(vm) -> argv: how a Linux guest's reporter is
        # started (default: the build's, with --store pool:<pool>).
        self.plugin_dir = plugin_dir
        self.linux_reporter = linux_reporter
        self.procs = []
        self.vms = []
        self.url = None
        self.cert = None
        self.sinks = {}
        self.csv_dir = os.path.join(self.work, "csv")
        self.collectd_log = os.path.join(self.work, "collectd-daemon.log")

    # ---- simulator ----
    def start_sim(self, timeout=180):
        argv = [HVSIM, "--listen", "127.0.0.1:0", "--user", self.user,
                "--password", self.password, "--build-dir", self.build,
                "--linux", str(self.linux), "--windows", str(self.windows),
                "--synthetic", str(self.synthetic),
                "--interval", str(self.interval)]
        if self.https:
            argv.append("--https")
        if self.sim_config:
            argv += ["--config", self.sim_config]
        env = dict(os.environ)
        env.setdefault("HVSIM_WINREG_EXE", self._win_exe("hvsim-winreg.exe"))
        sim = Proc("hvsim", argv, self.work, env=env, stdout_pipe=True)
        self.procs.append(sim)
        self.sim = sim
        deadline = time.monotonic() + timeout
        os.set_blocking(sim.p.stdout.fileno(), True)
        with open(os.path.join(self.work, "hvsim.out"), "w") as out:
            while self.url is None:
                if time.monotonic() > deadline:
                    raise PipelineError("hvsim did not start in %ds:\n%s" % (timeout, sim.tail()))
                line = sim.p.stdout.readline().decode("utf-8", "replace")
                if not line:
                    raise PipelineError("hvsim exited:\n" + sim.tail())
                out.write(line)
                self._sim_line(line.rstrip("\n"))
        # keep draining hvsim's stdout so it never blocks on a full pipe
        import threading

        def drain():
            with open(os.path.join(self.work, "hvsim.out"), "a") as out:
                for raw in iter(sim.p.stdout.readline, b""):
                    out.write(raw.decode("utf-8", "replace"))
                    out.flush()
        threading.Thread(target=drain, daemon=True).start()

    def _sim_line(self, line):
        m = re.match(r"hvsim: listening on (\S+)", line)
        if m:
            self.url = m.group(1)
            return
        m = re.match(r"hvsim: certificate (\S+)", line)
        if m:
            self.cert = m.group(1)
            return
        m = re.match(r"hvsim: vm (.+) ([0-9A-Fa-f-]{36}) (linux|windows|synthetic)(?: (\S+)=(.*))?$", line)
        if m:
            self.vms.append(Vm(m.group(1), m.group(2), m.group(3), m.group(5)))

    def _win_exe(self, name):
        for sub in ("guest-reporter", "contrib/hvsim/wine", "."):
            p = os.path.join(self.win_build, sub, name)
            if os.path.exists(p):
                return p
        return os.path.join(self.win_build, name)

    # ---- guest reporters ----
    def start_reporters(self):
        rep = os.path.join(self.build, "guest-reporter", "hvkvp-reporter")
        for i, vm in enumerate(v for v in self.vms if v.kind == "linux"):
            if self.linux_reporter:
                self.procs.append(Proc("reporter-%s" % vm.guid,
                                       self.linux_reporter(vm), self.work))
                continue
            conf = os.path.join(self.work, "reporter-%s.conf" % vm.guid)
            with open(conf, "w") as f:
                f.write("Hostname \"guest-%s\"\n" % re.sub(r"[^A-Za-z0-9-]", "-", vm.name))
            self.procs.append(Proc(
                "reporter-%s" % vm.guid,
                [rep, "--config", conf, "--foreground", "--store", "pool:" + vm.where,
                 "--interval", str(self.interval)] + self.reporter_args,
                self.work))
        for vm in (v for v in self.vms if v.kind == "windows"):
            env = dict(os.environ, WINEPREFIX=vm.where, WINEDEBUG="-all",
                       WINEDLLOVERRIDES="mscoree,mshtml=")
            self.procs.append(Proc(
                "reporter-%s" % vm.guid,
                ["wine", self._win_exe("hvkvp-reporter.exe"), "--foreground",
                 "--interval", str(self.interval)] + self.reporter_args,
                self.work, env=env))

    # ---- sinks ----
    def start_sinks(self):
        import sinks as sinkmod
        if "influxdb" in self.sink_kinds:
            self.sinks["influxdb"] = sinkmod.InfluxSink(os.path.join(self.work, "influxdb"))
        if "graphite" in self.sink_kinds or "graphite-web" in self.sink_kinds:
            self.sinks["graphite"] = sinkmod.CarbonSink(os.path.join(self.work, "carbon"))
        if "graphite-web" in self.sink_kinds:
            self.sinks["graphite-web"] = sinkmod.GraphiteWeb(
                self.sinks["graphite"], os.path.join(self.work, "graphite-web"))

    # ---- collectd ----
    def collectd_conf(self):
        # collectd loads only regular files (no symlinks): copy the stock
        # plugins this configuration uses and ours into a private PluginDir.
        plugdir = self.plugin_dir or os.path.join(self.work, "collectd-plugins")
        if not self.plugin_dir:
            os.makedirs(plugdir, exist_ok=True)
            for name in ("logfile", "csv", "network", "write_graphite", "write_log"):
                shutil.copy(os.path.join(COLLECTD_PLUGINS, name + ".so"), plugdir)
            shutil.copy(os.path.join(self.build, "collectd-plugin", "hyperv_kvp.so"), plugdir)
        pwfile = os.path.join(self.work, "hv.pass")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        os.chmod(pwfile, 0o600)
        tls = ""
        if self.https and self.cert:
            tls = '    CACert "%s"\n' % self.cert
        push = ""
        if self.push:
            push = "    <Push>\n" + "".join(
                "      %s %s\n" % (k, v) for k, v in self.push.items()) + "    </Push>\n"
        conf = f"""# generated by contrib/demo/pipeline.py
Hostname "monitor"
FQDNLookup false
BaseDir "{self.work}/collectd-base"
PIDFile "{self.work}/collectd.pid"
PluginDir "{plugdir}"
TypesDB "{TYPES_DB}"
Interval {self.interval}
ReadThreads 4
WriteQueueLimitHigh 100000
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{self.collectd_log}"
  Timestamp true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{self.csv_dir}"
  StoreRates true
</Plugin>
"""
        if "influxdb" in self.sinks:
            conf += self.sinks["influxdb"].collectd_network_block()
        if "graphite" in self.sinks:
            conf += self.sinks["graphite"].collectd_graphite_block()
        conf += f"""LoadPlugin hyperv_kvp
<Plugin hyperv_kvp>
  <Host "hv01">
    URL "{self.url}"
    User "{self.user}"
    PasswordFile "{pwfile}"
    Auth "basic"
{tls}    Timeout 10
    Interval {self.interval}
    HostnameFormat "name"
    StaleAfter 5
{push}  </Host>
</Plugin>
"""
        path = os.path.join(self.work, "collectd.conf")
        with open(path, "w") as f:
            f.write(conf)
        os.makedirs(os.path.join(self.work, "collectd-base"), exist_ok=True)
        return path

    def start_collectd(self, extra_env=None):
        conf = self.collectd_conf()
        env = dict(os.environ, **(extra_env or {}))
        c = Proc("collectd", [COLLECTD, "-f", "-C", conf], self.work, env=env)
        self.procs.append(c)
        self.collectd = c
        time.sleep(0.5)
        if not c.alive():
            raise PipelineError("collectd exited at start:\n%s\n%s" % (c.tail(), self.log_tail()))

    def log_tail(self, n=4000):
        try:
            with open(self.collectd_log, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def start(self):
        try:
            self.start_sim()
            self.start_reporters()
            self.start_sinks()
            self.start_collectd()
        except BaseException:
            self.close()
            raise
        return self

    # ---- reading collectd's csv output ----
    def csv_hosts(self):
        try:
            return sorted(os.listdir(self.csv_dir))
        except OSError:
            return []

    def csv_last(self, host, plugin_dir, type_name):
        """Last row (time, [values]) of DataDir/host/plugin_dir/type_name-DATE."""
        d = os.path.join(self.csv_dir, host, plugin_dir)
        try:
            files = sorted(f for f in os.listdir(d) if f.startswith(type_name + "-"))
        except OSError:
            return None
        if not files:
            return None
        with open(os.path.join(d, files[-1])) as f:
            lines = [l for l in f.read().splitlines() if l and not l.startswith("epoch")]
        if not lines:
            return None
        parts = lines[-1].split(",")
        return float(parts[0]), [float(x) if x not in ("nan", "-nan") else float("nan")
                                 for x in parts[1:]]

    def csv_rows(self, host, plugin_dir, type_name):
        d = os.path.join(self.csv_dir, host, plugin_dir)
        rows = []
        try:
            files = sorted(f for f in os.listdir(d) if f.startswith(type_name + "-"))
        except OSError:
            return rows
        for fn in files:
            with open(os.path.join(d, fn)) as f:
                for l in f.read().splitlines():
                    if l and not l.startswith("epoch"):
                        p = l.split(",")
                        rows.append((float(p[0]), [float(x) for x in p[1:]]))
        return rows

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.procs:
                if not p.alive() and p.name in ("hvsim", "collectd"):
                    raise PipelineError("%s died while waiting for %s:\n%s\n%s" % (
                        p.name, what, p.tail(), self.log_tail()))
            v = pred()
            if v:
                return v
            time.sleep(0.25)
        raise PipelineError("timed out after %ss waiting for %s\ncollectd log:\n%s" % (
            timeout, what, self.log_tail()))

    def close(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []
        for s in reversed(list(self.sinks.values())):
            s.close(remove=not self.keep)
        self.sinks = {}
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)
