"""gss: server side of WinRM's Kerberos / Negotiate / NTLM HTTP
authentication and message encryption (MS-WSMV 2.2.9.1) for the simulator.

WinRM authenticates TCP connections, not requests: keep one ConnAuth per
connection (e.g. on the BaseHTTPRequestHandler instance, which lives as long
as the keep-alive connection). For every POST call ``ConnAuth.process``:

    res = conn.process(headers, body, https=False)
    if res.respond:                      # 401 / 400 / 200-after-handshake
        send res.status, res.headers, res.body
    else:                                # res.soap is the plaintext request
        reply = handle(res.soap)
        status, hdrs, body = conn.reply(status, reply)   # sealed if needed

Acceptor credentials come from the environment as GSSAPI reads it:
KRB5_KTNAME (service keytab, principal HTTP/<host>), KRB5_CONFIG, and
NTLM_USER_FILE (gss-ntlmssp: DOMAIN:user:password lines).

Uses Debian's python3-gssapi (MIT krb5 + gss-ntlmssp). Basic authentication
is not handled here (``process`` returns ``basic=True`` and the caller checks
it).
"""

import base64
import re
import struct
import sys

try:
    import gssapi
    import gssapi.raw as graw
except ImportError:  # a non-Debian python3 first on PATH: use Debian's module
    sys.path.append("/usr/lib/python3/dist-packages")
    import gssapi
    import gssapi.raw as graw

BOUNDARY = b"Encrypted Boundary"
PROTO_SPNEGO = "application/HTTP-SPNEGO-session-encrypted"
PROTO_KERBEROS = "application/HTTP-Kerberos-session-encrypted"
SOAP_CTYPE = "application/soap+xml;charset=UTF-8"
NTLM_OID = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
NTLM_SIG_LEN = 16
MAX_TOKEN = 65536
MAX_SIG = 4096
MAX_BODY = 16 << 20
SCHEMES = ("Negotiate", "Kerberos")


class SealError(Exception):
    """A sealed body that is malformed or does not decrypt."""


class Result:
    def __init__(self, respond=False, status=200, headers=None, body=b"",
                 soap=None, sealed=False, basic=False, user=None,
                 original_type=None):
        self.respond = respond
        self.status = status
        self.headers = headers or []
        self.body = body
        self.soap = soap
        self.sealed = sealed
        self.basic = basic
        self.user = user
        # the type (with its charset) of a sealed request, from its
        # OriginalContent line
        self.original_type = original_type


def content_type(protocol):
    return 'multipart/encrypted;protocol="%s";boundary="%s"' % (
        protocol, BOUNDARY.decode())


def build(protocol, orig_len, sig, data, ctype=SOAP_CTYPE):
    """The multipart/encrypted body (MS-WSMV 2.2.9.1.1.2); ctype, the
    type of the sealed message, carries its charset."""
    b = b"--" + BOUNDARY + b"\r\n"
    return (b + b"\tContent-Type: " + protocol.encode() + b"\r\n"
            + b"\tOriginalContent: type=" + ctype.encode()
            + b";Length=" + str(orig_len).encode() + b"\r\n"
            + b + b"\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<I", len(sig)) + sig + data
            + b"--" + BOUNDARY + b"--\r\n")


_PARAM = re.compile(r'\s*([A-Za-z-]+)\s*=\s*("([^"]*)"|[^;]*)\s*(;|$)')


def _params(s):
    out = {}
    pos = 0
    while pos < len(s):
        m = _PARAM.match(s, pos)
        if not m or m.end() == pos:
            raise SealError("malformed parameters: %r" % s[:80])
        out[m.group(1).lower()] = (m.group(3) if m.group(3) is not None
                                   else m.group(2).strip())
        pos = m.end()
    return out


