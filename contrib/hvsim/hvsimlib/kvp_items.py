"""kvp_items: the embedded Msvm_KvpExchangeDataItem instances (CIM-XML) of
the KVP arrays GuestIntrinsicExchangeItems, GuestExchangeItems and
HostExchangeItems: rendering them as Hyper-V embeds them, parsing the ones
a client sends (hostile input) and caching their escaped text per VM.
"""

from .soap import esc, esc_cimxml, parse_xml

KVP_MAXLEN = 1024        # MAXLEN of Msvm_KvpExchangeDataItem Name and Data
DATA_ITEM_MAX_BYTES = 16384  # an embedded INSTANCE larger than this is junk

SOURCE_HOST, SOURCE_GUEST, SOURCE_INTRINSIC = 0, 1, 2


def cimxml_item(name, data, source):
    """One Msvm_KvpExchangeDataItem as Hyper-V embeds it (CIM-XML)."""
    return ('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">'
            '<PROPERTY NAME="Caption" PROPAGATED="true" TYPE="string">'
            "</PROPERTY>"
            '<PROPERTY NAME="Data" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
            '<PROPERTY NAME="Description" PROPAGATED="true" TYPE="string">'
            "</PROPERTY>"
            '<PROPERTY NAME="ElementName" PROPAGATED="true" TYPE="string">'
            "</PROPERTY>"
            '<PROPERTY NAME="Name" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
            '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>%d</VALUE>'
            "</PROPERTY></INSTANCE>" % (esc_cimxml(data), esc_cimxml(name),
                                        source))


class DataItemError(ValueError):
    pass


def parse_data_item(text):
    """Parses one embedded CIM-XML Msvm_KvpExchangeDataItem (hostile input).

    Returns (name, data). Raises DataItemError naming what is wrong."""
    if text is None or not text.strip():
        raise DataItemError("empty DataItems element")
    raw = text.encode("utf-8")
    if len(raw) > DATA_ITEM_MAX_BYTES:
        raise DataItemError("DataItems element larger than %d bytes"
                            % DATA_ITEM_MAX_BYTES)
    try:
        inst = parse_xml(raw)
    except Exception as e:  # noqa: BLE001 - any parse failure is the answer
        raise DataItemError("DataItems is not CIM-XML: %s" % e)
    if inst.tag != "INSTANCE":
        raise DataItemError("DataItems root is <%s>, not <INSTANCE>"
                            % inst.tag)
    if inst.get("CLASSNAME") != "Msvm_KvpExchangeDataItem":
        raise DataItemError("INSTANCE CLASSNAME is %r, not "
                            "Msvm_KvpExchangeDataItem" % inst.get("CLASSNAME"))
    props = {}
    for p in inst:
        if p.tag != "PROPERTY":
            continue
        v = p.find("VALUE")
        props[p.get("NAME")] = None if v is None else (v.text or "")
    name, data = props.get("Name"), props.get("Data")
    if not name:
        raise DataItemError("data item has no Name")
    if data is None:
        data = ""
    if len(name) > KVP_MAXLEN or len(data) > KVP_MAXLEN:
        raise DataItemError("data item Name or Data longer than %d characters"
                            % KVP_MAXLEN)
    return name, data



class ItemArray:
    """A string array of embedded data items as already-escaped CIM-XML
    strings (render.py writes one element per string)."""

    __slots__ = ("escaped",)

    def __init__(self, escaped):
        self.escaped = escaped


class ItemStore:
    """Items of one source with their rendered (escaped) CIM-XML cached."""

    def __init__(self, source):
        self.source = source
        self.items = {}
        self.rendered = {}

    def set_all(self, items):
        """Replaces the whole set; returns True if anything changed."""
        if items == self.items:
            return False
        new_rendered = {}
        for k, v in items.items():
            old = self.items.get(k)
            if old == v and k in self.rendered:
                new_rendered[k] = self.rendered[k]
            else:
                new_rendered[k] = esc(cimxml_item(k, v, self.source))
        self.items = dict(items)
        self.rendered = new_rendered
        return True

    def array(self):
        return ItemArray([self.rendered[k] for k in self.items])
