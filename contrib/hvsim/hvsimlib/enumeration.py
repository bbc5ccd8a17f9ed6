"""enumeration: WS-Enumeration as WinRM serves it: Enumerate (plain, or
wsman:OptimizeEnumeration with the first item in the response), Pull and
Release, enumeration contexts (bounded in number, expiring when idle), WQL
filters evaluated against the model, and pages cut so that every response
fits the envelope limit (an instance that cannot fit is w:EncodingLimit).

Pages as WinRM renders them (DESIGN.md section 4):
  optimized EnumerateResponse: exactly ONE item, whatever MaxElements asks:
    <n:EnumerationContext>uuid:..</n:EnumerationContext><w:Items>..</w:Items>
  ... or, when that is the whole result, an empty context and the end:
    <n:EnumerationContext></n:EnumerationContext><w:Items>..</w:Items>
    <w:EndOfSequence/>
  PullResponse: up to MaxElements items that fit the envelope:
    <n:EnumerationContext>uuid:..</n:EnumerationContext><n:Items>..</n:Items>
  the last PullResponse: no context, <n:Items>..</n:Items><n:EndOfSequence/>
"""

import threading
import time
import uuid

from . import wql
from .render import render_any, render_epr
from .request import text_of
from .soap import (ACT_ENUMERATE, ACT_PULL, ACT_RELEASE, DIALECT_WQL, NS_N,
                   NS_W, PREFIX_STYLES, WMI_V2, q, reply)
from .wsman_faults import (RequestError, fault_cannot_process_filter,
                           fault_destination_unreachable,
                           fault_dialect_unavailable, fault_encoding_limit,
                           fault_invalid_context, fault_quota, fault_schema)

MAX_CONTEXTS = 1500             # like WinRM's MaxConcurrentOperationsPerUser
MODES = ("Object", "EnumerateEPR", "EnumerateObjectAndEPR")


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


def class_check(model, r, cls):
    """Raises the fault WinRM answers for a class WMI does not have."""
    if cls not in model.CLASSES:
        raise RequestError(fault_destination_unreachable(
            r.resource_uri, "The WS-Management service cannot process "
            "the request. The WMI service returned an 'invalid class' "
            "error. "))


def _filter_fault(text, why):
    return RequestError(fault_cannot_process_filter(
        "The WS-Management service cannot process the request. %s" % why,
        text))


def wql_select(model, r, text):
    """Runs a WQL filter: -> (class, instances, selected property names
    (lower case) or None for SELECT *)."""
    try:
        query = wql.parse(text)
    except wql.WqlError as e:
        raise _filter_fault(text, "The WQL query is invalid: %s " % e)
    if not r.resource_uri.endswith("/*"):
        raise _filter_fault(text, "A WQL enumeration must use the resource "
                            "URI %s/*. " % WMI_V2)
    cls = next((c for c in model.CLASSES
                if c.lower() == query.cls.lower()), None)
    if cls is None:
        raise RequestError(fault_cannot_process_filter(
            "The specified class does not exist in the given namespace. ",
            text))
    known = {p.lower() for p in model.property_names(cls)}
    for name in wql.props_used(query):
        if name.lower() not in known:
            raise _filter_fault(text, "The WQL query is invalid: property "
                                "%s is not a member of %s. " % (name, cls))
    items = [inst for inst in model.instances(cls)
             if query.where is None or _matches(query, inst)]
    selected = None if query.props is None else frozenset(query.names())
    return cls, items, selected


def _matches(query, inst):
    lowered = {k.lower(): v for k, v in inst.props.items()}
    return query.matches(lambda n: lowered.get(n.lower()))


