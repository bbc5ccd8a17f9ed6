"""Runs the Grafana dashboards we ship (contrib/grafana/*.json) the way Grafana
would, against the real sinks of the end-to-end pipeline: every panel's every
target and every template-variable query, with Grafana's macros and variables
substituted as Grafana substitutes them.

What is reproduced from Grafana (public/app/features/templating, the InfluxDB
and Graphite data sources):
- variables `$name`, `${name}`, `${name:format}`, `[[name]]`, `[[name:format]]`;
- multi-value / All values: InfluxDB regex-escapes each value and joins them as
  `(a|b)` (so `/^$host$/` matches exactly those hosts); Graphite uses the glob
  form `{a,b}`; a single value is used as it is (InfluxDB: regex-escaped);
- InfluxDB `$timeFilter` -> `time >= now() - 1h` for a range ending at now;
  `$__interval`, `$interval`, `$__interval_ms` from the range, the panel's
  width in pixels (maxDataPoints) and kbn.roundInterval, at least the panel's
  `interval`;
- variable queries: InfluxDB `SHOW TAG VALUES` (column value), Graphite
  `metrics/find` (field text), then the variable's `regex` (first capture
  group, non-matching values dropped), de-duplicated and sorted.

A Backend runs one data source's queries; check_dashboard() returns every
failure (naming the panel and target) and counts of what was run.
"""
import json
import re
import urllib.parse
import urllib.request

# templateSrv's variable syntax
VAR_RE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")
DASHBOARD_WIDTH_PX = 1800  # a 24-column grid on a typical screen


def load(path):
    with open(path) as f:
        return json.load(f)


def datasource_kind(dash):
    """The data source type the dashboard's datasource variable selects."""
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "datasource":
            return v.get("query")
    return None


def data_panels(dash):
    """Every panel with queries (rows and text panels have none), rows flattened."""
    out = []
    for p in dash.get("panels", []):
        out += [p] + list(p.get("panels", []))
    return [p for p in out if p.get("type") not in ("row", "text")]


def parse_relative(s):
    """Grafana's "now-1h" -> seconds (only relative ranges ending now are used)."""
    m = re.fullmatch(r"now-(\d+)([smhdw])", s)
    if not m:
        raise ValueError("unsupported time range %r" % s)
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]


