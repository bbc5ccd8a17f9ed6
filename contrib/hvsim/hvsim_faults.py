"""hvsim_faults: fault-injection rules, set from --config or at run time
through POST /hvsim/faults.

A rule is a JSON object:
  {"kind": "latency"|"http500"|"soap_fault"|"truncate"|"reset"|"auth"|
           "slow_job"|"failed_job",
   "action": "Enumerate"|"Pull"|"Release"|"Get"|"Invoke"|"*"  (default *),
   "class": "<Msvm class>" (default any), "method": "<Invoke method>",
   "probability": 0..1 (default 1), "count": N (fire at most N times),
   "skip": N (let the first N matches pass),
   "delay": seconds (latency, slow_job), "error_code": N,
   "error_description": "...", (failed_job), "subcode": "w:TimedOut",
   "code": N, "reason": "...", "sender": false (soap_fault)}
"""

import random
import threading

KINDS = ("latency", "http500", "soap_fault", "truncate", "reset", "auth",
         "slow_job", "failed_job")
ACTIONS = ("*", "Enumerate", "Pull", "Release", "Get", "Invoke")


class RuleError(ValueError):
    pass


class Rule:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise RuleError("a fault rule must be a JSON object")
        unknown = set(spec) - {
            "kind", "action", "class", "method", "probability", "count",
            "skip", "delay", "error_code", "error_description", "subcode",
            "code", "reason", "sender"}
        if unknown:
            raise RuleError("unknown fault rule field(s): %s"
                            % ", ".join(sorted(unknown)))
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise RuleError("fault kind %r is not one of %s"
                            % (self.kind, ", ".join(KINDS)))
        self.action = spec.get("action", "*")
        if self.action not in ACTIONS:
            raise RuleError("fault action %r is not one of %s"
                            % (self.action, ", ".join(ACTIONS)))
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
        self.reason = str(spec.get(
            "reason", "The WS-Management service cannot complete the "
            "operation within the time specified in OperationTimeout.  "))
        self.sender = bool(spec.get("sender", False))
        self.seen = 0
        self.fired = 0
        self.spec = spec

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

    def add(self, specs):
        rules = [Rule(s) for s in specs]
        with self.lock:
            self.rules.extend(rules)

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
