"""httpserver: the HTTP(S) front of the simulator: HTTP/1.1 keep-alive as
WinRM (Microsoft-HTTPAPI/2.0) answers it, Basic authentication, or
Kerberos / Negotiate / NTLM with MS-WSMV sealing through gss.py, /wsman
(SOAP, with fault injection from fault_injection.py) and the admin API
under /hvsim/ (admin.py).
"""

import base64
import hmac
import json
import socket
import ssl
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import admin
from .fault_injection import Injection
from .request import context_id, is_utf16, parse_request, utf8_body
from .wsman_faults import (Fault, RequestError, fault_internal,
                           fault_timed_out)

SOAP_CT = "application/soap+xml;charset=UTF-8"
SOAP_CT16 = "application/soap+xml;charset=UTF-16"
ONE_WRITE_MAX = 65536


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, endpoint, faults, user, password, machine,
                 model, verbose=False, auth="basic",
                 allow_unencrypted=False):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, Handler)
        # auth "negotiate": Kerberos / Negotiate (SPNEGO, NTLM) with MS-WSMV
        # message sealing through gss.py (python3-gssapi), plus Basic;
        # "basic": Basic only (Negotiate is still offered, as WinRM does).
        self.model = model
        self.auth = auth
        self.allow_unencrypted = allow_unencrypted
        self.https = False
        self.gss = None
        self.gss_tamper = 0  # sealed responses to corrupt (test hook)
        if auth == "negotiate":
            from . import gss
            self.gss = gss
        self.endpoint = endpoint
        self.faults = faults
        self.user = user
        self.password = password
        self.machine = machine
        self.verbose = verbose
        self.stats = admin.Stats()
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

    # ---- sending ------------------------------------------------------------
    def send(self, status, body=b"", ctype=SOAP_CT, extra=(), cut=None):
        """Sends one answer; a SOAP body goes out in UTF-16LE (no byte
        order mark) when the request was UTF-16 or a utf16 fault fired, and
        sealed inside a GSS session if the request was. cut: send only that
        many bytes, then close."""
        if body and ctype == SOAP_CT and getattr(self, "_utf16", False):
            body = body.decode("utf-8").encode("utf-16-le")
            ctype = SOAP_CT16
        res = getattr(self, "_gss_res", None)
        if res is not None and body and ctype in (SOAP_CT, SOAP_CT16):
            self._gss_res = None
            hdrs, body = self._conn_auth.reply(res, body, ctype)
            ctype = dict(hdrs)["Content-Type"]
            # A login completed by this request: its mutual-authentication
            # token (WWW-Authenticate: Negotiate <token>) goes on this answer.
            extra = list(res.headers) + list(extra)
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cut is None and len(body) <= ONE_WRITE_MAX and hasattr(
                self, "_headers_buffer"):
            # one write for headers and body
            self._headers_buffer.append(b"\r\n" + body)
            self.flush_headers()
        else:
            self.end_headers()
            self._write_body(body, cut)
        if cut is None:
            self.server.stats.add("bytes_out", len(body))

    def _write_body(self, body, cut):
        if cut is None:
            if body:
                self.wfile.write(body)
            return
        self.wfile.write(body[:cut])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_json(self, status, obj):
        self.send(status, (json.dumps(obj, sort_keys=True) + "\n").encode(),
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

    # ---- reading ------------------------------------------------------------
    def read_body(self, limit):
        """The request body, or None after answering 400/411/413."""
        n = self.headers.get("Content-Length")
        if n is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked(limit)
            self.send(411)
            return None
        try:
            n = int(n)
        except ValueError:
            self.send(400)
            return None
        if n < 0 or n > limit:
            self.close_connection = True
            self.send(413)
            return None
        return self.rfile.read(n)

    def _read_chunked(self, limit):
        out = b""
        while True:
            line = self.rfile.readline(64)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.send(400)
                return None
            if size == 0:
                self.rfile.readline(64)
                return out
            if len(out) + size > limit:
                self.close_connection = True
                self.send(413)
                return None
            out += self.rfile.read(size)
            self.rfile.readline(64)

    # ---- authentication -----------------------------------------------------
    def _unauthorized(self):
        self.server.stats.add("unauthorized")
        self._gss_res = None
        if self.server.gss is not None:
            conn = self._conn_auth_get()
            conn.ctx, conn.complete = None, False
            return self.send(401, extra=conn.challenge())
        self.send(401, extra=[("WWW-Authenticate", "Negotiate"),
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
        data = self.read_body(srv.request_limit)
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
            return self.send(res.status, res.body, extra=res.headers)
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

    # ---- routes -------------------------------------------------------------
    def do_GET(self):
        admin.do_get(self)

    def do_DELETE(self):
        admin.do_delete(self)

    def do_POST(self):
        if self.path == "/wsman":
            return self._wsman()
        return admin.do_post(self)

    def _wsman(self):
        srv = self.server
        self._gss_res = None
        self._utf16 = False
        if srv.gss is not None:
            data = self._gss_accept()
            if data is None:
                return None
            res = self._gss_res
            sealed = res is not None and res.sealed
            return self._soap(data, res.original_type if sealed else
                              self.headers.get("Content-Type"))
        if not self._authorized():
            # Drain the body so the connection stays usable (keep-alive).
            if self.read_body(srv.request_limit) is None:
                return None
            return self._unauthorized()
        data = self.read_body(srv.request_limit)
        if data is None:
            return None
        return self._soap(data, self.headers.get("Content-Type"))

    # ---- SOAP ---------------------------------------------------------------
    def _soap(self, data, content_type):
        """Answers one SOAP request (content_type: that of the request, or
        of the sealed message)."""
        srv = self.server
        self._utf16 = is_utf16(content_type)
        try:
            req = parse_request(utf8_body(data, content_type))
        except RequestError as e:
            srv.stats.count("Invalid", None)
            return self._fault(e.fault, None)
        cls = req.cls
        if req.label in ("Pull", "Release"):
            cls = srv.endpoint.context_class(context_id(req)) or cls
        srv.stats.count(req.label, cls)
        rules = srv.faults.pick(req.label, cls, req.method)
        if rules:
            srv.stats.add("faults_injected", len(rules))
        inj = Injection(rules)
        self._utf16 = self._utf16 or inj.utf16
        if inj.delay:
            if req.timeout is not None and inj.delay > req.timeout:
                # WinRM gives up after OperationTimeout with w:TimedOut
                time.sleep(req.timeout)
                return self._fault(fault_timed_out(), req)
            time.sleep(inj.delay)
        if inj.answer is not None:
            return self._injected_answer(inj.answer, req)
        try:
            status, body = srv.endpoint.handle(req, inj)
        except RequestError as e:
            return self._fault(e.fault, req)
        except Exception as e:  # noqa: BLE001 - a bug must still answer
            sys.stderr.write("hvsim: internal error on %s: %r\n"
                             % (req.label, e))
            return self._fault(fault_internal(str(e)), req)
        cut = max(1, len(body) // 2) if inj.truncate else None
        return self.send(status, body, cut=cut)

    def _injected_answer(self, rule, req):
        if rule.kind == "auth":
            return self._unauthorized()
        if rule.kind == "reset":
            return self._reset()
        if rule.kind == "http500":
            return self.send(500)
        ns, local = rule.subcode.split(":", 1)
        return self._fault(Fault(
            400 if rule.sender else 500,
            "Sender" if rule.sender else "Receiver", (ns, local),
            rule.reason, rule.code), req)

    def _fault(self, fault, req):
        srv = self.server
        srv.stats.add("soap_faults")
        relates_to = req.message_id if req is not None else None
        operation_id = req.operation_id if req is not None else None
        body = fault.render(srv.endpoint.style, srv.machine, relates_to,
                            operation_id, srv.endpoint.wmi_fault_style
                            ).encode("utf-8")
        return self.send(fault.http_status, body)
