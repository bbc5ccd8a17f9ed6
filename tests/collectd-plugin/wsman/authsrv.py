#!/usr/bin/env python3
"""authsrv.py - a minimal WinRM-like HTTP(S) endpoint for the auth tests.

It authenticates connections with contrib/hvsim/hvsimlib/gss.py (Kerberos,
Negotiate/SPNEGO, NTLM through GSSAPI; Basic against --user/--password),
refuses unencrypted SOAP over plain HTTP (AllowUnencrypted=false) unless
--allow-unencrypted, and answers each POST with an "echo" envelope holding
the request text and the authenticated user, sealed when the request was.

  authsrv.py --port 0 [--https CERT KEY] [--user U --password P]
             [--allow-unencrypted] [--schemes Negotiate,Kerberos]

Prints "authsrv: listening on URL" when ready. Test hooks (plain HTTP
admin requests, no auth): POST /admin/tamper corrupts the next sealed
response, POST /admin/corrupt-request the next sealed request (as if
damaged on the way: the server answers a bare 400 as WinRM does);
GET /admin/stats -> JSON counters.
"""
import argparse
import base64
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "contrib", "hvsim"))
from hvsimlib import gss  # noqa: E402

MAX_REQUEST = 1 << 20


class State:
    lock = threading.Lock()
    tamper = 0
    corrupt = 0
    stats = {"requests": 0, "sealed": 0, "plain": 0, "refused": 0,
             "bad_seal": 0, "auth_legs": 0}


def make_handler(args):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.auth = gss.ConnAuth(
                schemes=tuple(args.schemes.split(",")),
                allow_unencrypted=args.allow_unencrypted, basic=True)

        def log_message(self, fmt, *a):
            if args.verbose:
                sys.stderr.write("authsrv: " + (fmt % a) + "\n")

        def send(self, status, headers, body=b""):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/admin/stats":
                with State.lock:
                    body = json.dumps(State.stats).encode()
                self.send(200, [("Content-Type", "application/json")], body)
            else:
                self.send(404, [])

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0") or "0")
            if n < 0 or n > MAX_REQUEST:
                self.send(413, [])
                self.close_connection = True
                return
            body = self.rfile.read(n)
            if self.path in ("/admin/tamper", "/admin/corrupt-request"):
                with State.lock:
                    if self.path == "/admin/tamper":
                        State.tamper += 1
                    else:
                        State.corrupt += 1
                self.send(200, [])
                return
            with State.lock:
                if State.corrupt and self.headers.get(
                        "Content-Type", "").startswith("multipart/encrypted"):
                    State.corrupt -= 1
                    body = body[:-40] + bytes([body[-40] ^ 1]) + body[-39:]
            with State.lock:
                State.stats["requests"] += 1
            res = self.auth.process(self.headers, body,
                                    https=bool(args.https))
            if res.basic:
                res = self.basic(body)
            if res.respond:
                with State.lock:
                    if res.status == 401 and self.headers.get("Authorization"):
                        State.stats["auth_legs"] += 1
                    if res.status == 401 and body:
                        State.stats["refused"] += 1
                    if res.status == 400:
                        State.stats["bad_seal"] += 1
                self.send(res.status, res.headers, res.body)
                return
            with State.lock:
                State.stats["sealed" if res.sealed else "plain"] += 1
                if res.sealed and State.tamper:
                    State.tamper -= 1
                    self.auth.tamper_response = True
            reply = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/'
                     'soap-envelope"><s:Body><echo user="%s" sealed="%d">'
                     % (res.user, int(res.sealed))).encode()
            reply += res.soap + b"</echo></s:Body></s:Envelope>"
            hdrs, out = self.auth.reply(res, reply)
            self.send(200, res.headers + hdrs, out)

        def basic(self, body):
            scheme, _, tok = self.headers.get("Authorization", "").partition(" ")
            try:
                user, _, pw = base64.b64decode(tok).decode().partition(":")
            except ValueError:
                user, pw = None, None
            if (not bool(args.https) and not args.allow_unencrypted) or \
                    user != args.user or pw != args.password:
                return gss.Result(respond=True, status=401,
                                  headers=self.auth.challenge())
            return gss.Result(soap=body, sealed=False, user=user)

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--https", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--user", default="basicuser")
    ap.add_argument("--password", default="")
    ap.add_argument("--allow-unencrypted", action="store_true")
    ap.add_argument("--schemes", default="Negotiate,Kerberos")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args))
    srv.daemon_threads = True
    scheme = "http"
    if args.https:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.https[0], args.https[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        scheme = "https"
    print("authsrv: listening on %s://localhost:%d/wsman"
          % (scheme, srv.server_address[1]), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
