"""kvp_msg: the messages between the Linux kernel's hv_utils driver and
hv_kvp_daemon (struct hv_kvp_msg in <linux/hyperv.h>, packed, 7432 bytes;
DESIGN.md section 4), which the simulated VMBus (vmbus.py) exchanges with
the real daemon: building requests and reading replies.

Header: u8 op, u8 pool, u16 pad; in replies bytes 0-3 are a u32 error
(0 ok, HV_S_CONT = end of enumeration / not found). ENUMERATE: index@4,
key@20, value@532. SET/GET: value_type@4, key_size@8, value_size@12,
key@16, value@528 (sizes are UTF-8 length + 1). DELETE: key_size@4, key@8.
"""

import struct

KVP_MSG_SIZE = 7432
KVP_KEY_MAX = 512      # bytes including the NUL
KVP_VALUE_MAX = 2048   # bytes including the NUL
OP_GET, OP_SET, OP_DELETE, OP_ENUMERATE = 0, 1, 2, 3
OP_REGISTER1 = 100
HV_S_OK = 0x00000000
HV_S_CONT = 0x80070103
REG_SZ = 1
POOL_EXTERNAL, POOL_GUEST, POOL_AUTO = 0, 1, 2
POOL_AUTO_EXTERNAL, POOL_AUTO_INTERNAL = 3, 4
POOL_COUNT = 5


def encode_field(text, limit, what):
    """UTF-8 bytes of a key or value; ValueError if it cannot be stored."""
    if not isinstance(text, str):
        raise TypeError("%s must be str, not %s" % (what, type(text).__name__))
    raw = text.encode("utf-8")
    if b"\0" in raw:
        raise ValueError("%s contains a NUL character" % what)
    if len(raw) + 1 > limit:
        raise ValueError("%s is %d UTF-8 bytes; KVP allows at most %d"
                         % (what, len(raw), limit - 1))
    return raw


def cstr(buf):
    """A NUL-terminated field as str (invalid UTF-8 becomes U+FFFD)."""
    return bytes(buf).split(b"\0", 1)[0].decode("utf-8", "replace")


def check_pool(pool):
    if not isinstance(pool, int) or not 0 <= pool < POOL_COUNT:
        raise ValueError("pool must be 0..4, not %r" % (pool,))


def _msg(op, pool=0):
    msg = bytearray(KVP_MSG_SIZE)
    msg[0], msg[1] = op, pool
    return msg


def register_reply(version):
    """The kernel's answer to the daemon's REGISTER1: op 100 + version."""
    msg = _msg(OP_REGISTER1)
    v = version.encode()
    msg[4:4 + len(v)] = v
    return bytes(msg)


def is_register(msg):
    return len(msg) == KVP_MSG_SIZE and msg[0] == OP_REGISTER1


def enumerate_request(pool, index):
    msg = _msg(OP_ENUMERATE, pool)
    struct.pack_into("<I", msg, 4, index)
    return bytes(msg)


def get_request(pool, key):
    k = encode_field(key, KVP_KEY_MAX, "key")
    msg = _msg(OP_GET, pool)
    struct.pack_into("<III", msg, 4, REG_SZ, len(k) + 1, KVP_VALUE_MAX)
    msg[16:16 + len(k)] = k
    return bytes(msg)


def set_request(pool, key, value):
    k = encode_field(key, KVP_KEY_MAX, "key")
    v = encode_field(value, KVP_VALUE_MAX, "value")
    msg = _msg(OP_SET, pool)
    struct.pack_into("<III", msg, 4, REG_SZ, len(k) + 1, len(v) + 1)
    msg[16:16 + len(k)] = k
    msg[528:528 + len(v)] = v
    return bytes(msg)


def delete_request(pool, key):
    k = encode_field(key, KVP_KEY_MAX, "key")
    msg = _msg(OP_DELETE, pool)
    struct.pack_into("<I", msg, 4, len(k) + 1)
    msg[8:8 + len(k)] = k
    return bytes(msg)


def error_of(reply):
    """The u32 status of a reply (HV_S_OK, HV_S_CONT, ...)."""
    return struct.unpack_from("<I", reply, 0)[0]


def enumerated_item(reply):
    """(key, value) of an ENUMERATE reply."""
    return (cstr(reply[20:20 + KVP_KEY_MAX]),
            cstr(reply[532:532 + KVP_VALUE_MAX]))


def got_value(reply):
    """The value of a GET reply."""
    return cstr(reply[528:528 + KVP_VALUE_MAX])