def round_interval(ms):
    """kbn.roundInterval (Grafana), for intervals up to a day."""
    steps = [(15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500),
             (1500, 1000), (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000),
             (25000, 20000), (45000, 30000), (90000, 60000), (210000, 120000),
             (450000, 300000), (750000, 600000), (1050000, 900000), (1500000, 1200000),
             (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
             (16200000, 10800000), (32400000, 21600000), (86400000, 43200000)]
    for limit, value in steps:
        if ms < limit:
            return value
    return 86400000


def interval_text(ms):
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms % size == 0:
            return "%d%s" % (ms // size, unit)
    return "%dms" % ms


def panel_interval(dash, panel):
    """($__interval, $__interval_ms, maxDataPoints) for a panel, as Grafana computes them."""
    range_s = parse_relative(dash["time"]["from"])
    max_points = panel.get("maxDataPoints") or int(
        panel["gridPos"]["w"] * DASHBOARD_WIDTH_PX / 24)
    ms = round_interval(range_s * 1000 // max_points)
    low = panel.get("interval", "").lstrip("<>=")
    if low:
        m = re.fullmatch(r"(\d+)(ms|s|m|h)", low)
        ms = max(ms, int(m.group(1)) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}[m.group(2)])
    return interval_text(ms), ms, max_points


def regex_escape(v):
    """Grafana's escapeRegex / kbn.regexEscape."""
    return re.sub(r"([\\^$*+?.()|\[\]{}/])", r"\\\1", v)


def format_value(values, fmt, var):
    """templateSrv.formatValue for the formats our dashboards can use."""
    if fmt == "influxdb":  # the InfluxDB data source's interpolateQueryExpr
        if not var.get("multi") and not var.get("includeAll"):
            return values[0]
        esc = [regex_escape(v) for v in values]
        return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"
    if fmt in ("glob", "graphite"):
        return values[0] if len(values) == 1 else "{" + ",".join(values) + "}"
    if fmt == "regex":
        esc = [regex_escape(v) for v in values]
        return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"
    if fmt == "pipe":
        return "|".join(values)
    if fmt in ("csv", "raw"):
        return ",".join(values)
    if fmt == "singlequote":
        return ",".join("'%s'" % v.replace("'", "\\'") for v in values)
    if fmt == "doublequote":
        return ",".join('"%s"' % v.replace('"', '\\"') for v in values)
    raise ValueError("variable format %r is not supported here" % fmt)


def substitute(text, variables, values, builtins, default_fmt):
    """Replace Grafana variables in text. variables: name -> the dashboard's
    variable object; values: name -> list of selected values; builtins: name
    -> text ($__interval ...), never formatted. Unknown names stay as they
    are, as in Grafana (the caller reports them)."""
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(6) or default_fmt
        if name in builtins:
            return builtins[name]
        if name not in values:
            return m.group(0)
        return format_value(values[name], fmt, variables.get(name, {}))
    return VAR_RE.sub(repl, text)


def unresolved(text, builtins):
    """Variable references left in a substituted query."""
    return sorted({m.group(0) for m in VAR_RE.finditer(text)
                   if (m.group(1) or m.group(2) or m.group(4)) not in builtins})


def apply_variable_regex(texts, regex):
    """Grafana's variable regex: /re/flags; first capture group if any."""
    if not regex:
        out = list(texts)
    else:
        m = re.fullmatch(r"/(.*)/([gimsuy]*)", regex)
        rx = re.compile(m.group(1), re.I if "i" in m.group(2) else 0)
        out = []
        for t in texts:
            mm = rx.search(t)
            if mm:
                out.append(mm.group(1) if mm.groups() else t)
    return sorted(set(out))


class InfluxBackend:
    """Grafana's InfluxDB (InfluxQL) data source, raw query mode."""
    kind = "influxdb"
    fmt = "influxdb"

    def __init__(self, http_port, db="collectd"):
        self.port, self.db = http_port, db

    def builtins(self, dash, panel):
        iv, ms, _ = panel_interval(dash, panel)
        span = dash["time"]["from"][len("now-"):]
        return {"timeFilter": "time >= now() - %s" % span, "__interval": iv,
                "interval": iv, "__interval_ms": str(ms)}

    def expression(self, target):
        if not target.get("rawQuery"):
            raise ValueError("only raw InfluxQL targets are checked; refId %s has none"
                             % target.get("refId"))
        return target["query"]

    def _query(self, q):
        body = urllib.parse.urlencode({"q": q, "db": self.db, "epoch": "s"})
        url = "http://127.0.0.1:%d/query?%s" % (self.port, body)
        with urllib.request.urlopen(url, timeout=30) as r:
            res = json.loads(r.read().decode())["results"][0]
        if "error" in res:
            raise RuntimeError("InfluxDB: %s" % res["error"])
        return res.get("series", [])

    def variable_values(self, query):
        out = []
        for s in self._query(query):
            col = s["columns"].index("value")
            out += [row[col] for row in s.get("values", [])]
        return out

    def run(self, query, dash, panel):
        """[(series label, number of non-null values)]"""
        out = []
        for s in self._query(query):
            n = sum(1 for row in s.get("values", []) for v in row[1:] if v is not None)
            out.append(("%s %s" % (s["name"], json.dumps(s.get("tags", {}), sort_keys=True)), n))
        return out


class GraphiteBackend:
    """Grafana's Graphite data source against graphite-web's HTTP API."""
    kind = "graphite"
    fmt = "glob"

    def __init__(self, http_port):
        self.port = http_port

    def builtins(self, dash, panel):
        iv, ms, _ = panel_interval(dash, panel)
        return {"__interval": iv, "interval": iv, "__interval_ms": str(ms)}

    def expression(self, target):
        return target["target"]

    def _post(self, path, params):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     data=urllib.parse.urlencode(params).encode())
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read().decode())

    def variable_values(self, query):
        return [n["text"] for n in self._post("/metrics/find", {"query": query})]

    def run(self, target, dash, panel):
        _, _, max_points = panel_interval(dash, panel)
        frm = "-" + dash["time"]["from"][len("now-"):]
        series = self._post("/render", {"target": target, "from": frm, "until": "now",
                                        "format": "json", "maxDataPoints": max_points})
        return [(s["target"], sum(1 for v, _ in s["datapoints"] if v is not None))
                for s in series]


