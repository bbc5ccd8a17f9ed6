"""hvsim_wsman: the WS-Management operations of the simulator.

parse_request() turns the request bytes into a Request (parsing by namespace
URI, never by prefix); Endpoint.handle() answers Enumerate / Pull / Release
(WS-Enumeration with wsman:OptimizeEnumeration), Get (WS-Transfer), Invoke
(AddKvpItems / ModifyKvpItems / RemoveKvpItems) and Identify, with the
faults WinRM answers (see hvsim_xml's catalogue). Every response is cut to
the request's wsman:MaxEnvelopeSize.
"""

import re
import threading
import time
import uuid

import hvsim_wql
from hvsim_model import (KVP_MAX_ITEMS_PER_CALL, RV_INVALID_PARAM,
                         DataItemError, class_uri, parse_data_item,
                         render_any, render_epr)
from hvsim_xml import (ACT_ENUMERATE, ACT_GET, ACT_PULL, ACT_RELEASE,
                       DIALECT_WQL, NS_A, NS_N, NS_P, NS_S, NS_W, NS_WSMID,
                       NS_X, NS_XSI, NS_CIM, PREFIX_STYLES, WMI_V2,
                       CIM_NAMESPACE,
                       RequestError, envelope, fault_action_not_supported,
                       fault_cannot_process_filter, fault_dialect_unavailable,
                       fault_destination_unreachable, fault_encoding_limit,
                       fault_invalid_context, fault_invalid_selectors,
                       fault_invalid_xml, fault_not_found, fault_quota,
                       fault_schema,
                       parse_xml, q)

DEFAULT_MAX_ENVELOPE = 512000   # Windows MaxEnvelopeSizekb default 500
MAX_CONTEXTS = 1500             # like WinRM's MaxConcurrentOperationsPerUser
MIN_MAX_ENVELOPE = 8192
METHODS = ("AddKvpItems", "ModifyKvpItems", "RemoveKvpItems")
SERVICE = "Msvm_VirtualSystemManagementService"


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


def _text(el):
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
    hdr = root.find(q(NS_S, "Header"))
    body = root.find(q(NS_S, "Body"))
    if body is None:
        raise RequestError(fault_schema("The SOAP envelope has no Body."))
    r = Request()
    r.body = body
    if hdr is not None:
        r.action = _text(hdr.find(q(NS_A, "Action")))
        r.message_id = _text(hdr.find(q(NS_A, "MessageID")))
        r.operation_id = _text(hdr.find(q(NS_P, "OperationID")))
        r.resource_uri = _text(hdr.find(q(NS_W, "ResourceURI")))
        mes = _text(hdr.find(q(NS_W, "MaxEnvelopeSize")))
        if mes:
            try:
                r.max_envelope = int(mes)
            except ValueError:
                raise RequestError(fault_schema(
                    "MaxEnvelopeSize %r is not a number." % mes))
        ot = _text(hdr.find(q(NS_W, "OperationTimeout")))
        if ot:
            r.timeout = parse_duration(ot)
            if r.timeout is None:
                raise RequestError(fault_schema(
                    "OperationTimeout %r is not an xs:duration." % ot))
        ss = hdr.find(q(NS_W, "SelectorSet"))
        if ss is not None:
            r.selectors = _selectors(ss)
        for opt in hdr.iter(q(NS_W, "Option")):
            r.options[opt.get("Name")] = _text(opt)
    if r.action is None:
        if body.find(q(NS_WSMID, "Identify")) is not None:
            r.label = "Identify"
            return r
        raise RequestError(fault_schema(
            "The request has no WS-Addressing Action header."))
    if r.resource_uri is None:
        raise RequestError(fault_schema(
            "The request has no wsman:ResourceURI header."))
    cls = r.resource_uri.rsplit("/", 1)[-1]
    r.cls = cls if cls != "*" else None
    if r.action == ACT_ENUMERATE:
        r.label = "Enumerate"
        if r.cls is None:
            r.cls = _wql_class(body)
    elif r.action == ACT_PULL:
        r.label = "Pull"
    elif r.action == ACT_RELEASE:
        r.label = "Release"
    elif r.action == ACT_GET:
        r.label = "Get"
    elif r.action.startswith(r.resource_uri + "/"):
        r.method = r.action[len(r.resource_uri) + 1:]
        r.label = "Invoke:" + r.method
    else:
        r.label = "Other"
    return r


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
        out.append((name, _text(s) if epr is None else epr))
    return out


