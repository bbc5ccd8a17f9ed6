"""request: turns the bytes of a WS-Management request into a Request,
parsing by namespace URI (never by prefix): WS-Addressing Action and
MessageID, wsman ResourceURI, SelectorSet, MaxEnvelopeSize,
OperationTimeout and Options, and which operation it is. A request that
cannot be parsed raises RequestError carrying the fault WinRM answers.
"""

import re

from .soap import (ACT_ENUMERATE, ACT_GET, ACT_PULL, ACT_RELEASE, NS_A, NS_N,
                   NS_P, NS_S, NS_W, NS_WSMID, parse_xml, q)
from .wsman_faults import (RequestError, fault_invalid_selectors,
                           fault_invalid_xml, fault_schema)

LABELS = {ACT_ENUMERATE: "Enumerate", ACT_PULL: "Pull",
          ACT_RELEASE: "Release", ACT_GET: "Get"}


class Request:
    """A parsed WS-Man request."""

    def __init__(self):
        self.action = None
        self.message_id = None
        self.operation_id = None
        self.resource_uri = None
        self.selectors = []
        self.max_envelope = None
        self.body = None
        self.label = "Unknown"
        self.cls = None
        self.method = None
        self.options = {}
        self.timeout = None     # wsman:OperationTimeout, seconds


def charset_of(content_type):
    """The charset parameter of a Content-Type, lower case ("utf-8" if
    none)."""
    m = re.search(r";\s*charset\s*=\s*\"?([A-Za-z0-9_-]+)", content_type or "",
                  re.I)
    return m.group(1).lower() if m else "utf-8"


def is_utf16(content_type):
    return charset_of(content_type) in ("utf-16", "utf-16le")


def utf8_body(data, content_type):
    """The request body as UTF-8: WinRM reads the charset of the request's
    Content-Type (UTF-8 or UTF-16, a byte order mark honoured, little
    endian without one)."""
    if not is_utf16(content_type):
        return data
    codec = "utf-16-le"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
        data = data[2:]
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeError as e:
        raise RequestError(fault_invalid_xml("the body is not %s: %s"
                                             % (codec.upper(), e)))


def text_of(el):
    """The stripped text of an element, None if there is no element."""
    return (el.text or "").strip() if el is not None else None


def parse_request(data):
    """Parses request bytes; raises RequestError with the fault to send."""
    try:
        root = parse_xml(data)
    except Exception as e:  # noqa: BLE001 - every parse error is a fault
        raise RequestError(fault_invalid_xml(str(e)))
    if root.tag != q(NS_S, "Envelope"):
        raise RequestError(fault_schema(
            "The root element is %s, not a SOAP 1.2 Envelope." % root.tag))
    body = root.find(q(NS_S, "Body"))
    if body is None:
        raise RequestError(fault_schema("The SOAP envelope has no Body."))
    r = Request()
    r.body = body
    hdr = root.find(q(NS_S, "Header"))
    if hdr is not None:
        _read_header(r, hdr)
    if r.action is None:
        if body.find(q(NS_WSMID, "Identify")) is not None:
            r.label = "Identify"
            return r
        raise RequestError(fault_schema(
            "The request has no WS-Addressing Action header."))
    if r.resource_uri is None:
        raise RequestError(fault_schema(
            "The request has no wsman:ResourceURI header."))
    _classify(r)
    return r


def _read_header(r, hdr):
    r.action = text_of(hdr.find(q(NS_A, "Action")))
    r.message_id = text_of(hdr.find(q(NS_A, "MessageID")))
    r.operation_id = text_of(hdr.find(q(NS_P, "OperationID")))
    r.resource_uri = text_of(hdr.find(q(NS_W, "ResourceURI")))
    mes = text_of(hdr.find(q(NS_W, "MaxEnvelopeSize")))
    if mes:
        try:
            r.max_envelope = int(mes)
        except ValueError:
            raise RequestError(fault_schema(
                "MaxEnvelopeSize %r is not a number." % mes))
    ot = text_of(hdr.find(q(NS_W, "OperationTimeout")))
    if ot:
        r.timeout = parse_duration(ot)
        if r.timeout is None:
            raise RequestError(fault_schema(
                "OperationTimeout %r is not an xs:duration." % ot))
    ss = hdr.find(q(NS_W, "SelectorSet"))
    if ss is not None:
        r.selectors = _selectors(ss)
    for opt in hdr.iter(q(NS_W, "Option")):
        r.options[opt.get("Name")] = text_of(opt)


def _classify(r):
    """Sets label, class and method from the Action and ResourceURI."""
    cls = r.resource_uri.rsplit("/", 1)[-1]
    r.cls = cls if cls != "*" else None
    if r.action in LABELS:
        r.label = LABELS[r.action]
        if r.label == "Enumerate" and r.cls is None:
            r.cls = _wql_class(r.body)
    elif r.action.startswith(r.resource_uri + "/"):
        r.method = r.action[len(r.resource_uri) + 1:]
        r.label = "Invoke:" + r.method
    else:
        r.label = "Other"


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?"
                       r"(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text):
    """xs:duration as WS-Man uses it (PT60.000S, PT1M30S) -> seconds."""
    m = _DURATION.match(text.strip())
    if not m or text.strip() in ("P", "PT"):
        return None
    d, h, mi, sec = m.groups()
    return (int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60
            + float(sec or 0))


def _wql_class(body):
    """The class a WQL Enumerate names (for statistics and fault rules)."""
    flt = body.find(q(NS_N, "Enumerate") + "/" + q(NS_W, "Filter"))
    if flt is None:
        return None
    m = re.search(r"\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)",
                  "".join(flt.itertext()), re.I)
    return m.group(1) if m else None


def _selectors(ss):
    out = []
    seen = set()
    for s in ss.findall(q(NS_W, "Selector")):
        name = s.get("Name")
        if not name:
            raise RequestError(fault_invalid_selectors(
                "InsufficientSelectors", "A selector has no Name."))
        if name.lower() in seen:
            raise RequestError(fault_invalid_selectors(
                "DuplicateSelectors", "Selector %s appears twice." % name))
        seen.add(name.lower())
        epr = s.find(q(NS_A, "EndpointReference"))
        out.append((name, text_of(s) if epr is None else epr))
    return out


def context_id(r):
    """The EnumerationContext a Pull or Release names, or None."""
    for tag in ("Pull", "Release"):
        el = r.body.find(q(NS_N, tag))
        if el is not None:
            return text_of(el.find(q(NS_N, "EnumerationContext")))
    return None
