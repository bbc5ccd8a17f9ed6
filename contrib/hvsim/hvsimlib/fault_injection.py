"""fault_injection: fault-injection rules, set from --config or at run time
through POST /hvsim/faults, and what the rules that fire on one request
ask the server to do (Injection).

A rule is a JSON object:
  {"kind": "latency"|"http500"|"soap_fault"|"truncate"|"reset"|"auth"|
           "slow_job"|"failed_job"|"endless"|"utf16",
   "action": "Enumerate"|"Pull"|"Release"|"Get"|"Invoke"|"*"  (default *),
   "class": "<Msvm class>" (default any), "method": "<Invoke method>",
   "probability": 0..1 (default 1), "count": N (fire at most N times),
   "skip": N (let the first N matches pass),
   "delay": seconds (latency, slow_job), "error_code": N,
   "error_description": "...", (failed_job), "subcode": "w:TimedOut",
   "code": N, "reason": "...", "sender": false (soap_fault),
   "pages": "repeat"|"empty" (endless)}

endless: the Enumerate or Pull it fires on never ends: no EndOfSequence,
always a context; "repeat" (default): the items keep coming (the
enumeration starts over instead of ending), "empty": no items and a fresh
context every time. utf16: the answer is UTF-16LE without a byte order
mark, Content-Type application/soap+xml;charset=UTF-16 (sealed: in the
OriginalContent type).
"""

import random
import threading

KINDS = ("latency", "http500", "soap_fault", "truncate", "reset", "auth",
         "slow_job", "failed_job", "endless", "utf16")
PAGES = ("repeat", "empty")
ACTIONS = ("*", "Enumerate", "Pull", "Release", "Get", "Invoke")
FIELDS = {"kind", "action", "class", "method", "probability", "count",
          "skip", "delay", "error_code", "error_description", "subcode",
          "code", "reason", "sender", "pages"}
# Kinds that answer instead of the endpoint.
TERMINAL = ("auth", "reset", "http500", "soap_fault")
TIMED_OUT_REASON = ("The WS-Management service cannot complete the "
                    "operation within the time specified in "
                    "OperationTimeout.  ")


class RuleError(ValueError):
    pass


class Rule:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise RuleError("a fault rule must be a JSON object")
        unknown = set(spec) - FIELDS
        if unknown:
            raise RuleError("unknown fault rule field(s): %s"
                            % ", ".join(sorted(unknown)))
        self.spec = spec
        self._match_fields(spec)
        self._effect_fields(spec)
        self.seen = 0
        self.fired = 0

    def _match_fields(self, spec):
        self.kind = _one_of(spec, "kind", None, KINDS)
        self.action = _one_of(spec, "action", "*", ACTIONS)
        self.cls = spec.get("class")
        self.method = spec.get("method")
        self.probability = float(spec.get("probability", 1.0))
        if not 0.0 <= self.probability <= 1.0:
            raise RuleError("probability must be within 0..1")
        self.count = spec.get("count")
        if self.count is not None and (not isinstance(self.count, int)
                                       or self.count < 0):
            raise RuleError("count must be a non-negative integer")
        self.skip = int(spec.get("skip", 0))

    def _effect_fields(self, spec):
        self.delay = float(spec.get("delay", 1.0))
        if not 0.0 <= self.delay <= 600.0:
            raise RuleError("delay must be within 0..600 seconds")
        self.error_code = int(spec.get("error_code", 32768))
        self.error_description = str(spec.get(
            "error_description", "The operation failed (injected fault)."))
        self.subcode = str(spec.get("subcode", "w:TimedOut"))
        if ":" not in self.subcode or self.subcode.split(":")[0] not in (
                "w", "n", "a"):
            raise RuleError("subcode must be w:<Name>, n:<Name> or a:<Name>")
        self.code = int(spec.get("code", 2150858793))
        self.reason = str(spec.get("reason", TIMED_OUT_REASON))
        self.sender = bool(spec.get("sender", False))
        self.pages = _one_of(spec, "pages", "repeat", PAGES)
        if "pages" in spec and self.kind != "endless":
            raise RuleError('"pages" goes with kind "endless"')

    def matches(self, label, cls, method):
        action = label.split(":", 1)[0]
        if self.action != "*" and self.action != action:
            return False
        if self.cls is not None and self.cls != cls:
            return False
        if self.method is not None and self.method != method:
            return False
        return True

    def describe(self):
        d = dict(self.spec)
        d["fired"] = self.fired
        return d


def _one_of(spec, field, default, allowed):
    value = spec.get(field, default)
    if value not in allowed:
        raise RuleError("fault %s %r is not one of %s"
                        % (field, value, ", ".join(allowed)))
    return value


class FaultSet:
    """Thread-safe list of rules; pick() returns the rules that fire."""

    def __init__(self, seed=None):
        self.rules = []
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.injected = 0

    def replace(self, specs):
        rules = [Rule(s) for s in specs]
        with self.lock:
            self.rules = rules

    def clear(self):
        with self.lock:
            self.rules = []

    def describe(self):
        with self.lock:
            return [r.describe() for r in self.rules]

    def pick(self, label, cls, method):
        out = []
        with self.lock:
            for r in self.rules:
                if not r.matches(label, cls, method):
                    continue
                r.seen += 1
                if r.seen <= r.skip:
                    continue
                if r.count is not None and r.fired >= r.count:
                    continue
                if r.probability < 1.0 and self.rng.random() >= r.probability:
                    continue
                r.fired += 1
                self.injected += 1
                out.append(r)
        return out


class Injection:
    """What the rules that fired on one request ask for: a delay before
    answering, a rule that answers instead of the endpoint (the first of
    kind auth, reset, http500 or soap_fault), a truncated body, an answer
    in UTF-16, an enumeration that never ends ("repeat" or "empty"), and
    job overrides for KVP methods ({"delay": s, "fail": (code, text)})."""

    def __init__(self, rules):
        self.delay = sum(r.delay for r in rules if r.kind == "latency")
        self.answer = next((r for r in rules if r.kind in TERMINAL), None)
        self.truncate = any(r.kind == "truncate" for r in rules)
        self.utf16 = any(r.kind == "utf16" for r in rules)
        self.endless = next((r.pages for r in rules if r.kind == "endless"),
                            None)
        self.job_override = {}
        for r in rules:
            if r.kind == "slow_job":
                self.job_override["delay"] = r.delay
            if r.kind == "failed_job":
                self.job_override["fail"] = (r.error_code,
                                             r.error_description)