def parse(ctype, body):
    """-> (protocol, orig_len, sig, data); raises SealError."""
    if len(body) > MAX_BODY + 4096:
        raise SealError("body over the size limit")
    head, _, rest = ctype.partition(";")
    if head.strip().lower() != "multipart/encrypted":
        raise SealError("not multipart/encrypted")
    p = _params(rest)
    proto = p.get("protocol", "")
    if proto.lower() not in (PROTO_SPNEGO.lower(), PROTO_KERBEROS.lower()):
        raise SealError("unsupported protocol %r" % proto[:80])
    bnd = p.get("boundary", "").encode()
    if not bnd or len(bnd) > 70:
        raise SealError("bad boundary")
    delim = b"--" + bnd + b"\r\n"
    if not body.startswith(delim):
        raise SealError("body does not start with the boundary")
    second = body.find(delim, len(delim))
    if second < 0 or second > 4096:
        raise SealError("second part not found")
    orig_len = _part1(body[len(delim):second], proto)
    sig, data = _part2(body[second + len(delim):], bnd)
    return proto, orig_len, sig, data


def _part1(part, proto):
    """The OriginalContent Length of the first part (whose Content-Type
    must be the protocol)."""
    orig_len = None
    ct_ok = False
    for line in part.split(b"\r\n"):
        if not line:
            continue
        name, sep, val = line.strip().partition(b":")
        if not sep:
            raise SealError("malformed header line in part 1")
        name = name.strip().lower()
        val = val.strip().decode("ascii", "replace")
        if name == b"content-type":
            ct_ok = val.lower() == proto.lower()
        elif name == b"originalcontent":
            ln = _params(val).get("length", "")
            if not ln.isdigit() or int(ln) > MAX_BODY:
                raise SealError("bad OriginalContent Length")
            orig_len = int(ln)
    if not ct_ok or orig_len is None:
        raise SealError("part 1 lacks Content-Type or OriginalContent")
    return orig_len


def _part2(rest, bnd):
    """(signature, encrypted data) of the second part up to the closing
    boundary."""
    eol = rest.find(b"\r\n", 0, 512)
    if eol < 0:
        raise SealError("part 2 header missing")
    name, _, val = rest[:eol].strip().partition(b":")
    if (name.strip().lower() != b"content-type"
            or val.strip().lower() != b"application/octet-stream"):
        raise SealError("part 2 is not application/octet-stream")
    payload = rest[eol + 2:]
    end = b"--" + bnd + b"--"
    if payload.endswith(b"\r\n"):
        payload = payload[:-2]
    if not payload.endswith(end):
        raise SealError("no closing boundary")
    payload = payload[:-len(end)]
    if len(payload) < 4:
        raise SealError("encrypted part too short")
    siglen = struct.unpack("<I", payload[:4])[0]
    if siglen == 0 or siglen > MAX_SIG or siglen > len(payload) - 4:
        raise SealError("bad signature length %d" % siglen)
    return payload[4:4 + siglen], payload[4 + siglen:]


def original_type(body):
    """The OriginalContent type of a (parsed, valid) sealed body, e.g.
    application/soap+xml;charset=UTF-16."""
    m = re.search(rb"OriginalContent:\s*type=([^\r\n]*?);\s*Length=",
                  body[:4096], re.I)
    return m.group(1).decode("ascii", "replace") if m else SOAP_CTYPE


def _offered(authz):
    scheme, _, tok = (authz or "").strip().partition(" ")
    return scheme, tok.strip()


