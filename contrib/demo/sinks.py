"""Real metric sinks for the end-to-end tests and the demo, on loopback only.

InfluxSink runs Debian's InfluxDB 1.x (influxd) in a private directory with its
collectd listener; CarbonSink runs graphite-carbon's carbon-cache with a
private config and whisper directory; GraphiteWeb runs Debian's graphite-web
(Django's development server) over a CarbonSink's whisper files and cache, so
Grafana-style render and metrics/find requests can be made. All pick free
ports, wait until they answer, and stop (and clean up) in close().
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

TYPES_DB = "/usr/share/collectd/types.db"


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


def _stop(proc, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class _Daemon:
    """What the sinks share: a private directory, one process, its log file
    (LOGNAME in that directory)."""
    LOGNAME = None

    def logtext(self):
        try:
            with open(os.path.join(self.dir, self.LOGNAME)) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def close(self, remove=True):
        _stop(self.proc)
        self.log.close()
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)


class InfluxSink(_Daemon):
    """influxd with a collectd UDP listener on 127.0.0.1 (database "collectd")."""
    LOGNAME = "influxd.log"

    def __init__(self, workdir=None, types_db=TYPES_DB):
        self.dir = workdir or tempfile.mkdtemp(prefix="hvkvp-influx-")
        os.makedirs(self.dir, exist_ok=True)
        self.http_port = free_port()
        self.bind_port = free_port()
        self.collectd_port = free_port(socket.SOCK_DGRAM)
        conf = os.path.join(self.dir, "influxdb.conf")
        with open(conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{self.bind_port}"
[meta]
  dir = "{self.dir}/meta"
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.http_port}"
  log-enabled = false
[[collectd]]
  enabled = true
  bind-address = "127.0.0.1:{self.collectd_port}"
  database = "collectd"
  typesdb = "{types_db}"
  batch-size = 100
  batch-timeout = "200ms"
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
""")
        self.log = open(os.path.join(self.dir, self.LOGNAME), "w")
        self.proc = subprocess.Popen(["influxd", "-config", conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        _wait(self._ping, 60, "influxd on 127.0.0.1:%d" % self.http_port)
        self.query("CREATE DATABASE collectd", db=None, post=True)
        _wait(lambda: "collectd" in self._databases(), 30,
              "influxd to create the collectd database")

    def _ping(self):
        if self.proc.poll() is not None:
            raise RuntimeError("influxd exited; log: " + self.logtext())
        try:
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/ping" % self.http_port, timeout=1) as r:
                return r.status == 204
        except OSError:
            return False

    def _databases(self):
        res = self.query("SHOW DATABASES", db=None)
        out = []
        for s in res.get("results", [{}])[0].get("series", []):
            out += [v[0] for v in s.get("values", [])]
        return out

    def query(self, q, db="collectd", post=False):
        params = {"q": q}
        if db:
            params["db"] = db
        url = "http://127.0.0.1:%d/query" % self.http_port
        body = urllib.parse.urlencode(params).encode()
        req = (urllib.request.Request(url, data=body) if post else
               urllib.request.Request(url + "?" + body.decode()))
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def series(self, q):
        """Rows of the first series set of a query as a list of dicts."""
        res = self.query(q)
        rows = []
        for s in res.get("results", [{}])[0].get("series", []):
            cols = s["columns"]
            for v in s.get("values", []):
                d = dict(zip(cols, v))
                d.update(s.get("tags", {}))
                rows.append(d)
        return rows


    def collectd_network_block(self):
        return f"""LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "{self.collectd_port}"
  MaxPacketSize 1452
</Plugin>
"""


class CarbonSink(_Daemon):
    """carbon-cache with a plaintext line receiver on 127.0.0.1."""
    LOGNAME = "carbon.out"

    def __init__(self, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="hvkvp-carbon-")
        os.makedirs(self.dir, exist_ok=True)
        self.line_port = free_port()
        self.pickle_port = free_port()
        self.query_port = free_port()
        self.whisper_dir = os.path.join(self.dir, "whisper")
        os.makedirs(self.whisper_dir)
        conf = os.path.join(self.dir, "carbon.conf")
        with open(conf, "w") as f:
            f.write(f"""[cache]
STORAGE_DIR = {self.dir}/
LOCAL_DATA_DIR = {self.whisper_dir}/
WHITELISTS_DIR = {self.dir}/lists/
CONF_DIR = {self.dir}/
LOG_DIR = {self.dir}/log/
PID_DIR = {self.dir}/
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 5000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {self.line_port}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {self.pickle_port}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {self.query_port}
USE_FLOW_CONTROL = True
LOG_UPDATES = False
LOG_CREATES = False
LOG_LISTENER_CONN_SUCCESS = False
CACHE_WRITE_STRATEGY = sorted
WHISPER_AUTOFLUSH = True
""")
        with open(os.path.join(self.dir, "storage-schemas.conf"), "w") as f:
            f.write("[default]\npattern = .*\nretentions = 1s:1h,1m:1d\n")
        self.log = open(os.path.join(self.dir, self.LOGNAME), "w")
        self.proc = subprocess.Popen(
            ["carbon-cache", "--config=" + conf, "--nodaemon",
             "--pidfile=" + os.path.join(self.dir, "carbon.pid"),
             "--logdir=" + os.path.join(self.dir, "log"), "start"],
            stdout=self.log, stderr=subprocess.STDOUT)
        _wait(self._listening, 60, "carbon-cache on 127.0.0.1:%d" % self.line_port)

    def _listening(self):
        if self.proc.poll() is not None:
            raise RuntimeError("carbon-cache exited; output: " + self.logtext())
        try:
            with socket.create_connection(("127.0.0.1", self.line_port), 0.5):
                return True
        except OSError:
            return False


    def metrics(self):
        """Dotted metric paths of every whisper file written so far."""
        out = []
        for root, _, files in os.walk(self.whisper_dir):
            for fn in files:
                if fn.endswith(".wsp"):
                    rel = os.path.relpath(os.path.join(root, fn[:-4]), self.whisper_dir)
                    out.append(rel.replace(os.sep, "."))
        return sorted(out)

    def values(self, path, seconds=3600):
        """Non-null (time, value) points of one metric, read with whisper."""
        import whisper  # python3-whisper, a dependency of graphite-carbon
        fn = os.path.join(self.whisper_dir, *path.split(".")) + ".wsp"
        now = int(time.time())
        (start, end, step), vals = whisper.fetch(fn, now - seconds, now)
        return [(start + i * step, v) for i, v in enumerate(vals) if v is not None]

    # The writer settings of contrib/collectd/collectd-graphite.conf (what the
    # Graphite dashboard in contrib/grafana assumes); only the prefix differs.
    WRITER_SETTINGS = (("Protocol", '"tcp"'), ("StoreRates", "true"),
                       ("SeparateInstances", "false"), ("AlwaysAppendDS", "false"),
                       ("EscapeCharacter", '"_"'))

    def collectd_graphite_block(self, prefix="hvkvp."):
        opts = "".join("    %s %s\n" % kv for kv in self.WRITER_SETTINGS)
        return f"""LoadPlugin write_graphite
<Plugin write_graphite>
  <Node "carbon">
    Host "127.0.0.1"
    Port "{self.line_port}"
    Prefix "{prefix}"
{opts}  </Node>
</Plugin>
"""


class GraphiteWeb(_Daemon):
    """graphite-web (Debian package) on 127.0.0.1, reading a CarbonSink's
    whisper directory and asking its carbon-cache for points not yet written.
    Served by Django's development server, as Debian's README.Debian suggests
    for trying graphite-web; settings live in a private module in workdir."""

    LOGNAME = "graphite-web.log"
    SETTINGS_MODULE = "hvkvp_graphite_settings"

    def __init__(self, carbon, workdir=None, python="/usr/bin/python3"):
        self.dir = workdir or tempfile.mkdtemp(prefix="hvkvp-graphite-web-")
        os.makedirs(os.path.join(self.dir, "log"), exist_ok=True)
        self.port = free_port()
        with open(os.path.join(self.dir, self.SETTINGS_MODULE + ".py"), "w") as f:
            f.write(f"""# generated by contrib/demo/sinks.py: graphite-web over a private carbon
SECRET_KEY = "hvkvp-test-only"
STORAGE_DIR = {self.dir!r}
WHISPER_DIR = {carbon.whisper_dir!r}
STANDARD_DIRS = [WHISPER_DIR]
LOG_DIR = {os.path.join(self.dir, "log")!r}
INDEX_FILE = {os.path.join(self.dir, "index")!r}
CARBONLINK_HOSTS = ["127.0.0.1:{carbon.query_port}"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                           "NAME": {os.path.join(self.dir, "graphite.db")!r}}}}}
TAGDB = ""
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOG_RENDERING_PERFORMANCE = False
LOG_CACHE_PERFORMANCE = False
""")
        env = dict(os.environ, PYTHONPATH=self.dir,
                   DJANGO_SETTINGS_MODULE="graphite.settings",
                   GRAPHITE_SETTINGS_MODULE=self.SETTINGS_MODULE)
        self.proc = None
        self.log = open(os.path.join(self.dir, self.LOGNAME), "w")
        # The find and render views look up the user's profile: they need
        # the database schema (README.Debian: graphite-manage migrate).
        r = subprocess.run([python, "-m", "django", "migrate", "--run-syncdb", "-v", "0"],
                           env=env, cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            self.log.close()
            raise RuntimeError("graphite-web: migrate failed; log: " + self.logtext())
        self.proc = subprocess.Popen(
            [python, "-m", "django", "runserver", "--noreload",
             "127.0.0.1:%d" % self.port],
            env=env, cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            _wait(self._answers, 60, "graphite-web on 127.0.0.1:%d" % self.port)
        except BaseException:
            self.close(remove=False)
            raise

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError("graphite-web exited; log: " + self.logtext())
        try:
            self.get("/metrics/find", query="*")
            return True
        except urllib.error.HTTPError as e:
            raise RuntimeError("graphite-web answers HTTP %d; log: %s" % (e.code, self.logtext()))
        except OSError:
            return False

    def get(self, path, **params):
        """GET path?params from graphite-web; the decoded JSON answer."""
        url = "http://127.0.0.1:%d%s?%s" % (self.port, path, urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.loads(r.read().decode())

