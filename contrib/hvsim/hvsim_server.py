"""hvsim_server: the HTTP(S) front of the simulator: Basic authentication as
WinRM answers it, /wsman (SOAP), fault injection, request statistics and the
admin endpoints under /hvsim/ (stats, faults, vms).
"""

import base64
import hmac
import json
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hvsim_faults import RuleError
from hvsim_wsman import RequestError, parse_request
from hvsim_xml import Fault, fault_internal, fault_timed_out

SOAP_CT = "application/soap+xml;charset=UTF-8"
MAX_ADMIN_BODY = 1 << 20


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.unauthorized = 0
            self.faults_injected = 0
            self.soap_faults = 0
            self.bytes_out = 0
            self.by_action = {}
            self.by_class = {}

    def count(self, label, cls):
        with self.lock:
            self.requests += 1
            self.by_action[label] = self.by_action.get(label, 0) + 1
            if cls:
                self.by_class[cls] = self.by_class.get(cls, 0) + 1

    def add(self, field, n=1):
        with self.lock:
            setattr(self, field, getattr(self, field) + n)

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests,
                    "by_action": dict(self.by_action),
                    "by_class": dict(self.by_class),
                    "unauthorized": self.unauthorized,
                    "faults_injected": self.faults_injected,
                    "soap_faults": self.soap_faults,
                    "bytes_out": self.bytes_out}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, endpoint, faults, user, password, machine,
                 vms_info, verbose=False, auth="basic",
                 allow_unencrypted=False, model=None):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, Handler)
        # auth "negotiate": Kerberos / Negotiate (SPNEGO, NTLM) with MS-WSMV
        # message sealing through hvsim_gss (python3-gssapi), plus Basic;
        # "basic": Basic only (Negotiate is still offered, as WinRM does).
        self.model = model
        self.auth = auth
        self.allow_unencrypted = allow_unencrypted
        self.https = False
        self.gss = None
        self.gss_tamper = 0  # sealed responses to corrupt (test hook)
        if auth == "negotiate":
            import hvsim_gss
            self.gss = hvsim_gss
        self.endpoint = endpoint
        self.faults = faults
        self.user = user
        self.password = password
        self.machine = machine
        self.vms_info = vms_info
        self.verbose = verbose
        self.stats = Stats()
        self.request_limit = endpoint.server_max_envelope

    def handle_error(self, request, client_address):
        """One line instead of a traceback; dropped connections (and TLS
        handshakes that fail, e.g. plain HTTP on the TLS port) only with
        --verbose."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError)) and not self.verbose:
            return
        sys.stderr.write("hvsim: connection from %s:%s: %r\n"
                         % (client_address[0], client_address[1], exc))

    def enable_tls(self, cert, key):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True,
                                      do_handshake_on_connect=False)
        self.https = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 120

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY
        # Nagle + the client's delayed ACK add ~40 ms to small answers.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                if self.server.verbose:
                    sys.stderr.write("hvsim: TLS handshake failed: %s\n" % e)
                self.close_connection = True
                raise

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("hvsim: %s %s\n" % (self.address_string(),
                                                 fmt % args))

    # ---- plumbing -----------------------------------------------------------
    def _send(self, status, body=b"", ctype=SOAP_CT, extra=(), cut=None):
        res = getattr(self, "_gss_res", None)
        if res is not None and body and ctype == SOAP_CT:
            # answer inside the GSS session (sealed if the request was)
            self._gss_res = None
            hdrs, body = self._conn_auth.reply(res, body)
            ctype = dict(hdrs)["Content-Type"]
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cut is None and len(body) <= 65536 and hasattr(
                self, "_headers_buffer"):
            # one write for headers and body
            self._headers_buffer.append(b"\r\n" + body)
            self.flush_headers()
            self.server.stats.add("bytes_out", len(body))
            return
        self.end_headers()
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if body:
            self.wfile.write(body)
        self.server.stats.add("bytes_out", len(body))

    def _json(self, status, obj):
        self._send(status, (json.dumps(obj, sort_keys=True) + "\n").encode(),
                   ctype="application/json")

    def _reset(self):
        """Drops the connection with a TCP RST and no response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            if isinstance(self.connection, ssl.SSLSocket):
                raw = socket.socket(fileno=self.connection.detach())
                raw.close()
            else:
                self.connection.close()
        except OSError:
            pass

    def _unauthorized(self):
        self.server.stats.add("unauthorized")
        self._gss_res = None
        if self.server.gss is not None:
            conn = self._conn_auth_get()
            conn.ctx, conn.complete = None, False
            return self._send(401, extra=conn.challenge())
        self._send(401, extra=[("WWW-Authenticate", "Negotiate"),
                               ("WWW-Authenticate", 'Basic realm="WSMAN"')])

    def _conn_auth_get(self):
        """The GSS state of this connection (one handler per connection)."""
        conn = getattr(self, "_conn_auth", None)
        if conn is None:
            conn = self.server.gss.ConnAuth(
                allow_unencrypted=self.server.allow_unencrypted)
            self._conn_auth = conn
        return conn

    def _gss_accept(self):
        """Negotiate mode: returns the SOAP request bytes, or None if an
        answer (401 leg, 400, 413 ...) was already sent."""
        srv = self.server
        data = self._read_body(srv.request_limit)
        if data is None:
            return None
        conn = self._conn_auth_get()
        res = conn.process(self.headers, data, https=srv.https)
        if res.basic:
            if not self._authorized():
                return self._unauthorized()
            if not srv.https and not srv.allow_unencrypted:
                # WinRM: Basic needs AllowUnencrypted over HTTP
                return self._unauthorized()
            return data
        if res.respond:
            if res.status == 401:
                srv.stats.add("unauthorized")
            self._gss_res = None
            return self._send(res.status, res.body, extra=res.headers)
        self._gss_res = res
        if res.sealed:
            with srv.stats.lock:
                if srv.gss_tamper > 0:
                    srv.gss_tamper -= 1
                    conn.tamper_response = True
        return res.soap

    def _authorized(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return False
        try:
            raw = base64.b64decode(h[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        user, sep, pw = raw.partition(":")
        return bool(sep) and hmac.compare_digest(
            user.encode(), self.server.user.encode()) and \
            hmac.compare_digest(pw.encode(), self.server.password.encode())

    def _read_body(self, limit):
        n = self.headers.get("Content-Length")
        if n is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked(limit)
            self._send(411)
            return None
        try:
            n = int(n)
        except ValueError:
            self._send(400)
            return None
        if n < 0 or n > limit:
            self.close_connection = True
            self._send(413)
            return None
        return self.rfile.read(n)

    def _read_chunked(self, limit):
        out = b""
        while True:
            line = self.rfile.readline(64)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self._send(400)
                return None
            if size == 0:
                self.rfile.readline(64)
                return out
            if len(out) + size > limit:
                self.close_connection = True
                self._send(413)
                return None
            out += self.rfile.read(size)
            self.rfile.readline(64)

    # ---- routes ---------------------------------------------------------------
    def do_GET(self):
        if self.path == "/hvsim/stats":
            return self._json(200, self.server.stats.snapshot())
        if self.path == "/hvsim/faults":
            return self._json(200, {"rules": self.server.faults.describe()})
        if self.path == "/hvsim/vms":
            return self._json(200, {"vms": self.server.vms_info()})
        self._send(404)

    def do_DELETE(self):
        if self.path == "/hvsim/faults":
            self.server.faults.clear()
            return self._json(200, {"rules": []})
        self._send(404)

    def do_POST(self):
        if self.path == "/wsman":
            return self._wsman()
        if self.path == "/hvsim/gss/tamper":
            self._read_body(MAX_ADMIN_BODY)
            with self.server.stats.lock:
                self.server.gss_tamper += 1
            return self._json(200, {"tamper": self.server.gss_tamper})
        if self.path == "/hvsim/stats/reset":
            self._read_body(MAX_ADMIN_BODY)
            self.server.stats.reset()
            return self._json(200, self.server.stats.snapshot())
        if self.path.startswith("/hvsim/vms/"):
            return self._vm_admin()
        if self.path == "/hvsim/faults":
            body = self._read_body(MAX_ADMIN_BODY)
            if body is None:
                return None
            try:
                spec = json.loads(body or b"[]")
                rules = spec.get("rules") if isinstance(spec, dict) else spec
                if not isinstance(rules, list):
                    raise RuleError("expected a JSON list of rules or "
                                    '{"rules": [...]}')
                self.server.faults.replace(rules)
            except (ValueError, RuleError) as e:
                return self._json(400, {"error": str(e)})
            return self._json(200, {"rules": self.server.faults.describe()})
        self._send(404)

    def _vm_admin(self):
        """POST /hvsim/vms/NAME/state {"running": bool};
        POST /hvsim/vms/NAME/items {"guest": {..}, "intrinsic": {..}}
        (synthetic VMs: replaces what the VM publishes, no codec)."""
        body = self._read_body(MAX_ADMIN_BODY)
        if body is None:
            return None
        parts = self.path.split("/")
        if len(parts) != 5 or self.server.model is None:
            return self._send(404)
        name, what = parts[3], parts[4]
        vm = next((v for v in self.server.model.vms if v.name == name), None)
        if vm is None:
            return self._json(404, {"error": "no VM named %r" % name})
        try:
            spec = json.loads(body or b"{}")
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
            if what == "state":
                running = spec.get("running")
                if not isinstance(running, bool):
                    raise ValueError('"running" must be true or false')
                with vm.lock:
                    if running and not vm.running:
                        vm.started = time.time()
                    vm.running = running
                    vm.version += 1
                return self._json(200, {"name": name, "running": running})
            if what == "items":
                g = vm.guest
                if not hasattr(g, "static"):
                    raise ValueError("%s is not a synthetic VM" % name)
                for key in ("guest", "intrinsic"):
                    items = spec.get(key)
                    if items is None:
                        continue
                    if not isinstance(items, dict) or not all(
                            isinstance(k, str) and isinstance(v, str)
                            for k, v in items.items()):
                        raise ValueError('"%s" must map strings to strings'
                                         % key)
                    if key == "guest":
                        g.static = dict(items)
                    else:
                        g.intrinsic = dict(items)
                vm.set_guest_items(g.intrinsic_items(), g.guest_items())
                return self._json(200, {"name": name})
        except ValueError as e:
            return self._json(400, {"error": str(e)})
        return self._send(404)

    def _wsman(self):
        srv = self.server
        self._gss_res = None
        if srv.gss is not None:
            data = self._gss_accept()
            if data is None:
                return None
            return self._soap(data)
        if not self._authorized():
            # Drain the body so the connection stays usable (keep-alive).
            if self._read_body(srv.request_limit) is None:
                return None
            return self._unauthorized()
        data = self._read_body(srv.request_limit)
        if data is None:
            return None
        return self._soap(data)

    def _soap(self, data):
        srv = self.server
        try:
            req = parse_request(data)
        except RequestError as e:
            srv.stats.count("Invalid", None)
            return self._fault(e.fault, None, None)
        cls = req.cls
        if req.label in ("Pull", "Release"):
            cls = self._context_class(req) or cls
        srv.stats.count(req.label, cls)
        rules = srv.faults.pick(req.label, cls, req.method)
        if rules:
            srv.stats.add("faults_injected", len(rules))
        job_override = {}
        truncate = False
        delay = sum(r.delay for r in rules if r.kind == "latency")
        if delay:
            if req.timeout is not None and delay > req.timeout:
                # WinRM gives up after OperationTimeout with w:TimedOut
                time.sleep(req.timeout)
                return self._fault(fault_timed_out(), req.message_id,
                                   req.operation_id)
            time.sleep(delay)
        for r in rules:
            if r.kind == "auth":
                return self._unauthorized()
            if r.kind == "reset":
                return self._reset()
            if r.kind == "http500":
                return self._send(500)
            if r.kind == "soap_fault":
                ns, local = r.subcode.split(":", 1)
                return self._fault(Fault(
                    400 if r.sender else 500,
                    "Sender" if r.sender else "Receiver", (ns, local),
                    r.reason, r.code), req.message_id, req.operation_id)
            if r.kind == "truncate":
                truncate = True
            if r.kind == "slow_job":
                job_override["delay"] = r.delay
            if r.kind == "failed_job":
                job_override["fail"] = (r.error_code, r.error_description)
        try:
            status, body = srv.endpoint.handle(req, job_override or None)
        except RequestError as e:
            return self._fault(e.fault, req.message_id, req.operation_id)
        except Exception as e:  # noqa: BLE001 - a bug must still answer
            sys.stderr.write("hvsim: internal error on %s: %r\n"
                             % (req.label, e))
            return self._fault(fault_internal(str(e)), req.message_id,
                               req.operation_id)
        if truncate:
            return self._send(status, body, cut=max(1, len(body) // 2))
        return self._send(status, body)

    def _context_class(self, req):
        from hvsim_xml import NS_N, q
        for tag in ("Pull", "Release"):
            el = req.body.find(q(NS_N, tag))
            if el is not None:
                c = el.find(q(NS_N, "EnumerationContext"))
                if c is not None and c.text:
                    return self.server.endpoint.context_class(c.text.strip())
        return None

    def _fault(self, fault, relates_to, operation_id):
        srv = self.server
        srv.stats.add("soap_faults")
        body = fault.render(srv.endpoint.style, srv.machine, relates_to,
                            operation_id, srv.endpoint.wmi_fault_style
                            ).encode("utf-8")
        return self._send(fault.http_status, body)
