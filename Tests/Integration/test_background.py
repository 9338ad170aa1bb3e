"""The background daemon without mount(8): it returns once mounted, SIGTERM unmounts, errors come
before any mount, it logs to syslog, SIGUSR1 reports, slow listings are verified concurrently."""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import fsmount

from mountctl import (
    FSTYPE,
    cleanup_daemons,
    daemon_pids,
    describe,
    populate_share,
    run,
    stop_daemons,
    the_daemon,
    top_fstype,
    wait_gone,
)


# ---------------------------------------------------------------------------------------------
# (f) background mode, without mount(8).

def test_background_mode_returns_once_mounted(built_binary, workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "f").write_text("background\n")
    out, err = workdir / "stdout", workdir / "stderr"
    with cleanup_daemons(src, mnt):
        with open(out, "w") as stdout, open(err, "w") as stderr:
            starter = subprocess.Popen([built_binary, str(src), str(mnt)], stdout=stdout, stderr=stderr,
                                       stdin=subprocess.DEVNULL)
            try:
                status = starter.wait(timeout=60)
            except subprocess.TimeoutExpired:
                starter.kill()
                starter.wait()
                pytest.fail("`dtypefs SRC MNT` without -f did not return within 60s")
        assert status == 0, f"exit {status}; stderr: {err.read_text()}"
        # No waiting: the mount must be up when the command returns.
        assert fsmount.is_mounted(mnt, FSTYPE), f"not mounted right after return: {fsmount.mount_entry(mnt)}"
        pid = the_daemon(src, mnt)
        assert pid != starter.pid, "the command that returned cannot be the daemon"
        assert (mnt / "f").read_text() == "background\n"
        # A detached daemon keeps neither our terminal nor our output files.
        for fd in (0, 1, 2):
            target = os.readlink(f"/proc/{pid}/fd/{fd}") if os.path.lexists(f"/proc/{pid}/fd/{fd}") else None
            assert target not in (str(out), str(err)), f"the daemon's fd {fd} is still {target}"
        assert os.getsid(pid) != os.getsid(0), "the daemon should leave our session (setsid)"
        assert os.readlink(f"/proc/{pid}/cwd") == "/", "the daemon should not pin the directory it started in"

        result = run(["fusermount3", "-u", mnt])
        assert result.returncode == 0, describe(result)
        assert wait_gone(pid), f"dtypefs (pid {pid}) still runs after fusermount3 -u"
        assert not fsmount.is_mounted(mnt, FSTYPE)


def test_background_mode_sigterm_unmounts(built_binary, workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    with cleanup_daemons(src, mnt):
        result = run([built_binary, src, mnt, "-o", "dtype=verify"], stdin=subprocess.DEVNULL)
        assert result.returncode == 0, describe(result)
        pid = the_daemon(src, mnt)
        os.kill(pid, signal.SIGTERM)
        assert wait_gone(pid), f"dtypefs (pid {pid}) ignored SIGTERM"
        assert not fsmount.is_mounted(mnt, FSTYPE), "SIGTERM must unmount"


@pytest.mark.parametrize("case", ["bad-option", "missing-source", "mountpoint-is-file"])
def test_background_mode_error_before_mount(built_binary, workdir, case):
    src, mnt = workdir / "src", workdir / "mnt"
    args = [built_binary, src, mnt]
    if case == "bad-option":
        args += ["-o", "dtype=bogus"]
        expected, codes = "dtype", {2}
    elif case == "missing-source":
        src = workdir / "does-not-exist"
        args = [built_binary, src, mnt]
        expected, codes = str(src), {1}
    else:
        mnt = workdir / "a-file"
        mnt.write_text("")
        args = [built_binary, src, mnt]
        expected, codes = str(mnt), {1}
    with cleanup_daemons(src, mnt):
        result = run(args, stdin=subprocess.DEVNULL)
        assert result.returncode in codes, describe(result)
        assert expected in result.stderr, f"the message should name {expected!r}:\n{describe(result)}"
        assert top_fstype(mnt) != FSTYPE
        assert daemon_pids(src, mnt) == []


# ---------------------------------------------------------------------------------------------
# Logging: in the background dtypefs logs to syslog. This machine kind has no /dev/log; the test
# listens there itself (a symlink to its own socket, removed afterwards), or, where a syslog daemon
# owns /dev/log, bind-mounts its socket over /dev/log in a private mount namespace.

class SyslogListener:
    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o666)
        self.sock.settimeout(0.2)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append(data.decode(errors="replace"))

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.setblocking(False)
        while True:  # what arrived after the thread stopped
            try:
                self.messages.append(self.sock.recv(65536).decode(errors="replace"))
            except (BlockingIOError, OSError):
                break
        self.sock.close()


