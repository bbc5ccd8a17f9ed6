#!/usr/bin/env python3
"""run_with_realm.py - runs a command inside a throwaway Kerberos realm.

Starts a real MIT KDC with scripts/krb5-testrealm.sh in a temporary
directory, exports its environment (KRB5_CONFIG, KRB5_KTNAME,
NTLM_USER_FILE, ...), gets the client a ticket with kinit from its keytab
(so the default-ccache path is exercised too), runs the command, stops the
KDC and removes the directory. Exit status: the command's. Any missing
prerequisite fails loudly.

usage: run_with_realm.py COMMAND [ARGS...]
"""
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("HVKVP_SOURCE_DIR", os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(SRC, "scripts", "krb5-testrealm.sh")


def realm_env(d):
    env = {}
    with open(os.path.join(d, "env.sh")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                k, _, v = line[7:].partition("=")
                env[k] = shlex.split(v)[0]
    return env


def start(d):
    subprocess.run([SCRIPT, "start", d], check=True, stdout=subprocess.DEVNULL)
    env = realm_env(d)
    full = dict(os.environ, **env)
    subprocess.run(["kinit", "-k", "-t", env["HVKVP_TEST_CLIENT_KEYTAB"],
                    env["HVKVP_TEST_PRINCIPAL"]], check=True, env=full)
    return env


def stop(d):
    subprocess.run([SCRIPT, "stop", d], check=False)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory(prefix="hvkvp-realm-") as d:
        env = start(d)
        try:
            rc = subprocess.run(sys.argv[1:],
                                env=dict(os.environ, HVKVP_REALM_DIR=d,
                                         **env)).returncode
        finally:
            stop(d)
    sys.exit(rc)


if __name__ == "__main__":
    main()
