"""Crash-safety test of the pool store: kill -9 hvkvp-reporter at random
points, over and over, and check what it leaves behind.

Half of the trials SIGKILL the process from outside at a random time; the
other half set HVKVP_TEST_KILL_AFTER_WRITES=N (a store_pool.c hook: the Nth
record write stores only its first HVKVP_TEST_KILL_PARTIAL bytes, then the
process raises SIGKILL),
which reaches every point of the write order, torn records included.
The reporter runs its cycle back to back (hidden test flag --interval-ms),
reading the recorded fixture /proc (tests/reporter/fixtures/live, so every
collector value is known exactly) plus an Exec entry that prints the same
random number twice (check/gauge-a and check/gauge-b), with Encoding json so
one message spans several chunks. After each SIGKILL:
  - the pool file parses: whole 2560-byte records with NUL-terminated keys
    (a partial trailing record is allowed: readers ignore it);
  - the foreign records are byte-for-byte what they were, at their offsets;
  - hvkvp-codec decode of the own items returns either a valid message or
    a torn error (or a head cut mid-write that fails its grammar); a valid
    message is coherent (seq = head gen,
    both Exec values equal, fixture values exact) and its gen never goes
    backwards across the trials.
Prints the outcome counts. Needs HVKVP_BUILD_DIR and HVKVP_SOURCE_DIR."""

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.environ.get("HVKVP_SOURCE_DIR")
BUILD = os.environ.get("HVKVP_BUILD_DIR")
if not SRC or not BUILD:
    sys.exit("test_reporter_crash: set HVKVP_SOURCE_DIR and HVKVP_BUILD_DIR")

REPORTER = os.path.join(BUILD, "guest-reporter", "hvkvp-reporter")
CODEC = os.path.join(BUILD, "protocol", "hvkvp-codec")
FIXTURE = os.path.join(SRC, "tests", "reporter", "fixtures", "live")
REC = 2560
TRIALS = int(os.environ.get("HVKVP_CRASH_TRIALS", "250"))


def record(key, value, garbage=b""):
    k = key.encode() if isinstance(key, str) else key
    v = value.encode() + b"\0" + garbage
    return k.ljust(512, b"\0")[:512] + v.ljust(2048, b"\0")[:2048]


def parse_pool(data, test):
    """Whole records -> [(offset, key, value)]; checks the grammar."""
    out = []
    for off in range(0, len(data) - REC + 1, REC):
        r = data[off:off + REC]
        if b"\0" not in r[:512]:
            out.append((off, None, None))  # foreign, no NUL: never ours
            continue
        key = r[:512].split(b"\0")[0].decode("utf-8")
        value = r[512:].split(b"\0")[0].decode("utf-8")
        out.append((off, key, value))
    return out