class Enumerations:
    """The open enumeration contexts of one endpoint and the operations on
    them. limit(r) is the envelope size a response to r must fit."""

    def __init__(self, model, style, enum_timeout, max_batch_items, limit):
        self.model = model
        self.style = style
        self.enum_timeout = enum_timeout
        self.max_batch_items = max_batch_items
        self.limit = limit
        self.contexts = {}
        self.lock = threading.Lock()

    # ---- contexts -----------------------------------------------------------
    def context_class(self, ctx_id):
        with self.lock:
            c = self.contexts.get(ctx_id)
            return c.cls if c else None

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

    def _take(self, container):
        ctx_id = text_of(container.find(q(NS_N, "EnumerationContext")))
        now = time.monotonic()
        with self.lock:
            ctx = self.contexts.get(ctx_id)
            if ctx is None or ctx.busy or now - ctx.used > self.enum_timeout:
                if ctx is not None and not ctx.busy:
                    del self.contexts[ctx_id]
                raise RequestError(fault_invalid_context())
            ctx.busy = True
        return ctx

    # ---- operations ---------------------------------------------------------
    def enumerate(self, r, endless=None):
        self._purge()
        en = _body(r, "Enumerate")
        optimize = en.find(q(NS_W, "OptimizeEnumeration")) is not None
        mode = text_of(en.find(q(NS_W, "EnumerationMode"))) or "Object"
        if mode not in MODES:
            raise RequestError(fault_schema(
                "EnumerationMode %s is not valid." % mode))
        cls, items, selected = self._select(r, en.find(q(NS_W, "Filter")))
        r.cls = cls
        ctx = EnumContext(cls, items, selected, mode)
        if not optimize:
            self._store(ctx)
            n = PREFIX_STYLES[self.style]["n"]
            body = ("<%s:EnumerateResponse><%s:EnumerationContext>%s</%s:"
                    "EnumerationContext></%s:EnumerateResponse>" % (
                        n, n, ctx.id, n, n))
            return reply(self.style, r, ACT_ENUMERATE + "Response", body,
                         [("n", NS_N)])
        # WinRM puts exactly one item in an optimized EnumerateResponse,
        # whatever wsman:MaxElements asks (which must still be valid).
        self._max_elements(text_of(en.find(q(NS_W, "MaxElements"))))
        return self._batch(r, ctx, 1, ACT_ENUMERATE + "Response",
                           "EnumerateResponse", PREFIX_STYLES[self.style]["w"],
                           endless)

    def _select(self, r, flt):
        if flt is not None:
            dialect = flt.get("Dialect") or DIALECT_WQL
            if dialect != DIALECT_WQL:
                raise RequestError(fault_dialect_unavailable(dialect))
            return wql_select(self.model, r,
                              "".join(flt.itertext()).strip())
        if r.resource_uri.endswith("/*"):
            raise RequestError(fault_schema(
                "An enumeration of %s needs a WQL filter." % r.resource_uri))
        class_check(self.model, r, r.cls)
        return r.cls, self.model.instances(r.cls), None

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

    def pull(self, r, endless=None):
        self._purge()
        pull = _body(r, "Pull")
        max_items = self._max_elements(text_of(pull.find(q(NS_N,
                                                            "MaxElements"))))
        ctx = self._take(pull)
        try:
            r.cls = ctx.cls
            return self._batch(r, ctx, max_items, ACT_PULL + "Response",
                               "PullResponse", PREFIX_STYLES[self.style]["n"],
                               endless)
        finally:
            ctx.busy = False
            ctx.used = time.monotonic()

    def release(self, r):
        ctx = self._take(_body(r, "Release"))
        r.cls = ctx.cls
        with self.lock:
            self.contexts.pop(ctx.id, None)
        return reply(self.style, r, ACT_RELEASE + "Response", "")

    # ---- pages --------------------------------------------------------------
    def _render_item(self, ctx, inst):
        if ctx.mode == "EnumerateEPR":
            return render_epr(self.style, ctx.cls, inst.selectors())
        obj = render_any(self.style, inst, ctx.selected)
        if ctx.mode == "EnumerateObjectAndEPR":
            w = PREFIX_STYLES[self.style]["w"]
            return "<%s:Item>%s%s</%s:Item>" % (
                w, obj, render_epr(self.style, ctx.cls, inst.selectors()), w)
        return obj

    def _fill(self, ctx, max_items, budget, limit, wrap=False):
        """The rendered items of the next page (bytes), advancing ctx; with
        wrap the enumeration starts over instead of ending."""
        chunks, used = [], 0
        while len(chunks) < max_items:
            if ctx.pos >= len(ctx.items):
                if not (wrap and ctx.items):
                    break
                ctx.pos = 0
            text = self._render_item(ctx, ctx.items[ctx.pos]).encode("utf-8")
            if used + len(text) > budget:
                break
            chunks.append(text)
            used += len(text)
            ctx.pos += 1
        if not chunks and ctx.items and (wrap or ctx.pos < len(ctx.items)):
            raise RequestError(fault_encoding_limit(limit))
        return chunks

    def _page(self, r, ctx, max_items, skeleton_len, endless):
        """(items, done) of the next page. endless "repeat": the items
        start over instead of ending; "empty": no items, a fresh context;
        neither ever ends."""
        limit = self.limit(r)
        if endless == "empty":
            with self.lock:
                self.contexts.pop(ctx.id, None)
            ctx.id = "uuid:" + str(uuid.uuid4()).upper()
            return [], False
        chunks = self._fill(ctx, max_items, limit - skeleton_len, limit,
                            wrap=endless == "repeat")
        return chunks, endless is None and ctx.pos >= len(ctx.items)

    def _batch(self, r, ctx, max_items, action, wrapper, items_prefix,
               endless=None):
        """Renders the next batch of ctx; stores ctx if not finished."""
        n = PREFIX_STYLES[self.style]["n"]
        # Upper bound of the envelope without items: context + EndOfSequence.
        skeleton = reply(self.style, r, action, (
            "<{n}:{wr}><{n}:EnumerationContext>{c}</{n}:EnumerationContext>"
            "<{ip}:Items></{ip}:Items><{ip}:EndOfSequence/></{n}:{wr}>"
        ).format(n=n, wr=wrapper, c=ctx.id, ip=items_prefix), [("n", NS_N)])
        chunks, done = self._page(r, ctx, max_items, len(skeleton), endless)
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
        env = reply(self.style, r, action, marker, [("n", NS_N)])
        pre, post = env.split(marker.encode(), 1)
        return b"".join([pre, head] + chunks + [tail, post])


def _body(r, op):
    el = r.body.find(q(NS_N, op))
    if el is None:
        raise RequestError(fault_schema(
            "The %s action has no wsen:%s body." % (op, op)))
    return el
