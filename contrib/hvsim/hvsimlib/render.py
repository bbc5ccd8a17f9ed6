"""render: WMI instances and endpoint references as WinRM renders them
(captures of Windows Server 2008 R2 and 2012, DESIGN.md section 4):

- a whole instance (Get, an enumeration of a class URI, WQL SELECT *):
  <p:Class xmlns:xsi xmlns:p="<class URI>" xmlns:cim xsi:type="p:Class_Type">
  with p:-prefixed properties and datetimes as <cim:Datetime>;
- the properties a WQL SELECT names: <w:XmlFragment xmlns:xsi xmlns:w> with
  properties WITHOUT a prefix (in no namespace) and datetimes as <Datetime>.

Properties are sorted case-insensitively, arrays are repeated elements, a
null scalar is xsi:nil="true", and a null (or empty) array is left out.
"""

from .classes import NULL_ARRAY, Datetime, Interval, class_uri
from .kvp_items import ItemArray
from .soap import (ANONYMOUS, CIM_NAMESPACE, NS_CIM, NS_W, NS_XSI,
                   PREFIX_STYLES, esc)


def _is_null_array(value):
    return value is NULL_ARRAY or (isinstance(value, list) and not value) \
        or (isinstance(value, ItemArray) and not value.escaped)


def _value(tag, value, xsi, cim):
    """One property element; tag is "p:Name" or "Name", cim the prefix of
    Datetime/Interval ("cim:" or "")."""
    if value is None:
        return '<%s %s:nil="true"/>' % (tag, xsi)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (Datetime, Interval)):
        kind = "Datetime" if isinstance(value, Datetime) else "Interval"
        text = "<%s%s>%s</%s%s>" % (cim, kind, value.text(), cim, kind)
    else:
        text = esc(str(value))
    return "<%s>%s</%s>" % (tag, text, tag)


def render_props(prefix, props, selected, xsi, cim):
    """The property elements, prefix "p:" (instances) or "" (fragments)."""
    out = []
    for name in sorted(props, key=str.lower):
        if selected is not None and name.lower() not in selected:
            continue
        value = props[name]
        tag = prefix + name
        if _is_null_array(value):
            continue
        if isinstance(value, ItemArray):
            o, c = "<%s>" % tag, "</%s>" % tag
            out.append(o + (c + o).join(value.escaped) + c)
        elif isinstance(value, list):
            out.extend(_value(tag, v, xsi, cim) for v in value)
        else:
            out.append(_value(tag, value, xsi, cim))
    return "".join(out)


def instance_open(style, cls):
    pf = PREFIX_STYLES[style]
    p, xsi, cim = pf["inst"], pf["xsi"], pf["cim"]
    return ('<%s:%s xmlns:%s="%s" xmlns:%s="%s" xmlns:%s="%s" '
            '%s:type="%s:%s_Type">' % (p, cls, xsi, NS_XSI, p, class_uri(cls),
                                       cim, NS_CIM, xsi, p, cls))


def render_instance(style, inst, selected=None):
    """The whole instance (selected None), or the XmlFragment of the
    properties a WQL SELECT names (selected: their lower-case names)."""
    pf = PREFIX_STYLES[style]
    if selected is not None:
        return render_fragment(style, inst.props, selected)
    p = pf["inst"]
    return "%s%s</%s:%s>" % (
        instance_open(style, inst.cls),
        render_props(p + ":", inst.props, None, pf["xsi"], pf["cim"] + ":"),
        p, inst.cls)


def render_fragment(style, props, selected):
    pf = PREFIX_STYLES[style]
    w, xsi = pf["w"], pf["xsi"]
    return ('<%s:XmlFragment xmlns:%s="%s" xmlns:%s="%s">%s'
            "</%s:XmlFragment>" % (w, xsi, NS_XSI, w, NS_W,
                                   render_props("", props, selected, xsi, ""),
                                   w))


def render_epr(style, cls, selectors, element=None):
    """An EPR (wsa:Address + ReferenceParameters) as WinRM writes it."""
    pf = PREFIX_STYLES[style]
    a, w = pf["a"], pf["w"]
    sel = "".join('<%s:Selector Name="%s">%s</%s:Selector>' % (
        w, esc(k), esc(v), w) for k, v in selectors)
    sel += '<%s:Selector Name="__cimnamespace">%s</%s:Selector>' % (
        w, CIM_NAMESPACE, w)
    inner = ("<%s:Address>%s</%s:Address><%s:ReferenceParameters>"
             "<%s:ResourceURI>%s</%s:ResourceURI><%s:SelectorSet>%s"
             "</%s:SelectorSet></%s:ReferenceParameters>" % (
                 a, ANONYMOUS, a, a, w, class_uri(cls), w, w, sel, w, a))
    tag = element or "%s:EndpointReference" % a
    return "<%s>%s</%s>" % (tag, inner, tag)


def render_any(style, inst, selected=None):
    """An instance of the model: VM-backed ones render (and cache)
    themselves, the others are plain Instances."""
    if hasattr(inst, "render"):
        return inst.render(style, selected)
    return render_instance(style, inst, selected)
