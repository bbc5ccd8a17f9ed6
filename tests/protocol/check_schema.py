#!/usr/bin/env python3
"""check_schema.py - validates hvkvp messages against schemas/message.schema.json.

A small validator for exactly the JSON Schema (draft 2020-12) keywords the
schema uses (standard library only; any other keyword in the schema is an
error, so the schema cannot silently outgrow the checker). Checks:
  1. every schemas/examples/*.json validates;
  2. mutated examples (missing key, bad dstype, v=2, 17 data sources, ...)
     do NOT validate (the validator is not vacuous);
  3. each example encoded by hvkvp-codec (zd1, z64 and json), then decoded by
     hvkvp-codec, equals the example and validates; the enc=json chunk text
     (the wire payload itself) is printable ASCII and validates;
  4. hvkvp-codec answers line by line as a coprocess (flushes per line) and
     reports errors with their stable names;
  5. --prefix and --max-chunks: trimming visible and exact, u64 epoch exact.
Exit status 0 only if everything holds; every failure is printed.
"""
import argparse
import copy
import glob
import json
import os
import select
import subprocess
import sys

SUPPORTED = {
    "$schema", "$id", "$defs", "$ref", "title", "description", "type",
    "properties", "required", "additionalProperties", "items", "minItems",
    "maxItems", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
    "minLength", "maxLength", "maxProperties", "propertyNames",
}
# keywords whose value is a map of name -> subschema
SCHEMA_MAPS = {"properties", "$defs"}
SCHEMA_VALUES = {"items", "additionalProperties", "propertyNames"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def check_keywords(schema, path="#"):
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SystemExit("schema at %s is not an object" % path)
    for k, v in schema.items():
        if k not in SUPPORTED:
            raise SystemExit("schema keyword %r at %s is not supported by "
                             "check_schema.py" % (k, path))
        if k in SCHEMA_MAPS:
            for name, sub in v.items():
                check_keywords(sub, "%s/%s/%s" % (path, k, name))
        elif k in SCHEMA_VALUES:
            check_keywords(v, "%s/%s" % (path, k))


def is_type(inst, t):
    if t == "object":
        return isinstance(inst, dict)
    if t == "array":
        return isinstance(inst, list)
    if t == "string":
        return isinstance(inst, str)
    if t == "null":
        return inst is None
    if t == "boolean":
        return isinstance(inst, bool)
    if t == "number":
        return isinstance(inst, (int, float)) and not isinstance(inst, bool)
    if t == "integer":
        if isinstance(inst, bool):
            return False
        return isinstance(inst, int) or (isinstance(inst, float)
                                         and inst.is_integer())
    raise SystemExit("unknown type %r in schema" % t)


def resolve(root, ref):
    if not ref.startswith("#/"):
        raise SystemExit("only local $ref is supported: %r" % ref)
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def validate(inst, schema, root, path, errors):
    """Appends 'path: problem' strings to errors."""
    if schema is True:
        return
    if schema is False:
        errors.append("%s: not allowed" % path)
        return
    if "$ref" in schema:
        validate(inst, resolve(root, schema["$ref"]), root, path, errors)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [
            schema["type"]]
        if not any(is_type(inst, t) for t in types):
            errors.append("%s: %r is not of type %s" % (path, inst, types))
            return
    if "const" in schema and not (inst == schema["const"] and type(inst)
                                  is type(schema["const"])):
        errors.append("%s: %r is not %r" % (path, inst, schema["const"]))
    if "enum" in schema and inst not in schema["enum"]:
        errors.append("%s: %r not one of %r" % (path, inst, schema["enum"]))
    if is_type(inst, "number"):
        if "minimum" in schema and inst < schema["minimum"]:
            errors.append("%s: %r < minimum %r" % (path, inst,
                                                   schema["minimum"]))
        if "maximum" in schema and inst > schema["maximum"]:
            errors.append("%s: %r > maximum %r" % (path, inst,
                                                   schema["maximum"]))
        if "exclusiveMinimum" in schema and inst <= schema["exclusiveMinimum"]:
            errors.append("%s: %r <= exclusiveMinimum %r" %
                          (path, inst, schema["exclusiveMinimum"]))
    if isinstance(inst, str):
        if "minLength" in schema and len(inst) < schema["minLength"]:
            errors.append("%s: shorter than %d" % (path, schema["minLength"]))
        if "maxLength" in schema and len(inst) > schema["maxLength"]:
            errors.append("%s: longer than %d" % (path, schema["maxLength"]))
    if isinstance(inst, list):
        if "minItems" in schema and len(inst) < schema["minItems"]:
            errors.append("%s: fewer than %d items" % (path,
                                                       schema["minItems"]))
        if "maxItems" in schema and len(inst) > schema["maxItems"]:
            errors.append("%s: more than %d items" % (path,
                                                      schema["maxItems"]))
        if "items" in schema:
            for i, item in enumerate(inst):
                validate(item, schema["items"], root, "%s[%d]" % (path, i),
                         errors)
    if isinstance(inst, dict):
        for k in schema.get("required", []):
            if k not in inst:
                errors.append("%s: missing required %r" % (path, k))
        if "maxProperties" in schema and len(inst) > schema["maxProperties"]:
            errors.append("%s: more than %d properties" %
                          (path, schema["maxProperties"]))
        props = schema.get("properties", {})
        for k, v in inst.items():
            if "propertyNames" in schema:
                validate(k, schema["propertyNames"], root,
                         "%s{name %r}" % (path, k), errors)
            if k in props:
                validate(v, props[k], root, "%s.%s" % (path, k), errors)
            elif "additionalProperties" in schema:
                validate(v, schema["additionalProperties"], root,
                         "%s.%s" % (path, k), errors)


def errors_of(inst, schema):
    errs = []
    validate(inst, schema, schema, "$", errs)
    return errs


def normalise(m):
    """The message as the protocol defines its meaning (defaults filled in,
    time at millisecond precision, null gauges as NaN markers)."""
    out = {
        "host": m["host"], "time": round(m["time"] * 1000),
        "interval": m["interval"], "seq": m["seq"], "config": m["config"],
        "config_error": m.get("config_error", ""),
        "trimmed": m.get("trimmed", 0), "tags": m.get("tags", {}), "values": []
    }
    for vl in m["values"]:
        vals = []
        for v, t in zip(vl["values"], vl["dstypes"]):
            if v is None:
                vals.append("NaN")
            elif t == "gauge":
                vals.append(float(v))
            else:
                vals.append(int(v))
        out["values"].append({
            "values": vals, "dstypes": vl["dstypes"], "dsnames": vl["dsnames"],
            "plugin": vl["plugin"],
            "plugin_instance": vl.get("plugin_instance", ""),
            "type": vl["type"], "type_instance": vl.get("type_instance", "")
        })
    return out


def negative_cases(example):
    """(description, mutated message) pairs that must not validate."""
    vl0 = lambda m: m["values"][0]
    muts = [
        ("no host", lambda m: m.pop("host")),
        ("no values", lambda m: m.pop("values")),
        ("v=2", lambda m: m.__setitem__("v", 2)),
        ("time negative", lambda m: m.__setitem__("time", -1)),
        ("interval 0", lambda m: m.__setitem__("interval", 0)),
        ("seq fractional", lambda m: m.__setitem__("seq", 1.5)),
        ("seq above u64", lambda m: m.__setitem__("seq", 2**64)),
        ("host too long", lambda m: m.__setitem__("host", "h" * 256)),
        ("bad dstype", lambda m: vl0(m).__setitem__("dstypes", ["Gauge"])),
        ("no plugin", lambda m: vl0(m).pop("plugin")),
        ("empty type", lambda m: vl0(m).__setitem__("type", "")),
        ("17 data sources",
         lambda m: vl0(m).__setitem__("values", [1] * 17)),
        ("value is a string",
         lambda m: vl0(m).__setitem__("values", ["1"])),
        ("17 tags", lambda m: m.__setitem__(
            "tags", {"k%d" % i: "v" for i in range(17)})),
        ("tag value not a string",
         lambda m: m.__setitem__("tags", {"k": 1})),
        ("trimmed negative", lambda m: m.__setitem__("trimmed", -1)),
    ]
    for desc, f in muts:
        m = copy.deepcopy(example)
        f(m)
        yield desc, m


class Codec:
    """hvkvp-codec as a coprocess: one line in, one line out."""

    def __init__(self, path, *args):
        self.p = subprocess.Popen([path] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def ask(self, obj):
        line = obj if isinstance(obj, str) else json.dumps(obj)
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        # deadlock guard only: a codec that does not flush never answers
        r, _, _ = select.select([self.p.stdout], [], [], 60)
        if not r:
            raise SystemExit("hvkvp-codec did not answer a line within 60 s "
                             "(not flushing?)")
        out = self.p.stdout.readline()
        if not out:
            raise SystemExit("hvkvp-codec exited unexpectedly")
        return json.loads(out)

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait()
        if rc != 0:
            fail("hvkvp-codec exited with %d" % rc)


def check_codec(codec, schema, name, example):
    for enc in ("zd1", "z64", "json"):
        encoder = Codec(codec, "encode", "--enc", enc)
        decoder = Codec(codec, "decode")
        current = {}
        # two generations so the second lands in slot B with a del list;
        # once its head is set, the first's chunks go (one slot at rest)
        for gen in (1, 2):
            out = encoder.ask({"msg": example, "epoch": 2**64 - 1, "gen": gen,
                               "current": current})
            if "error" in out:
                fail("%s enc=%s: encode failed: %s" % (name, enc, out))
                break
            keys = [k for k, _ in out["put"]]
            if keys[-1] != "hvkvp.head":
                fail("%s: head is not the last put item" % name)
            for k, v in out["put"]:
                current[k] = v
            for k in out["del"]:
                current.pop(k, None)
            for k in out["after"]:
                current.pop(k, None)
            others = [k for k in current if k.startswith("hvkvp.") and
                      k != "hvkvp.head" and not k.startswith(
                          "hvkvp.%s." % ("A" if gen == 1 else "B"))]
            if others:
                fail("%s gen %d: keys of the other slot left: %s"
                     % (name, gen, others))
            head = dict(kv.split("=", 1) for kv in current["hvkvp.head"]
                        .split(";"))
            if head["slot"] != ("A" if gen == 1 else "B"):
                fail("%s: gen %d in slot %s" % (name, gen, head["slot"]))
            if head["enc"] != enc or int(head["epoch"]) != 2**64 - 1:
                fail("%s: head %r" % (name, head))
            chunks = [current["hvkvp.%s.%d" % (head["slot"], i)]
                      for i in range(int(head["n"]))]
            if any(len(c) > 1000 or not c.isascii() for c in chunks):
                fail("%s: a chunk is over 1000 characters or not ASCII" % name)
            if enc == "json":
                text = "".join(chunks)
                if any(ord(c) < 0x20 or ord(c) > 0x7e for c in text):
                    fail("%s: enc=json payload is not printable ASCII" % name)
                wire = json.loads(text)
                for e in errors_of(wire, schema):
                    fail("%s: wire payload: %s" % (name, e))
            res = decoder.ask(current)
            if not res.get("ok"):
                fail("%s enc=%s gen %d: decode failed: %s" % (name, enc, gen,
                                                              res))
                continue
            if res["gen"] != gen or res["epoch"] != 2**64 - 1:
                fail("%s: decoded gen/epoch %r/%r" % (name, res["gen"],
                                                     res["epoch"]))
            for e in errors_of(res["msg"], schema):
                fail("%s: decoded message: %s" % (name, e))
            want, got = normalise(example), normalise(res["msg"])
            if want != got:
                fail("%s enc=%s: decoded message differs from the example"
                     % (name, enc))
        encoder.close()
        decoder.close()


def check_codec_errors(codec):
    dec = Codec(codec, "decode")
    cases = [
        ({}, "NOHEAD", False),
        ({"hvkvp.head": "v=9"}, "VERSION", False),
        ({"hvkvp.head": "v=1;epoch=1;slot=A;gen=1;n=2;len=10;crc=00000000;"
          "enc=json", "hvkvp.A.0": "12345"}, "MISSING_CHUNK", True),
        ({"hvkvp.head": "v=1;epoch=1;slot=A;gen=1;n=1;len=5;crc=00000000;"
          "enc=json", "hvkvp.A.0": "12345"}, "CRC", True),
    ]
    for items, name, torn in cases:
        r = dec.ask(items)
        if r.get("ok") is not False or r.get("error") != name or \
                r.get("torn") is not torn or not r.get("detail"):
            fail("decode %r: got %r, want error %s torn %s" %
                 (items, r, name, torn))
    r = dec.ask("not json")
    if r.get("ok") is not False or r.get("error") != "ARG":
        fail("decode of a non-JSON line: %r" % r)
    dec.close()
    enc = Codec(codec, "encode")
    r = enc.ask({"msg": {"v": 1}, "epoch": 1, "gen": 1})
    if r.get("error") != "SCHEMA" or "host" not in r.get("detail", ""):
        fail("encode of an incomplete message: %r" % r)
    r = enc.ask({"msg": {"v": 1}, "gen": 1})
    if r.get("error") != "ARG":
        fail("encode without epoch: %r" % r)
    enc.close()


def check_codec_options(codec, example):
    """--prefix and --max-chunks: keys under the prefix, trimming visible
    in the answer and in the decoded message."""
    enc = Codec(codec, "encode", "--prefix", "vm-7.tele", "--max-chunks", "1")
    out = enc.ask({"msg": example, "epoch": 9007199254740993, "gen": 1})
    enc.close()
    if "error" in out:
        fail("encode --max-chunks 1: %r" % out)
        return
    if len(out["put"]) != 2 or not all(k.startswith("vm-7.tele.")
                                        for k, _ in out["put"]):
        fail("encode --prefix/--max-chunks: put keys %r" %
             [k for k, _ in out["put"]])
    if not 0 < out["trimmed"] < len(example["values"]):
        fail("encode --max-chunks 1: trimmed %r" % out["trimmed"])
    dec = Codec(codec, "decode", "--prefix", "vm-7.tele")
    res = dec.ask(dict(out["put"]))
    dec.close()
    if not res.get("ok"):
        fail("decode --prefix: %r" % res)
        return
    if res["epoch"] != 9007199254740993:  # 2^53 + 1: exact, not a double
        fail("epoch lost precision: %r" % res["epoch"])
    kept = len(example["values"]) - out["trimmed"]
    if len(res["msg"]["values"]) != kept or \
            res["msg"].get("trimmed") != example.get("trimmed", 0) + \
            out["trimmed"]:
        fail("trimmed message: %d value lists, trimmed %r" %
             (len(res["msg"]["values"]), res["msg"].get("trimmed")))
    want = normalise(example)
    want["values"] = want["values"][:kept]
    want["trimmed"] += out["trimmed"]
    if normalise(res["msg"]) != want:
        fail("trimmed message is not the first %d value lists" % kept)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--codec", required=True)
    a = ap.parse_args()
    with open(a.schema) as f:
        schema = json.load(f)
    check_keywords(schema)
    paths = sorted(glob.glob(os.path.join(a.examples, "*.json")))
    if len(paths) < 3:
        raise SystemExit("expected at least 3 examples in %s" % a.examples)
    if not os.access(a.codec, os.X_OK):
        raise SystemExit("hvkvp-codec not found at %s" % a.codec)
    for p in paths:
        name = os.path.basename(p)
        with open(p) as f:
            ex = json.load(f)
        errs = errors_of(ex, schema)
        for e in errs:
            fail("%s: %s" % (name, e))
        print("%s: %s (%d value lists)" % (name, "valid" if not errs else
                                           "INVALID", len(ex["values"])))
        for desc, bad in negative_cases(ex):
            if not errors_of(bad, schema):
                fail("%s mutated (%s) still validates" % (name, desc))
        check_codec(a.codec, schema, name, ex)
    check_codec_errors(a.codec)
    with open(os.path.join(a.examples, "linux_typical.json")) as f:
        check_codec_options(a.codec, json.load(f))
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all schema checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