def logging_scenario(binary: str, src: str, mnt: str) -> dict:
    """Mount in the background, list, ask for counters, unmount: return the daemon's pid and the
    number of messages seen so far at each step (filled in by the caller's listener)."""
    steps = {}
    result = subprocess.run([binary, src, mnt], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=60)
    if result.returncode != 0:
        return {"error": f"dtypefs exited {result.returncode}: {result.stderr}"}
    pids = daemon_pids(src, mnt)
    if len(pids) != 1:
        return {"error": f"expected one daemon, found {pids}"}
    pid = pids[0]
    try:
        listing = sorted(os.listdir(mnt))
        for name in listing:
            os.lstat(os.path.join(mnt, name))
        steps["listed"] = listing
        os.kill(pid, signal.SIGUSR1)
        time.sleep(0.5)  # let the log line be written; the assertions do not depend on timing
        steps["after_usr1_marker"] = True
        subprocess.run(["umount", mnt], capture_output=True)
        steps["gone"] = wait_gone(pid)
    finally:
        stop_daemons(src, mnt)
    steps["pid"] = pid
    return steps


@contextlib.contextmanager
def dev_log_symlink(target: Path):
    """Point /dev/log at our socket while no one else provides it; remove only our own link."""
    os.symlink(target, "/dev/log")
    try:
        yield
    finally:
        if os.path.islink("/dev/log") and os.readlink("/dev/log") == str(target):
            os.unlink("/dev/log")


def test_background_mode_logs_to_syslog(built_binary, workdir):
    backing, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    listener = SyslogListener(workdir / "log.sock")
    try:
        with fsmount.mounted_emulator(backing, emu), cleanup_daemons(emu, mnt):
            populate_share(emu)
            if not os.path.lexists("/dev/log"):
                with dev_log_symlink(workdir / "log.sock"):
                    steps = logging_scenario(built_binary, str(emu), str(mnt))
            else:
                # A syslog daemon owns /dev/log: cover it only inside a private mount namespace.
                script = (f"import sys, json; sys.path[:0] = [{str(Path(__file__).parent)!r}]; "
                          "import test_background as t; "
                          f"print(json.dumps(t.logging_scenario({built_binary!r}, {str(emu)!r}, {str(mnt)!r})))")
                result = run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                              'mount --bind "$1" /dev/log && exec python3 -c "$2"', "sh",
                              workdir / "log.sock", script])
                assert result.returncode == 0, describe(result)
                steps = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        listener.close()
    assert "error" not in steps, steps["error"] if "error" in steps else ""
    assert steps["gone"], "the daemon did not exit after umount"
    pid = steps["pid"]
    ours = [m for m in listener.messages if re.search(rf"\bdtypefs\[{pid}\]:", m)]
    assert ours, (f"no syslog message with ident dtypefs and pid {pid}; got: {listener.messages[:20]}")
    text = "\n".join(ours)
    assert str(mnt) in text, f"the start message should name the mount point {mnt}:\n{text}"
    assert any(re.search(r"\d", m) for m in ours), f"counters expected in the log:\n{text}"
    assert re.search(r"l(i)?nk", text, re.IGNORECASE), (
        f"the summary should count the corrected symlinks by type:\n{text}")
    assert len(ours) >= 3, f"expected start, SIGUSR1 counters and the unmount summary:\n{text}"






def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_sigusr1_reports_without_ending_a_foreground_daemon(workdir):
    """SIGUSR1 is for the statistics thread only: no other thread may take it with its default
    action (ending the daemon), however early it was started."""
    src, mnt = workdir / "src", workdir / "mnt"
    for index in range(50):
        (src / f"f{index}").write_text("x")
    with fsmount.mounted_dtypefs(src, mnt) as daemon:
        os.kill(daemon.pid, signal.SIGUSR1)
        assert len(os.listdir(mnt)) == 50
        os.kill(daemon.pid, signal.SIGUSR1)
        time.sleep(0.5)
        assert daemon.process.poll() is None, "SIGUSR1 ended the daemon"
        assert len(os.listdir(mnt)) == 50
        assert daemon.stop() == 0
    log = daemon.process.stderr.read().decode(errors="replace")
    assert log.count("statistics:") == 2, f"two SIGUSR1 reports expected:\n{log}"
    assert "inodes known to the kernel" in log, log


def test_background_daemon_verifies_slow_listings_concurrently(built_binary, workdir):
    """The lstat pool must exist in the daemon that serves, not only in the process that mounted:
    detaching forks, and only the forking thread lives on in the child."""
    backing, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    with fsmount.mounted_emulator(backing, emu, latency_us=2000), cleanup_daemons(emu, mnt):
        # Links made through the emulator are XSym files: their lstats are the slow ones (a share
        # primes plain entries in its listing, but must read a link's content).
        for index in range(200):
            os.symlink("target", emu / f"l{index:03d}")
        result = subprocess.run([built_binary, str(emu), str(mnt)], capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=60)
        assert result.returncode == 0, result.stderr
        pids = daemon_pids(emu, mnt)
        assert len(pids) == 1, f"expected one daemon, found {pids}"
        before = thread_count(pids[0])
        started = time.monotonic()
        assert len(os.listdir(mnt)) == 200
        elapsed = time.monotonic() - started
        after = thread_count(pids[0])
        # 200 link lstats at several ms each take over a second one after another.
        assert after >= before + 8, (
            f"daemon threads {before} -> {after} after a slow listing: the lstat pool did not start "
            f"(the listing took {elapsed:.2f} s)")
