"""Helpers for tests that run real Celery worker processes: wait on a condition with a
deadline, and kill or freeze a worker together with its prefork pool."""

import os
import signal
import subprocess
import time

import pytest


def wait_until(predicate, *, timeout: float, what: str, procs=()) -> None:
    """Poll ``predicate`` until it holds; past ``timeout`` fail, showing the output of any
    of ``procs`` that has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    output = "\n".join(p.stdout.read() if p.poll() is not None and p.stdout else "(running)" for p in procs)
    pytest.fail(f"timed out waiting for {what}\n{output[-3000:]}")


def children(pid: int) -> list[int]:
    """Child processes of ``pid``, from /proc (no procps needed)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            # Field 4, after the parenthesised command name, is the parent's pid.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def worker_tree(proc: subprocess.Popen) -> list[int]:
    """The worker's main process first, then its pool processes."""
    return [proc.pid, *children(proc.pid)]


def signal_tree(proc: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` (e.g. SIGSTOP/SIGCONT) to the worker and its pool at once."""
    for pid in worker_tree(proc):
        os.kill(pid, sig)


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes: no warm shutdown, no ack, no rollback it
    could run itself."""
    pool = children(proc.pid)
    assert pool, "the prefork pool process"
    for pid in [*pool, proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)
