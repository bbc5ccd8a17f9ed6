#!/usr/bin/env python3
"""test_hvkvpctl_gss.py - integration test (ctest label: integration):
hvkvpctl with Kerberos, NTLM and Negotiate against the Hyper-V simulator
configured like WinRM's defaults (Basic refused without TLS, unencrypted
bodies refused): messages are sealed over http:// (MS-WSMV 2.2.9.1), TLS
alone protects https://. Runs under tests/support/run_with_realm.py, which
starts a real MIT KDC and sets KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME,
NTLM_USER_FILE and the HVKVP_TEST_* credentials. Nothing is skipped: a
missing prerequisite fails.

usage: run_with_realm.py python3 test_hvkvpctl_gss.py --hvkvpctl PATH
       --hvsim PATH"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "contrib", "hvsim"))
from hvsimlib import simproc  # noqa: E402

RESULTS = {"passed": 0, "failed": 0}


def check(cond, what, detail=""):
    RESULTS["passed" if cond else "failed"] += 1
    print("%s %s %s" % ("ok    " if cond else "FAILED", what,
                        "" if cond else detail))


def need(name):
    v = os.environ.get(name)
    if not v:
        print("FAILED prerequisite: %s is not set (run under "
              "tests/support/run_with_realm.py)" % name)
        print("0 passed, 1 failed")
        sys.exit(1)
    return v


class Sim(simproc.Sim):
    def __init__(self, hvsim, build_dir, *extra):
        # the interpreter that runs this test has python3-gssapi
        try:
            super().__init__("--auth", "negotiate", "--synthetic", "2",
                             "--items", "4", "--build-dir", build_dir,
                             *extra, user="basic-user",
                             password="basic-password", hvsim=hvsim)
        except RuntimeError as e:
            print("FAILED hvsim --auth negotiate did not start: %s" % e)
            print("0 passed, 1 failed")
            sys.exit(1)


def ctl(tool, sim, *args, password=None, env_extra=None):
    env = dict(os.environ)
    env.pop("HVKVP_PASSWORD", None)
    if password is not None:
        env["HVKVP_PASSWORD"] = password
    env.update(env_extra or {})
    cmd = [tool, "--url", sim.url, "--timeout", "30"] + list(args)
    if sim.cert:
        cmd[3:3] = ["--cacert", sim.cert]
    return subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=300)


def jout(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hvkvpctl", required=True)
    ap.add_argument("--hvsim", required=True)
    a = ap.parse_args()
    ntlm_user = need("HVKVP_TEST_NTLM_USER")
    ntlm_pw = need("HVKVP_TEST_NTLM_PASSWORD")
    princ = need("HVKVP_TEST_PRINCIPAL")
    krb_pw = need("HVKVP_TEST_PASSWORD")
    keytab = need("HVKVP_TEST_CLIENT_KEYTAB")
    need("KRB5CCNAME")
    tool = a.hvkvpctl
    build_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(tool))))

    sim = Sim(a.hvsim, build_dir)
    try:
        p = ctl(tool, sim, "--user", ntlm_user, "--auth", "ntlm", "--json",
                "vms", password=ntlm_pw)
        j = jout(p)
        check(p.returncode == 0 and j and len(j["vms"]) == 2
              and all(v["message"].get("present") for v in j["vms"]),
              "ntlm over http (sealed): vms with decoded messages", p.stderr)
        p = ctl(tool, sim, "--user", ntlm_user, "--auth", "ntlm", "set",
                "synth-0001", "hvkvp.cfg.id=gss-1", password=ntlm_pw)
        p2 = ctl(tool, sim, "--user", ntlm_user, "--auth", "ntlm", "--json",
                 "items", "synth-0001", "--host", password=ntlm_pw)
        j = jout(p2)
        check(p.returncode == 0 and j
              and j["host"].get("hvkvp.cfg.id") == "gss-1",
              "ntlm: set (Invoke + job) and read back sealed",
              p.stderr + p2.stderr)
        p = ctl(tool, sim, "--user", ntlm_user, "--auth", "ntlm", "vms",
                password="not-the-password")
        check(p.returncode == 3 and "not-the-password" not in p.stderr
              and "NTLM" in p.stderr,
              "ntlm: wrong password exits 3 with a cause, not echoed",
              p.stderr)
        p = ctl(tool, sim, "--auth", "kerberos", "messages", "synth-0002")
        check(p.returncode == 0 and "seq" in p.stdout,
              "kerberos from the credential cache (sealed)", p.stderr)
        p = ctl(tool, sim, "--auth", "negotiate", "rm", "synth-0001",
                "hvkvp.cfg.id")
        check(p.returncode == 0, "negotiate from the credential cache",
              p.stderr)
        p = ctl(tool, sim, "--auth", "kerberos", "--keytab", keytab,
                "--principal", princ, "vms",
                env_extra={"KRB5CCNAME": "MEMORY:hvkvp-empty"})
        check(p.returncode == 0, "kerberos with a client keytab", p.stderr)
        p = ctl(tool, sim, "--auth", "negotiate", "--user", princ, "vms",
                password=krb_pw,
                env_extra={"KRB5CCNAME": "MEMORY:hvkvp-empty"})
        check(p.returncode == 0, "negotiate with a password (Kerberos)",
              p.stderr)
        p = ctl(tool, sim, "--user", ntlm_user, "--auth", "ntlm",
                "--encryption", "off", "vms", password=ntlm_pw)
        check(p.returncode == 3 and "unencrypted" in p.stderr,
              "unsealed bodies over http are refused like WinRM does "
              "(so the passing calls were sealed)", p.stderr)
        p = ctl(tool, sim, "--user", "basic-user", "vms",
                password="basic-password")
        check(p.returncode == 3, "basic over http is refused (WinRM "
              "default AllowUnencrypted=false)", p.stderr)
        p = ctl(tool, sim, "--auth", "ntlm", "--encryption", "sometimes",
                "vms")
        check(p.returncode == 1 and "sometimes" in p.stderr,
              "an unknown encryption mode is a usage error", p.stderr)
    finally:
        sim.stop()

    sim = Sim(a.hvsim, build_dir, "--https")
    try:
        p = ctl(tool, sim, "--user", ntlm_user, "--auth", "ntlm", "--json",
                "vms", password=ntlm_pw)
        j = jout(p)
        check(p.returncode == 0 and j and len(j["vms"]) == 2,
              "ntlm over https (TLS, no sealing)", p.stderr)
        p = ctl(tool, sim, "--auth", "kerberos", "--encryption", "required",
                "vms")
        check(p.returncode == 0, "kerberos over https with sealing required",
              p.stderr)
    finally:
        sim.stop()
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 0 if RESULTS["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
