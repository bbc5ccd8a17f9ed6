"""simtest: what the simulator's tests (tests/hvsim/test_sim_*.py) share:
the import path of contrib/hvsim (hvsimlib), the build directory, the
class URIs, and SimTestCase, a test class with one simulator (and one raw
client) for all its tests, whose exit must be clean."""

import os
import sys
import unittest

SRC = os.environ.get("HVKVP_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "contrib", "hvsim"))

from hvsimlib import client as hc, simproc  # noqa: E402,F401

WMI_V2 = hc.WMI_V2
ALL = WMI_V2 + "/*"
CS = hc.class_uri("Msvm_ComputerSystem")
KVP = hc.class_uri("Msvm_KvpExchangeComponent")
SD = hc.class_uri("Msvm_KvpExchangeComponentSettingData")
VSMS = hc.class_uri("Msvm_VirtualSystemManagementService")
JOB = hc.class_uri("Msvm_ConcreteJob")


def build_dir():
    """The build directory (HVSIM_BUILD_DIR, set by ctest)."""
    bd = os.environ.get("HVSIM_BUILD_DIR")
    if not bd:
        raise RuntimeError("HVSIM_BUILD_DIR is not set (run through ctest)")
    return bd


def build_args():
    """--build-dir for hvsim when the build is known, else nothing."""
    bd = os.environ.get("HVSIM_BUILD_DIR")
    return ["--build-dir", bd] if bd else []


class SimTestCase(unittest.TestCase):
    """One simulator started with sim_args / sim_kw for the whole class;
    cls.c is a raw client of it."""

    sim_args = ()
    sim_kw = {}
    stderr_must_not_hold = ()   # e.g. ("warning",)

    @classmethod
    def setUpClass(cls):
        cls.sim = simproc.Sim(*cls.sim_args, **cls.sim_kw)
        cls.c = cls.sim.client()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        _, err = simproc.check_stop(cls.sim)
        for text in cls.stderr_must_not_hold:
            assert text not in err, err