class CrashTest(unittest.TestCase):

    def test_kill9_at_random_points(self):
        for p in (REPORTER, CODEC):
            self.assertTrue(os.path.isfile(p), "%s missing" % p)
        tmp = tempfile.TemporaryDirectory(prefix="hvkvp-crash-")
        self.addCleanup(tmp.cleanup)
        pool = os.path.join(tmp.name, ".kvp_pool_1")
        script = os.path.join(tmp.name, "pair.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n"
                    "x=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')\n"
                    "echo \"PUTVAL h/check/gauge-a N:$x\"\n"
                    "echo \"PUTVAL h/check/gauge-b N:$x\"\n")
        os.chmod(script, 0o755)
        conf = os.path.join(tmp.name, "r.conf")
        with open(conf, "w") as f:
            # cpu in jiffies: values in every run's first message
            f.write('Encoding json\nLogLevel error\nHostname crashvm\n'
                    'Exec pair "%s"\n'
                    '<Collector cpu>\nReportByCpu true\n</Collector>\n' % script)
        foreign = {
            0: record("cloud-init|boot", '{"result":"ok"}', b"GARBAGE"),
            REC: record(b"x" * 512, "no NUL in this key"),
            2 * REC: record("hvkvpnot.ours", "prefix look-alike", b"\xff\xfe"),
        }
        with open(pool, "wb") as f:
            f.write(b"".join(foreign[o] for o in sorted(foreign)))
        with open(os.path.join(FIXTURE, "proc", "stat")) as f:
            cpu0 = f.read().splitlines()[1].split()
        want_cpu0_user = int(cpu0[1])

        rng = random.Random(int(os.environ.get("HVKVP_CRASH_SEED", "1234")))
        counts = {"ok": 0, "torn": 0, "nohead": 0, "hook": 0}
        last_gen = 0
        appended_at = None
        for trial in range(TRIALS):
            if trial == TRIALS // 2:
                # another writer appends a record mid-way (cloud-init style)
                with open(pool, "ab") as f:
                    size = f.tell()
                    f.truncate(size - size % REC)
                    appended_at = size - size % REC
                    foreign[appended_at] = record("late.writer", "appended",
                                                  b"zz")
                    f.seek(appended_at)
                    f.write(foreign[appended_at])
            env = dict(os.environ)
            cmd = [REPORTER, "--config", conf, "--foreground", "--store",
                   "pool:" + tmp.name, "--root", FIXTURE, "--interval-ms", "1"]
            if trial % 2 == 0:
                # SIGKILL from outside at a random time
                p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.0, 0.06))
                p.send_signal(signal.SIGKILL)
                p.wait(timeout=30)
            else:
                # SIGKILL half-way through the Nth record write of the run
                # (store_pool.c test hook): every point of the write order
                env["HVKVP_TEST_KILL_AFTER_WRITES"] = str(rng.randint(1, 40))
                env["HVKVP_TEST_KILL_PARTIAL"] = str(rng.choice(
                    [0, rng.randint(1, 140), rng.randint(1, REC)]))
                p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    self.fail("trial %d: the write hook did not fire" % trial)
                self.assertEqual(p.returncode, -signal.SIGKILL)
                counts["hook"] += 1

            with open(pool, "rb") as f:
                data = f.read()
            recs = parse_pool(data, self)
            for off, rec in foreign.items():
                self.assertEqual(data[off:off + REC], rec,
                                 "trial %d: foreign record at %d changed"
                                 % (trial, off))
            items = {}
            for off, key, value in recs:
                if key is not None and key.startswith("hvkvp."):
                    items.setdefault(key, value)
            out = subprocess.run([CODEC, "decode"],
                                 input=json.dumps(items) + "\n",
                                 capture_output=True, text=True, timeout=30,
                                 check=True).stdout
            d = json.loads(out.splitlines()[0])
            if not d["ok"]:
                if d["error"] == "NOHEAD" and last_gen == 0:
                    counts["nohead"] += 1
                    continue
                # a write cut inside the head value can also leave a head
                # that fails its grammar: rejected as well, never decoded
                self.assertTrue(d["torn"] or d["error"] == "HEAD_SYNTAX",
                                "trial %d: not a torn error: %s" % (trial, d))
                counts["torn"] += 1
                continue
            counts["ok"] += 1
            msg = d["msg"]
            self.assertGreaterEqual(d["gen"], last_gen,
                                    "trial %d: gen went backwards" % trial)
            last_gen = d["gen"]
            self.assertEqual(msg["seq"], d["gen"])
            self.assertEqual(msg["host"], "crashvm")
            vals = {(v["plugin"], v["plugin_instance"], v["type"],
                     v["type_instance"]): v["values"] for v in msg["values"]}
            a = vals.get(("check", "", "gauge", "a"))
            b = vals.get(("check", "", "gauge", "b"))
            self.assertIsNotNone(a, "trial %d: Exec values missing" % trial)
            self.assertEqual(a, b, "trial %d: values of two messages mixed"
                             % trial)
            self.assertEqual(vals[("cpu", "0", "cpu", "user")],
                             [want_cpu0_user])
            self.assertEqual(vals[("memory", "", "memory", "used")],
                             [190720 * 1024])
            own = sum(1 for _, k, _ in recs if k and k.startswith("hvkvp."))
            self.assertLessEqual(own, 2 * 64 + 1)
        print("\ncrash trials: %d (%d killed inside a write), decoded ok: %d,"
              " torn: %d, no head yet: %d, last gen %d"
              % (TRIALS, counts["hook"], counts["ok"], counts["torn"],
                 counts["nohead"], last_gen))
        self.assertGreater(counts["ok"], TRIALS // 2)
        self.assertGreater(last_gen, TRIALS // 2, "too few cycles ran")


if __name__ == "__main__":
    unittest.main(verbosity=2)