class EnumContext:
    def __init__(self, cls, items, selected, mode):
        self.id = "uuid:" + str(uuid.uuid4()).upper()
        self.cls = cls
        self.items = items
        self.pos = 0
        self.selected = selected
        self.mode = mode
        self.used = time.monotonic()
        self.busy = False


class Endpoint:
    """Answers WS-Man requests against a Model."""

    def __init__(self, model, style="windows", enum_timeout=60.0,
                 max_batch_items=32000, max_envelope=DEFAULT_MAX_ENVELOPE,
                 wmi_fault_style="cim"):
        self.model = model
        self.wmi_fault_style = wmi_fault_style
        self.style = style
        self.enum_timeout = enum_timeout
        self.max_batch_items = max_batch_items
        self.server_max_envelope = max_envelope
        self.contexts = {}
        self.lock = threading.Lock()

    # ---- helpers -----------------------------------------------------------
    def context_class(self, ctx_id):
        with self.lock:
            c = self.contexts.get(ctx_id)
            return c.cls if c else None

    def _limit(self, r):
        lim = r.max_envelope or DEFAULT_MAX_ENVELOPE
        lim = min(lim, self.server_max_envelope)
        return max(lim, MIN_MAX_ENVELOPE)

    def _respond(self, r, action, body, extra_ns=()):
        return envelope(self.style, action, body, r.message_id,
                        r.operation_id, extra_ns).encode("utf-8")

    def _class_check(self, r, cls):
        if cls not in self.model.CLASSES:
            raise RequestError(fault_destination_unreachable(
                r.resource_uri, "The WS-Management service cannot process "
                "the request. The WMI service returned an 'invalid class' "
                "error. "))

    def _purge(self):
        now = time.monotonic()
        with self.lock:
            for k in [k for k, c in self.contexts.items()
                      if not c.busy and now - c.used > self.enum_timeout]:
                del self.contexts[k]

    def _store(self, ctx):
        with self.lock:
            if ctx.id not in self.contexts and \
                    len(self.contexts) >= MAX_CONTEXTS:
                raise RequestError(fault_quota(
                    "The WS-Management service cannot process the request: "
                    "%d enumeration contexts are open. Release or finish "
                    "some. " % MAX_CONTEXTS))
            self.contexts[ctx.id] = ctx

    # ---- dispatch ------------------------------------------------------------
    def handle(self, r, job_override=None):
        """Returns (http_status, body bytes). Raises RequestError."""
        if r.label == "Identify":
            return 200, self._identify()
        if not r.resource_uri.startswith(WMI_V2 + "/"):
            raise RequestError(fault_destination_unreachable(
                r.resource_uri, "The WS-Management service cannot process "
                "the request. The resource URI is not in the "
                "root/virtualization/v2 namespace. "))
        if r.label == "Enumerate":
            return 200, self._enumerate(r)
        if r.label == "Pull":
            return 200, self._pull(r)
        if r.label == "Release":
            return 200, self._release(r)
        if r.label == "Get":
            return 200, self._get(r)
        if r.label.startswith("Invoke:"):
            return 200, self._invoke(r, job_override)
        raise RequestError(fault_action_not_supported(r.action))

    def _identify(self):
        body = ('<wsmid:IdentifyResponse xmlns:wsmid="%s"><wsmid:'
                "ProtocolVersion>%s</wsmid:ProtocolVersion><wsmid:ProductVendor>"
                "Microsoft Corporation</wsmid:ProductVendor><wsmid:"
                "ProductVersion>OS: 10.0.20348 SP: 0.0 Stack: 3.0</wsmid:"
                "ProductVersion></wsmid:IdentifyResponse>" % (NS_WSMID, NS_W))
        s = PREFIX_STYLES[self.style]["s"]
        return ('<%s:Envelope xml:lang="en-US" xmlns:%s="%s"><%s:Header/>'
                "<%s:Body>%s</%s:Body></%s:Envelope>" % (
                    s, s, NS_S, s, s, body, s, s)).encode("utf-8")

    # ---- Enumerate / Pull / Release -----------------------------------------
    def _enumerate(self, r):
        self._purge()
        en = r.body.find(q(NS_N, "Enumerate"))
        if en is None:
            raise RequestError(fault_schema(
                "The Enumerate action has no wsen:Enumerate body."))
        optimize = en.find(q(NS_W, "OptimizeEnumeration")) is not None
        max_el = _text(en.find(q(NS_W, "MaxElements")))
        mode = _text(en.find(q(NS_W, "EnumerationMode"))) or "Object"
        if mode not in ("Object", "EnumerateEPR", "EnumerateObjectAndEPR"):
            raise RequestError(fault_schema(
                "EnumerationMode %s is not valid." % mode))
        flt = en.find(q(NS_W, "Filter"))
        selected = None
        if flt is not None:
            dialect = flt.get("Dialect") or DIALECT_WQL
            if dialect != DIALECT_WQL:
                raise RequestError(fault_dialect_unavailable(dialect))
            query_text = "".join(flt.itertext()).strip()
            cls, items, selected = self._wql(r, query_text)
        else:
            if r.resource_uri.endswith("/*"):
                raise RequestError(fault_schema(
                    "An enumeration of %s needs a WQL filter."
                    % r.resource_uri))
            cls = r.cls
            self._class_check(r, cls)
            items = self.model.instances(cls)
        r.cls = cls
        ctx = EnumContext(cls, items, selected, mode)
        pf = PREFIX_STYLES[self.style]
        n, w = pf["n"], pf["w"]
        if not optimize:
            self._store(ctx)
            body = ("<%s:EnumerateResponse><%s:EnumerationContext>%s</%s:"
                    "EnumerationContext></%s:EnumerateResponse>" % (
                        n, n, ctx.id, n, n))
            return self._respond(r, ACT_ENUMERATE + "Response", body,
                                 [("n", NS_N)])
        max_items = self._max_elements(max_el)
        return self._batch(r, ctx, max_items, ACT_ENUMERATE + "Response",
                           "EnumerateResponse", w)

    def _max_elements(self, text):
        if text is None:
            return 1
        try:
            v = int(text)
        except ValueError:
            raise RequestError(fault_schema("MaxElements %r is not a "
                                            "number." % text))
        if v < 1:
            raise RequestError(fault_schema("MaxElements must be >= 1."))
        return min(v, self.max_batch_items)

    def _wql(self, r, text):
        try:
            query = hvsim_wql.parse(text)
        except hvsim_wql.WqlError as e:
            raise RequestError(fault_cannot_process_filter(
                "The WS-Management service cannot process the request. The "
                "WQL query is invalid: %s " % e, text))
        if not r.resource_uri.endswith("/*"):
            raise RequestError(fault_cannot_process_filter(
                "The WS-Management service cannot process the request. A "
                "WQL enumeration must use the resource URI %s/*. " % WMI_V2,
                text))
        cls = next((c for c in self.model.CLASSES
                    if c.lower() == query.cls.lower()), None)
        if cls is None:
            raise RequestError(fault_cannot_process_filter(
                "The specified class does not exist in the given namespace. ",
                text))
        known = {p.lower(): p for p in self.model.property_names(cls)}
        for name in hvsim_wql.props_used(query):
            if name.lower() not in known:
                raise RequestError(fault_cannot_process_filter(
                    "The WS-Management service cannot process the request. "
                    "The WQL query is invalid: property %s is not a member "
                    "of %s. " % (name, cls), text))
        items = []
        for inst in self.model.instances(cls):
            if query.where is not None:
                props = inst.props
                lowered = {k.lower(): v for k, v in props.items()}
                if not query.matches(lambda n: lowered.get(n.lower())):
                    continue
            items.append(inst)
        selected = None
        if query.props is not None:
            selected = frozenset(query.names())
        return cls, items, selected

    def _render_item(self, ctx, inst):
        pf = PREFIX_STYLES[self.style]
        if ctx.mode == "EnumerateEPR":
            return render_epr(self.style, ctx.cls, inst.selectors())
        obj = render_any(self.style, inst, ctx.selected)
        if ctx.mode == "EnumerateObjectAndEPR":
            w = pf["w"]
            return "<%s:Item>%s%s</%s:Item>" % (
                w, obj, render_epr(self.style, ctx.cls, inst.selectors()), w)
        return obj

    def _batch(self, r, ctx, max_items, action, wrapper, items_prefix):
        """Renders the next batch of ctx; stores ctx if not finished."""
        pf = PREFIX_STYLES[self.style]
        n = pf["n"]
        limit = self._limit(r)
        # Upper bound of the envelope without items: context + EndOfSequence.
        skeleton = self._respond(r, action, (
            "<{n}:{wr}><{n}:EnumerationContext>{c}</{n}:EnumerationContext>"
            "<{ip}:Items></{ip}:Items><{ip}:EndOfSequence/></{n}:{wr}>"
        ).format(n=n, wr=wrapper, c=ctx.id, ip=items_prefix),
            [("n", NS_N)])
        budget = limit - len(skeleton)
        chunks, used = [], 0
        start = ctx.pos
        while ctx.pos < len(ctx.items) and len(chunks) < max_items:
            text = self._render_item(ctx, ctx.items[ctx.pos]).encode("utf-8")
            if used + len(text) > budget:
                break
            chunks.append(text)
            used += len(text)
            ctx.pos += 1
        if ctx.pos < len(ctx.items) and ctx.pos == start:
            ctx.pos = start
            raise RequestError(fault_encoding_limit(limit))
        done = ctx.pos >= len(ctx.items)
        if done:
            with self.lock:
                self.contexts.pop(ctx.id, None)
            ctx_xml = ("<%s:EnumerationContext></%s:EnumerationContext>" % (
                n, n) if wrapper == "EnumerateResponse" else "")
        else:
            ctx.used = time.monotonic()
            self._store(ctx)
            ctx_xml = "<%s:EnumerationContext>%s</%s:EnumerationContext>" % (
                n, ctx.id, n)
        ip = items_prefix
        head = ("<%s:%s>%s<%s:Items>" % (n, wrapper, ctx_xml, ip)).encode()
        tail = ("</%s:Items>%s</%s:%s>" % (
            ip, "<%s:EndOfSequence/>" % ip if done else "", n,
            wrapper)).encode()
        marker = "\x00BODY\x00"
        env = self._respond(r, action, marker, [("n", NS_N)])
        pre, post = env.split(marker.encode(), 1)
        return b"".join([pre, head] + chunks + [tail, post])

    def _take_context(self, r, container):
        ctx_el = container.find(q(NS_N, "EnumerationContext"))
        ctx_id = _text(ctx_el)
        now = time.monotonic()
        with self.lock:
            ctx = self.contexts.get(ctx_id)
            if ctx is None or ctx.busy or now - ctx.used > self.enum_timeout:
                if ctx is not None and not ctx.busy:
                    del self.contexts[ctx_id]
                raise RequestError(fault_invalid_context())
            ctx.busy = True
        return ctx

    def _pull(self, r):
        self._purge()
        pull = r.body.find(q(NS_N, "Pull"))
        if pull is None:
            raise RequestError(fault_schema(
                "The Pull action has no wsen:Pull body."))
        max_items = self._max_elements(_text(pull.find(q(NS_N,
                                                         "MaxElements"))))
        ctx = self._take_context(r, pull)
        try:
            r.cls = ctx.cls
            return self._batch(r, ctx, max_items, ACT_PULL + "Response",
                               "PullResponse", PREFIX_STYLES[self.style]["n"])
        finally:
            ctx.busy = False
            ctx.used = time.monotonic()

    def _release(self, r):
        rel = r.body.find(q(NS_N, "Release"))
        if rel is None:
            raise RequestError(fault_schema(
                "The Release action has no wsen:Release body."))
        ctx = self._take_context(r, rel)
        r.cls = ctx.cls
        with self.lock:
            self.contexts.pop(ctx.id, None)
        return self._respond(r, ACT_RELEASE + "Response", "")

    # ---- Get -----------------------------------------------------------------
    def _select_instance(self, r, cls):
        """The one instance of cls the request's selectors name."""
        keys = [k.lower() for k in self.model.KEYS[cls]]
        given = []
        for name, value in r.selectors:
            if name == "__cimnamespace":
                if (value or "").lower() != CIM_NAMESPACE:
                    raise RequestError(fault_invalid_selectors(
                        "UnexpectedSelectors",
                        "__cimnamespace %s is not %s." % (value,
                                                          CIM_NAMESPACE)))
                continue
            if name.lower() not in keys:
                raise RequestError(fault_invalid_selectors(
                    "UnexpectedSelectors",
                    "%s is not a key of %s." % (name, cls)))
            if not isinstance(value, str):
                raise RequestError(fault_invalid_selectors(
                    "UnexpectedSelectors", "Selector %s must be text." % name))
            given.append((name.lower(), value.lower()))
        if not given:
            raise RequestError(fault_invalid_selectors(
                "InsufficientSelectors",
                "The request names no selectors of %s." % cls))
        found = []
        for inst in self.model.instances(cls):
            sel = {k.lower(): v.lower() for k, v in inst.selectors()}
            if all(sel.get(k) == v for k, v in given):
                found.append(inst)
        if not found:
            raise RequestError(fault_not_found())
        if len(found) > 1:
            raise RequestError(fault_invalid_selectors(
                "AmbiguousSelectors",
                "The selectors match %d instances of %s." % (len(found),
                                                            cls)))
        return found[0]

    def _get(self, r):
        cls = r.cls
        if cls is None:
            raise RequestError(fault_action_not_supported(r.action))
        self._class_check(r, cls)
        inst = self._select_instance(r, cls)
        return self._respond(r, ACT_GET + "Response",
                             render_any(self.style, inst), [("x", NS_X)])

    # ---- Invoke ----------------------------------------------------------------
    def _invoke(self, r, job_override):
        cls = r.cls
        if cls is None:
            raise RequestError(fault_action_not_supported(r.action))
        self._class_check(r, cls)
        if cls != SERVICE or r.method not in METHODS:
            raise RequestError(fault_action_not_supported(r.action))
        self._select_instance(r, cls)
        uri = class_uri(cls)
        inp = r.body.find(q(uri, r.method + "_INPUT"))
        if inp is None:
            raise RequestError(fault_schema(
                "The body of %s must be %s_INPUT in namespace %s."
                % (r.method, r.method, uri)))
        rv, job = self._kvp_method(r.method, uri, inp, job_override)
        pf = PREFIX_STYLES[self.style]
        p, xsi, cim = pf["inst"], pf["xsi"], pf["cim"]
        out = ['<%s:%s_OUTPUT xmlns:%s="%s" xmlns:%s="%s" xmlns:%s="%s">' % (
            p, r.method, p, uri, xsi, NS_XSI, cim, NS_CIM)]
        if job is not None:
            out.append(render_epr(self.style, "Msvm_ConcreteJob",
                                  [("InstanceID", job.id)],
                                  element="%s:Job" % p))
        out.append("<%s:ReturnValue>%d</%s:ReturnValue>" % (p, rv, p))
        out.append("</%s:%s_OUTPUT>" % (p, r.method))
        return self._respond(r, r.action + "Response", "".join(out))

    def _kvp_method(self, method, uri, inp, job_override):
        target = inp.find(q(uri, "TargetSystem"))
        if target is None:
            return RV_INVALID_PARAM, None
        vm = self._target_vm(target)
        if vm is None:
            return RV_INVALID_PARAM, None
        items = []
        elements = inp.findall(q(uri, "DataItems"))
        if not elements or len(elements) > KVP_MAX_ITEMS_PER_CALL:
            return RV_INVALID_PARAM, None
        for el in elements:
            if el.get(q(NS_XSI, "nil")) == "true":
                return RV_INVALID_PARAM, None
            try:
                items.append(parse_data_item(el.text))
            except DataItemError:
                return RV_INVALID_PARAM, None
        names = [n for n, _ in items]
        if len(set(names)) != len(names):
            return RV_INVALID_PARAM, None
        delay, fail = None, None
        if job_override:
            delay = job_override.get("delay")
            fail = job_override.get("fail")
        return self.model.start_job(method, vm, items, delay, fail)

    def _target_vm(self, target):
        refp = target.find(q(NS_A, "ReferenceParameters"))
        if refp is None:
            return None
        ruri = _text(refp.find(q(NS_W, "ResourceURI")))
        if ruri != class_uri("Msvm_ComputerSystem"):
            return None
        ss = refp.find(q(NS_W, "SelectorSet"))
        if ss is None:
            return None
        sel = {}
        for s in ss.findall(q(NS_W, "Selector")):
            sel[(s.get("Name") or "").lower()] = _text(s)
        ccn = sel.get("creationclassname")
        if ccn is not None and ccn != "Msvm_ComputerSystem":
            return None
        name = (sel.get("name") or "").upper()
        with self.model.lock:
            return self.model.by_guid.get(name)


__all__ = ["Endpoint", "Request", "parse_request", "parse_duration",
           "RequestError"]
