"""End to end: guests -> simulated Hyper-V host -> real collectd + hyperv_kvp
-> real InfluxDB and real carbon, then a configuration push that changes the
guests' behaviour, observed in the sinks; finally every Grafana dashboard in
contrib/grafana runs, panel by panel, against InfluxDB and graphite-web
(tests/e2e/grafana.py).

Guests: two Linux VMs (real hv_kvp_daemon + real hvkvp-reporter), one Windows
VM (hvkvp-reporter.exe under Wine), one synthetic VM whose name holds '.',
spaces, ';', '*', '[', ']' and non-ASCII (Graphite path injection).
Prints the measured publish -> sink latency.
"""
import calendar
import glob
import json
import os
import re
import statistics
import sys
import tempfile
import time
import unittest

ROOT = os.environ.get("HVKVP_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("HVSIM_BUILD_DIR") or os.path.join(ROOT, "build")
WIN_BUILD = os.environ.get("HVKVP_WIN_BUILD_DIR") or os.path.join(ROOT, "build-win")
sys.path.insert(0, os.path.join(ROOT, "contrib", "demo"))
import pipeline  # noqa: E402
import sinks  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grafana  # noqa: E402

HOSTILE = "web.01 prod;*[\u00fc]"
INTERVAL = 2
PUSH_INTERVAL = 5
DASHBOARDS = sorted(glob.glob(os.path.join(ROOT, "contrib", "grafana", "*.json")))
GRAPHITE_PREFIX = "hvkvp"  # the pipeline's write_graphite Prefix, without the dot
# Panels a kind of guest has no data for, and why.
NOT_REPORTED = {("Load", "windows"): "the Windows reporter has no load average"}


def influx_time(t):
    """Unix seconds of an InfluxDB RFC 3339 UTC timestamp."""
    base = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S"))
    frac = t[19:].rstrip("Z")
    return base + (float(frac) if frac.startswith(".") else 0.0)


def sanitize_host(name):
    """The documented host rule (schemas/PROTOCOL.md): [A-Za-z0-9_.-] kept,
    every other character (a whole UTF-8 sequence) -> '_', at most 127 bytes."""
    return "".join(c if re.match(r"[A-Za-z0-9_.\-]", c) else "_" for c in name)[:127]


def graphite_host(name):
    # write_graphite (EscapeCharacter "_") turns '.' in the host into '_'.
    return sanitize_host(name).replace(".", "_")


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        exe = os.path.join(WIN_BUILD, "guest-reporter", "hvkvp-reporter.exe")
        if not os.path.exists(exe):
            raise AssertionError("Windows reporter %s is missing: run scripts/build-windows.sh" % exe)
        cls.cfgfile = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"vms": [{"name": HOSTILE, "kind": "synthetic"}]}, cls.cfgfile)
        cls.cfgfile.close()
        cls.p = pipeline.Pipeline(BUILD, WIN_BUILD, linux=2, windows=1,
                                  sim_config=cls.cfgfile.name, interval=INTERVAL,
                                  sinks=("csv", "influxdb", "graphite", "graphite-web"))
        cls.p.start()
        cls.t_start = time.monotonic()
        cls.real = [v.name for v in cls.p.vms]
        assert sorted(v.kind for v in cls.p.vms) == ["linux", "linux", "windows"], cls.p.vms
        cls.influx = cls.p.sinks["influxdb"]
        cls.carbon = cls.p.sinks["graphite"]
        cls.web = cls.p.sinks["graphite-web"]

    @classmethod
    def tearDownClass(cls):
        cls.p.close()
        os.unlink(cls.cfgfile.name)

    def influx_hosts(self, measurement):
        rows = self.influx.series('SHOW TAG VALUES FROM "%s" WITH KEY = "host"' % measurement)
        return {r["value"] for r in rows}

    def test_1_influxdb_series_per_vm(self):
        want = {
            "cpu_value": self.real,
            "memory_value": self.real,
            "df_value": self.real,
            "interface_rx": [n for n in self.real if n.startswith("linux")],
        }
        for meas, hosts in want.items():
            self.p.wait_for(lambda: set(hosts) <= self.influx_hosts(meas), 120,
                            "InfluxDB %s for %s" % (meas, hosts))
        for h in self.real:
            # A host's tag can show up before all of its points are written:
            # wait for the very series we check.
            used = self.p.wait_for(lambda: self.influx.series(
                "SELECT last(value) FROM memory_value WHERE host = '%s' AND type_instance = 'used'"
                % h), 60, "memory used of %s in InfluxDB" % h)
            self.assertTrue(1e6 < used[0]["last"] < 2**44, (h, used))
            df = self.p.wait_for(lambda: self.influx.series(
                "SELECT last(value) FROM df_value WHERE host = '%s' AND type_instance = 'used'"
                % h), 60, "df used of %s in InfluxDB" % h)
            self.assertGreater(df[0]["last"], 0, (h, df))
            # cpu percentages start with a guest's second message, and a
            # message's value lists reach InfluxDB in several packets
            q = "SELECT last(value), type FROM cpu_value WHERE host = '%s' GROUP BY type_instance" % h
            self.p.wait_for(lambda: "idle" in {r.get("type_instance") for r in self.influx.series(q)},
                            60, "cpu idle of %s in InfluxDB" % h)
            tags = self.influx.series(q)
            # the reporters' default cpu values: shares of all CPUs
            self.assertTrue(all(r["type"] == "percent" for r in tags), tags)
        rx = self.influx.series(
            "SELECT last(value) FROM interface_rx WHERE host = '%s' AND type = 'if_octets'" % self.real[0])
        self.assertTrue(rx and rx[0]["last"] >= 0, rx)

    def test_2_graphite_paths_are_sanitised(self):
        hostile = graphite_host(HOSTILE)
        self.assertEqual(hostile, "web_01_prod_____")
        want = ["hvkvp.%s.memory.memory-used" % graphite_host(h) for h in self.real]
        want.append("hvkvp.%s.memory.memory-used" % hostile)
        self.p.wait_for(lambda: set(want) <= set(self.carbon.metrics()), 120,
                        "carbon series %s" % want)
        for m in self.carbon.metrics():
            self.assertRegex(m, r"^[A-Za-z0-9_.\-]+$", "unsafe Graphite path %r" % m)
        self.assertTrue(any(m.startswith("hvkvp.%s.cpu" % hostile) for m in self.carbon.metrics()))
        pts = self.p.wait_for(lambda: self.carbon.values(want[0]), 30, "whisper points")
        self.assertTrue(all(v > 0 for _, v in pts), pts)

    def test_3_publish_to_sink_latency(self):
        # The guest stamps each message with its time; InfluxDB stores the
        # value with that time. Latency = when the point became queryable.
        h = self.real[0]
        q = "SELECT last(value) FROM memory_value WHERE host = '%s' AND type_instance = 'used'" % h
        lat = []
        last_seen = None
        deadline = time.monotonic() + 8 * INTERVAL
        while time.monotonic() < deadline and len(lat) < 4:
            r = self.influx.query(q + "", db="collectd")
            try:
                t = r["results"][0]["series"][0]["values"][0][0]
            except (KeyError, IndexError):
                t = None
            if t and t != last_seen:
                if last_seen is not None:
                    lat.append(time.time() - influx_time(t))
                last_seen = t
            time.sleep(0.05)
        self.assertGreaterEqual(len(lat), 2, "no new points arrived in InfluxDB")
        print("\npublish -> InfluxDB latency (s): median %.2f max %.2f over %d messages "
              "(guest interval %ds, poll interval %ds)" % (
                  statistics.median(lat), max(lat), len(lat), INTERVAL, INTERVAL))
        self.assertLess(max(lat), 10 * INTERVAL)

    def test_4_push_changes_guest_interval(self):
        # Restart collectd with a Push block: the plugin writes hvkvp.cfg.*
        # through AddKvpItems; the guests apply it and echo the config id.
        self.p.collectd.stop()
        self.p.procs.remove(self.p.collectd)
        self.p.push = {"IncludeVM": '"/^(linux|windows)-/"',
                       "Interval": PUSH_INTERVAL,
                       "Collectors": '"cpu memory df"'}
        self.p.start_collectd()
        n = len(self.real)

        def in_sync():
            r = self.p.csv_last("monitor", "hyperv_kvp-hv01", "count-vms_in_sync")
            return r and r[1][0] >= n
        self.p.wait_for(in_sync, 120, "vms_in_sync to reach %d" % n)
        t_sync = time.time()
        # Behaviour change in the sink: the Linux guests now send every 5 s
        # and no longer send interface values.
        time.sleep(4 * PUSH_INTERVAL)
        for h in [x for x in self.real if x.startswith("linux")]:
            rows = self.influx.series(
                "SELECT value FROM memory_value WHERE host = '%s' AND type_instance = 'used' "
                "AND time > %dms" % (h, int((t_sync + 1) * 1000)))
            self.assertGreaterEqual(len(rows), 2, rows)
            ts = [influx_time(r["time"]) for r in rows]
            gaps = [b - a for a, b in zip(ts, ts[1:])]
            self.assertGreaterEqual(statistics.median(gaps), PUSH_INTERVAL - 1, (h, gaps))
            ifs = self.influx.series(
                "SELECT count(value) FROM interface_rx WHERE host = '%s' AND time > %dms" % (
                    h, int((t_sync + PUSH_INTERVAL + 1) * 1000)))
            self.assertFalse(ifs and ifs[0].get("count"), (h, ifs))

    # ---- Grafana dashboards (contrib/grafana), after the push above ----
    def dashboard_files(self, kind):
        files = [f for f in DASHBOARDS if grafana.datasource_kind(grafana.load(f)) == kind]
        self.assertTrue(files, "no %s dashboard in contrib/grafana" % kind)
        return files

    def run_dashboards(self, kind, backend, fixed, vm_names):
        """Every variable query and every target of every `kind` dashboard;
        one failure lists every panel that shows nothing."""
        # A few intervals of data from every VM (when run on its own).
        time.sleep(max(0.0, self.t_start + 6 * INTERVAL - time.monotonic()))
        kinds = dict(zip(vm_names, (vm.kind for vm in self.p.vms)))  # same order as self.real

        def exempt(panel, var, value):
            for (title, kind_), why in NOT_REPORTED.items():
                if var == "host" and panel["title"].startswith(title) and kinds.get(value) == kind_:
                    return why
            return None
        failures, summary = [], []
        for path in self.dashboard_files(kind):
            name = os.path.basename(path)
            dash = grafana.load(path)
            t0 = time.monotonic()
            variables, options, fails = grafana.variable_options(dash, backend, fixed)
            failures += ["%s: %s" % (name, f) for f in fails]
            for var, want in (("host", vm_names), ("hvhost", ["hv01"])):
                if var in variables and not set(want) <= set(options.get(var, [])):
                    failures.append("%s: variable $%s offers %s, not every one of %s" % (
                        name, var, options.get(var), want))
            fails, n_panels, n_targets, runs = grafana.check_dashboard(
                dash, backend, options, variables, {"host": vm_names, "hvhost": ["hv01"]}, exempt)
            failures += ["%s: %s" % (name, f) for f in fails]
            summary.append("%s: %d panels, %d targets, %d queries, %d variables, %.1f s" % (
                name, n_panels, n_targets, runs, len(options), time.monotonic() - t0))
        print("\n" + "\n".join(summary))
        if failures:
            self.fail("%d dashboard checks show nothing or fail:\n%s" % (
                len(failures), "\n".join(failures)))

    def test_5_influxdb_dashboards(self):
        for f in DASHBOARDS:
            self.assertIn(grafana.datasource_kind(grafana.load(f)), ("influxdb", "graphite"),
                          "%s: a dashboard for a data source this test does not run" % f)
        self.p.wait_for(lambda: set(self.real) <= self.influx_hosts("memory_value"), 120,
                        "every VM in InfluxDB")
        self.run_dashboards("influxdb", grafana.InfluxBackend(self.influx.http_port), {},
                            self.real)

    def test_6_graphite_dashboards(self):
        # The dashboard assumes the writer settings of the shipped example
        # configuration; the pipeline's carbon writer must use the same.
        with open(os.path.join(ROOT, "contrib", "collectd", "collectd-graphite.conf")) as f:
            example = dict(re.findall(r"^\s*(\w+)\s+(.+?)\s*$",
                                      f.read().split("<Node")[1].split("</Node>")[0], re.M))
        for k, v in sinks.CarbonSink.WRITER_SETTINGS:
            self.assertEqual(example.get(k), v, "collectd-graphite.conf: %s" % k)
        for path in self.dashboard_files("graphite"):
            prefix = [v for v in grafana.load(path)["templating"]["list"] if v["name"] == "prefix"]
            self.assertEqual('"%s."' % prefix[0]["query"], example.get("Prefix"),
                             "%s: $prefix's default is not the example's Prefix" % path)
        hosts = [graphite_host(n) for n in self.real]
        self.p.wait_for(lambda: {"%s.%s.memory.memory-used" % (GRAPHITE_PREFIX, h) for h in hosts}
                        <= set(self.carbon.metrics()), 120, "every VM in carbon")
        self.run_dashboards("graphite", grafana.GraphiteBackend(self.web.port),
                            {"prefix": [GRAPHITE_PREFIX]}, hosts)


if __name__ == "__main__":
    unittest.main(verbosity=2)

