"""jobs: the Msvm_ConcreteJob side of the KVP methods. AddKvpItems,
ModifyKvpItems and RemoveKvpItems start a job (ReturnValue 4096) that runs
for the configured delay, then applies the items to the VM (JobState 7) or
fails (JobState 10 with ErrorCode / ErrorDescription); with sync jobs the
method applies them at once and returns 0. Finished jobs are kept for a
while (and at most MAX_JOBS of them) so clients can poll them.
"""

import threading
import time
import uuid

from .classes import (JOB_COMPLETED, JOB_EXCEPTION, JOB_RUNNING, RV_FAILED,
                      RV_JOB, RV_OK)

MAX_JOBS = 10000  # older finished jobs are dropped beyond this


class Job:
    def __init__(self, op, vm, items, delay, fail=None):
        self.id = str(uuid.uuid4()).upper()
        self.op = op
        self.vm = vm
        self.items = items
        self.submitted = time.time()
        self.finished = None
        self.state = JOB_RUNNING
        self.error_code = 0
        self.error_text = ""
        self.delay = delay
        self.fail = fail


class Jobs:
    """The host's jobs, by InstanceID."""

    def __init__(self, delay=0.2, sync=False, keep=600.0):
        self.delay = delay
        self.sync = sync
        self.keep = keep
        self.lock = threading.Lock()
        self.jobs = {}

    def start(self, op, vm, items, delay=None, fail=None):
        """Runs Add/Modify/Remove; returns (return_value, job or None).
        delay / fail (error_code, text) override the defaults (faults)."""
        if self.sync and delay is None and fail is None:
            ok, code, _ = vm.apply_host(op, items)
            return (RV_OK if ok else code), None
        job = Job(op, vm, items, self.delay if delay is None else delay,
                  fail)
        with self.lock:
            self._make_room()
            self.jobs[job.id] = job
        if job.delay <= 0:
            self._finish(job)
        else:
            t = threading.Timer(job.delay, self._finish, (job,))
            t.daemon = True
            t.start()
        return RV_JOB, job

    def _make_room(self):
        if len(self.jobs) < MAX_JOBS:
            return
        done = sorted((j for j in self.jobs.values() if j.finished),
                      key=lambda j: j.finished)
        for old in done[:len(self.jobs) - MAX_JOBS + 1]:
            del self.jobs[old.id]

    def _finish(self, job):
        if job.fail is not None:
            code, text = job.fail
            ok = False
        else:
            try:
                ok, code, text = job.vm.apply_host(job.op, job.items)
            except Exception as e:  # noqa: BLE001 - a guest failed: job fails
                ok, code, text = False, RV_FAILED, "guest error: %s" % e
        with self.lock:
            job.state = JOB_COMPLETED if ok else JOB_EXCEPTION
            job.error_code = 0 if ok else code
            job.error_text = "" if ok else text
            job.finished = time.time()

    def current(self):
        """The jobs still kept (expired finished ones are dropped)."""
        now = time.time()
        with self.lock:
            for jid in [j.id for j in self.jobs.values()
                        if j.finished and now - j.finished > self.keep]:
                del self.jobs[jid]
            return list(self.jobs.values())
