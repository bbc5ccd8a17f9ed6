"""codec: how synthetic guests frame their hvkvp messages as KVP items and
read pushed configuration: the real `hvkvp-codec` of the build as a
coprocess (the same contract the guests use), or, without it, a built-in
enc=json framing that applies no pushed configuration.
"""

import json
import os
import subprocess
import threading
import zlib

PREFIX = "hvkvp"
CHUNK = 1000


class CodecError(RuntimeError):
    pass


class Codec:
    """`hvkvp-codec encode` as a long-running coprocess (one line per VM),
    and `hvkvp-codec cfg` for reading pushed configuration the way every
    guest reads it (protocol/cfg.c: one contract for host, guests and us)."""

    def __init__(self, path, prefix=PREFIX, mode="encode"):
        self.path = path
        self.prefix = prefix
        self.proc = subprocess.Popen(
            [path, mode, "--prefix", prefix], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, bufsize=1 << 20)
        self.lock = threading.Lock()
        self.cfg_codec = None

    def read_cfg(self, host_items):
        """{"ok": True, "present", "id", "interval", "tags", ...} or
        {"ok": False, "error", "detail"} for the host items of one VM."""
        if self.cfg_codec is None:
            self.cfg_codec = Codec(self.path, self.prefix, "cfg")
        return self.cfg_codec.encode_batch([host_items])[0]

    def encode_batch(self, requests):
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n"
                        for r in requests).encode()
        with self.lock:
            out = []
            writer = threading.Thread(target=self._write, args=(lines,))
            writer.start()
            for _ in requests:
                line = self.proc.stdout.readline()
                if not line:
                    writer.join()
                    raise CodecError("hvkvp-codec exited (status %s)"
                                     % self.proc.poll())
                out.append(json.loads(line))
            writer.join()
        return out

    def _write(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def close(self):
        if self.cfg_codec is not None:
            self.cfg_codec.close()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class BuiltinCodec:
    """Fallback framing (enc=json) per DESIGN.md section 3. Without the
    codec binary pushed configuration is not applied (its contract lives
    in protocol/cfg.c only)."""

    def __init__(self, prefix=PREFIX):
        self.prefix = prefix

    def read_cfg(self, host_items):
        return {"ok": False, "error": "ARG",
                "detail": "hvsim runs without hvkvp-codec: pushed "
                          "configuration is not applied"}

    def encode_batch(self, requests):
        return [self._encode(r) for r in requests]

    def _encode(self, r):
        p = self.prefix
        text = json.dumps(r["msg"], separators=(",", ":"))
        cur = r.get("current") or {}
        head = cur.get(p + ".head", "")
        slot = "B" if ";slot=A;" in ";" + head + ";" else "A"
        chunks = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)]
        put = [["%s.%s.%d" % (p, slot, i), c] for i, c in enumerate(chunks)]
        live = {k for k, _ in put}
        other = "A" if slot == "B" else "B"
        dels, after = [], []
        for k in cur:
            if k == p + ".head" or k in live:
                continue
            if k.startswith("%s.%s." % (p, other)) and head:
                after.append(k)  # the old slot: gone once the head is set
            elif k.startswith(p + "."):
                dels.append(k)
        crc = zlib.crc32(text.encode()) & 0xFFFFFFFF
        put.append([p + ".head", "v=1;epoch=%d;slot=%s;gen=%d;n=%d;len=%d;"
                    "crc=%08x;enc=json" % (r["epoch"], slot, r["gen"],
                                           len(chunks), len(text), crc)])
        return {"put": put, "del": dels, "after": after, "trimmed": 0}

    def close(self):
        pass


def find_codec(build_dir):
    if not build_dir:
        return None
    path = os.path.join(build_dir, "protocol", "hvkvp-codec")
    return path if os.access(path, os.X_OK) else None