def variable_options(dash, backend, fixed):
    """Runs every query variable in order (later ones may use earlier ones);
    textbox/constant/custom variables take `fixed` values or their query.
    Returns (variables by name, options by name, failures)."""
    variables, options, failures = {}, {}, []
    for v in dash.get("templating", {}).get("list", []):
        name, vtype = v["name"], v.get("type")
        variables[name] = v
        if vtype == "datasource":
            continue
        if name in fixed:
            options[name] = list(fixed[name])
        elif vtype in ("textbox", "constant"):
            options[name] = [v.get("query", "")]
        elif vtype == "custom":
            options[name] = [x.strip() for x in v.get("query", "").split(",") if x.strip()]
        elif vtype == "query":
            q = substitute(v["query"], variables, options, {}, backend.fmt)
            left = unresolved(q, {})
            if left:
                failures.append("variable $%s: query %r refers to unknown %s" % (name, q, left))
                continue
            try:
                opts = apply_variable_regex(backend.variable_values(q), v.get("regex"))
            except Exception as e:  # noqa: BLE001 - reported with the variable's name
                failures.append("variable $%s: query %r failed: %s" % (name, q, e))
                continue
            if not opts:
                failures.append("variable $%s: query %r returned no values" % (name, q))
            options[name] = opts
        else:
            failures.append("variable $%s: type %r is not supported" % (name, vtype))
    return variables, options, failures


def check_dashboard(dash, backend, options, variables, per_value, exempt=lambda panel, var, value: None):
    """Runs every target of every panel.

    Each target runs once with every variable at All, and once per value in
    per_value[var] for the first variable of per_value it refers to (that
    variable set to that single value, the others at All). Every run must
    return at least one series with a non-null value; exempt(panel, var,
    value) may name a reason why a value has no data for a panel (the run is
    then skipped). Returns (failures, number of panels, targets, runs)."""
    failures, n_targets, runs = [], 0, 0
    panels = data_panels(dash)
    for panel in panels:
        title = panel.get("title", "?")
        if panel.get("datasource", {}).get("type") != backend.kind:
            failures.append("panel %r: data source %r, dashboard is %s" % (
                title, panel.get("datasource"), backend.kind))
            continue
        targets = panel.get("targets", [])
        if not targets:
            failures.append("panel %r has no targets" % title)
        for t in targets:
            n_targets += 1
            what = "panel %r target %s" % (title, t.get("refId"))
            try:
                expr = backend.expression(t)
            except (KeyError, ValueError) as e:
                failures.append("%s: %s" % (what, e))
                continue
            builtins = backend.builtins(dash, panel)
            cases = [("All", dict(options))]
            for var, values in per_value.items():
                if re.search(r"\$%s\b|\[\[%s\b|\$\{%s\b" % ((var,) * 3), expr):
                    for val in values:
                        if exempt(panel, var, val):
                            continue
                        cases.append(("$%s=%s" % (var, val), dict(options, **{var: [val]})))
                    break
            for label, vals in cases:
                q = substitute(expr, variables, vals, builtins, backend.fmt)
                left = unresolved(q, builtins)
                if left:
                    failures.append("%s (%s): unresolved %s in %r" % (what, label, left, q))
                    continue
                runs += 1
                try:
                    res = backend.run(q, dash, panel)
                except Exception as e:  # noqa: BLE001 - reported with the panel's name
                    failures.append("%s (%s): query failed: %s\n    %s" % (what, label, e, q))
                    continue
                if not any(n > 0 for _, n in res):
                    failures.append("%s (%s): no series with a non-null value (%d series)\n    %s"
                                    % (what, label, len(res), q))
    return failures, len(panels), n_targets, runs
