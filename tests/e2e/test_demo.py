"""The README's demo command, run non-interactively: scripts/demo.sh for a few
intervals must show every VM's live values, push a new interval that the
guests apply (even when --intervals ends at the push: the demo waits for
every guest's confirmation), and leave no process behind."""
import os
import re
import subprocess
import time
import unittest
import uuid

ROOT = os.environ.get("HVKVP_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("HVSIM_BUILD_DIR") or os.path.join(ROOT, "build")
WIN_BUILD = os.environ.get("HVKVP_WIN_BUILD_DIR") or os.path.join(ROOT, "build-win")


def tagged_processes(tag):
    """PIDs whose environment carries our tag (all the demo's descendants)."""
    out = []
    needle = ("HVKVP_DEMO_TAG=" + tag).encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if needle in f.read().split(b"\0"):
                    out.append(int(pid))
        except OSError:
            pass
    return out


class Demo(unittest.TestCase):
    def test_demo_runs_pushes_and_cleans_up(self):
        tag = uuid.uuid4().hex
        env = dict(os.environ, HVKVP_BUILD_DIR=BUILD, HVKVP_WIN_BUILD_DIR=WIN_BUILD,
                   HVKVP_DEMO_TAG=tag)
        r = subprocess.run(
            # --intervals equal to --push-after: the demo must still show
            # every guest applying the push before it stops.
            [os.path.join(ROOT, "scripts", "demo.sh"), "--intervals", "3",
             "--interval", "2", "--push-after", "3", "--push-interval", "3"],
            env=env, capture_output=True, text=True, timeout=600)
        out = r.stdout
        self.assertEqual(r.returncode, 0, out[-3000:] + r.stderr[-3000:])
        for vm in ("linux-1", "linux-2", "windows-1"):
            rows = re.findall(r"^%s\s+(\S+)\s+(\S+)\s+(\S+)" % vm, out, re.M)
            self.assertTrue(rows, "no table row for %s:\n%s" % (vm, out[-3000:]))
            # memory column is a number of MiB > 0 in the last rows
            self.assertTrue(any(re.match(r"^\d+$", m) and int(m) > 0 for _, m, _ in rows),
                            (vm, rows))
            self.assertRegex(out, r"%s\s+guest interval 3(\.0)?, applied config demo-\d+" % vm,
                             "the pushed config never reached %s:\n%s" % (vm, out[-3000:]))
        self.assertIn("pushing Interval 3", out)
        m = re.search(r"every guest applied config (demo-\d+) \(interval 3\)", out)
        self.assertTrue(m, "the demo stopped before every guest applied the push:\n"
                        + out[-3000:])
        self.assertLess(out.index("pushing Interval 3"), m.start())
        self.assertLess(m.start(), out.index("stopped; nothing left running"))
        time.sleep(1)
        self.assertEqual(tagged_processes(tag), [], "processes left behind by the demo")


if __name__ == "__main__":
    unittest.main(verbosity=2)