class ConnAuth:
    """Authentication and sealing state of one HTTP connection."""

    def __init__(self, schemes=SCHEMES, allow_unencrypted=False, basic=True):
        self.schemes = schemes
        self.allow_unencrypted = allow_unencrypted
        self.basic = basic
        self.ctx = None
        self.scheme = None
        self.complete = False
        self.user = None
        # Test hooks: corrupt the next sealed response (decryption failure
        # on the client).
        self.tamper_response = False

    def challenge(self):
        h = [("WWW-Authenticate", s) for s in self.schemes]
        if self.basic:
            h.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        return h

    def _reject(self):
        self.ctx = None
        self.complete = False
        return Result(respond=True, status=401, headers=self.challenge())

    @property
    def protocol(self):
        return PROTO_KERBEROS if self.scheme == "Kerberos" else PROTO_SPNEGO

    @property
    def is_ntlm(self):
        return self.ctx is not None and self.ctx.mech == NTLM_OID

    def process(self, headers, body, https=False):
        authz = headers.get("Authorization")
        scheme, tok = _offered(authz)
        if authz and scheme.lower() == "basic":
            return Result(basic=True)
        if authz and scheme in self.schemes:
            if not tok or len(tok) > MAX_TOKEN * 4 // 3 + 4:
                return self._reject()
            try:
                intok = base64.b64decode(tok, validate=True)
            except ValueError:
                return self._reject()
            if self.ctx is None or self.complete:
                self.ctx = gssapi.SecurityContext(usage="accept")
                self.complete = False
                self.scheme = scheme
            try:
                out = self.ctx.step(intok)
            except gssapi.exceptions.GSSError:
                return self._reject()
            if not self.ctx.complete:
                return Result(respond=True, status=401, headers=[
                    ("WWW-Authenticate",
                     "%s %s" % (scheme, base64.b64encode(out or b"").decode()))])
            self.complete = True
            self.user = str(self.ctx.initiator_name).rstrip("\x00 ")
            mutual = ([("WWW-Authenticate",
                        "%s %s" % (scheme, base64.b64encode(out).decode()))]
                      if out else [])
            if not body:
                return Result(respond=True, status=200, headers=mutual)
            res = self._request(headers, body, https)
            res.headers = mutual + res.headers
            return res
        if authz or not self.complete:
            return self._reject()
        return self._request(headers, body, https)

    def _request(self, headers, body, https):
        ctype = headers.get("Content-Type", "")
        if ctype.strip().lower().startswith("multipart/encrypted"):
            try:
                proto, orig_len, sig, data = parse(ctype, body)
                if proto.lower() != self.protocol.lower():
                    raise SealError("protocol %s on a %s session"
                                    % (proto, self.protocol))
                plain = graw.unwrap(self.ctx, sig + data).message
                if len(plain) != orig_len:
                    raise SealError("length mismatch")
            except (SealError, gssapi.exceptions.GSSError) as e:
                # WinRM answers an undecryptable message with a bare 400.
                return Result(respond=True, status=400,
                              headers=[("X-Hvsim-Error", str(e)[:200])])
            return Result(soap=plain, sealed=True, user=self.user,
                          original_type=original_type(body))
        if not body:
            return Result(respond=True, status=200)
        if not https and not self.allow_unencrypted:
            # AllowUnencrypted=false: plaintext over HTTP is refused.
            self.ctx = None
            self.complete = False
            return Result(respond=True, status=401, headers=self.challenge())
        return Result(soap=body, sealed=False, user=self.user)

    def seal(self, soap, ctype=SOAP_CTYPE):
        """-> (content_type, body) of a sealed message of type ctype."""
        if self.is_ntlm:
            tok = graw.wrap(self.ctx, soap, True).message
            sig, data = tok[:NTLM_SIG_LEN], tok[NTLM_SIG_LEN:]
        else:
            iov = graw.IOV(graw.IOVBufferType.header, soap,
                           graw.IOVBufferType.padding, std_layout=False)
            graw.wrap_iov(self.ctx, iov, confidential=True)
            sig = iov[0].value
            data = iov[1].value + (iov[2].value or b"")
        if self.tamper_response:
            self.tamper_response = False
            data = bytes([data[0] ^ 0x55]) + data[1:]
        return content_type(self.protocol), build(self.protocol, len(soap),
                                                  sig, data, ctype)

    def reply(self, res, soap, ctype=SOAP_CTYPE):
        """-> (headers, body) for the answer to request `res`."""
        if res.sealed:
            ct, body = self.seal(soap, ctype)
            return [("Content-Type", ct)], body
        return [("Content-Type", ctype)], soap
