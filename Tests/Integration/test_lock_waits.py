"""Lock waits through the mount (xfstests generic/478): a process blocked in F_SETLKW or a blocking
flock can be killed or interrupted like on any local filesystem, and more waiters than dtypefs has
worker threads never stop the holder from unlocking. Before the fix a killed waiter stayed in D
state for good and the 11th waiter hung the mount.

Every process that touches the mount is a child with a deadline, so a hang fails the test instead
of hanging the suite; the mount helper kills the daemon last, which frees anything still stuck.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fsmount import mounted_dtypefs

# A waiter: takes the lock blocking, says "got", exits. SIGUSR1 raises in Python, so the blocked
# call is left with EINTR as a C program's would be (Python retries EINTR otherwise).
WAITER = r"""
import fcntl, os, signal, struct, sys
path, kind = sys.argv[1], sys.argv[2]
def interrupted(signum, frame):
    raise InterruptedError("interrupted")
signal.signal(signal.SIGUSR1, interrupted)
fd = os.open(path, os.O_RDWR)
print("waiting", flush=True)
try:
    if kind == "posix":
        fcntl.lockf(fd, fcntl.LOCK_EX)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX)
except InterruptedError:
    print("eintr", flush=True)
    sys.exit(3)
print("got", flush=True)
"""

# The holder: takes the lock, says "held", unlocks when told (a line on stdin), says "released".
HOLDER = r"""
import fcntl, os, sys
path, kind = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
(fcntl.lockf if kind == "posix" else fcntl.flock)(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
sys.stdin.readline()
(fcntl.lockf if kind == "posix" else fcntl.flock)(fd, fcntl.LOCK_UN)
print("released", flush=True)
sys.stdin.readline()
"""


def start(script: str, path: Path, kind: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, str(path), kind], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def expect_line(process: subprocess.Popen, line: str, timeout: float = 10.0) -> None:
    import selectors
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout), f"no {line!r} within {timeout}s (pid {process.pid})"
    assert process.stdout.readline().strip() == line


def exited_within(process: subprocess.Popen, timeout: float) -> int | None:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


@contextlib.contextmanager
def killed_at_exit(children: list[subprocess.Popen]):
    try:
        yield
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


@pytest.mark.parametrize("kind", ["posix", "flock"])
def test_lock_waiters_can_be_killed_interrupted_and_outnumber_the_workers(kind):
    base = Path(tempfile.mkdtemp(prefix="dtypefs-locks-"))
    (base / "src").mkdir()
    (base / "mnt").mkdir()
    (base / "src" / "f").write_bytes(b"locked")
    children: list[subprocess.Popen] = []
    try:
        # max_threads=4: far fewer workers than waiters.
        with mounted_dtypefs(base / "src", base / "mnt", options=["max_threads=4"]), killed_at_exit(children):
            path = base / "mnt" / "f"
            holder = start(HOLDER, path, kind)
            children.append(holder)
            expect_line(holder, "held")
            waiters = [start(WAITER, path, kind) for _ in range(12)]
            children += waiters
            for waiter in waiters:
                expect_line(waiter, "waiting")
            time.sleep(0.5)
            assert [w.poll() for w in waiters] == [None] * 12, "a waiter got a lock that is held"

            # Killed while blocked: gone at once, not stuck in D state.
            waiters[0].send_signal(signal.SIGKILL)
            assert exited_within(waiters[0], 5) == -signal.SIGKILL
            # Interrupted by a signal whose handler raises: the wait ends with EINTR.
            waiters[1].send_signal(signal.SIGUSR1)
            expect_line(waiters[1], "eintr", timeout=5)
            assert exited_within(waiters[1], 5) == 3

            # The holder unlocks although 10 waits are blocked, and each waiter gets its turn.
            holder.stdin.write("unlock\n")
            holder.stdin.flush()
            expect_line(holder, "released")
            for waiter in waiters[2:]:
                assert exited_within(waiter, 20) == 0, f"waiter {waiter.pid} never got the lock"
            holder.stdin.write("exit\n")
            holder.stdin.flush()
            assert exited_within(holder, 5) == 0
    finally:
        # The daemon is gone by now (unmounted, or killed), so no child is stuck in a request.
        for child in children:
            exited_within(child, 5)
        if not os.path.ismount(base / "mnt"):
            subprocess.run(["rm", "-rf", str(base)])
