"""Driving dtypefs as the system runs it: mount(8) and mount.fuse3, fstab files, the detached daemon
found by its argv, the binary installed where mount.fuse3 looks. Shared by test_fstab,
test_background, test_systemd and test_install (the fixtures are in conftest.py).

mount.fuse3 runs `dtypefs` through /bin/sh with PATH reset to /usr/local/sbin:/usr/local/bin:..., so
the `system_binary` fixture puts the binary under test at /usr/local/bin/dtypefs for its module's
duration: an existing file there is moved aside and put back afterwards.
"""
from __future__ import annotations

import configparser
import contextlib
import os
import re
import shlex
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

import fsmount

REPO = fsmount.REPO
UNIT = REPO / "scripts" / "systemd" / "dtypefs@.service"
MANPAGE = REPO / "scripts" / "man" / "dtypefs.8"
INSTALL = REPO / "scripts" / "install.sh"
UNINSTALL = REPO / "scripts" / "uninstall.sh"
SYSTEM_BIN = Path("/usr/local/bin/dtypefs")
# The PATH mount.fuse3 gives /bin/sh (measured on Debian 12, fuse3 3.14).
MOUNT_FUSE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FSTYPE = "fuse.dtypefs"
EMULATOR_FSTYPE = "fuse.cifs-emulator"
DEADLINE = 30.0  # seconds to wait for an event (a process ending); never asserted as a duration


def under_ci() -> bool:
    return bool(os.environ.get("CI"))


def run(args, timeout=120, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, capturing text output; a hang becomes a clear failure, not a stuck suite."""
    try:
        return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                              **kwargs)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{shlex.join(str(a) for a in args)} did not finish within {timeout}s "
                    f"(a background daemon holding the output pipe open?): {error}")


def describe(result: subprocess.CompletedProcess) -> str:
    return (f"`{shlex.join(str(a) for a in result.args)}` exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}")


def top_fstype(path) -> str | None:
    entry = fsmount.mount_entry(path)
    return entry["fstype"] if entry else None


def mounts_at(path) -> list[str]:
    """fstypes of every mount stacked at `path`, bottom first."""
    target = os.path.realpath(path)
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
        for line in info:
            fields = line.split()
            sep = fields.index("-")
            if fields[4].encode().decode("unicode_escape") == target:
                found.append(fields[sep + 1])
    return found


# ---------------------------------------------------------------------------------------------
# Processes: the daemon runs detached, so find it by its argv (our private temp paths make it ours).

def _cmdline(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return [part.decode(errors="surrogateescape") for part in raw.split(b"\0") if part] or None


def _is_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (PID 1 here may be slow to reap orphans)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def daemon_pids(source, mountpoint) -> list[int]:
    """Live dtypefs processes started as `dtypefs SOURCE MOUNTPOINT ...`."""
    want = [str(source), str(mountpoint)]
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        argv = _cmdline(int(name))
        if argv and len(argv) >= 3 and os.path.basename(argv[0]) == "dtypefs" and argv[1:3] == want \
                and _is_alive(int(name)):
            pids.append(int(name))
    return pids


def the_daemon(source, mountpoint) -> int:
    pids = daemon_pids(source, mountpoint)
    assert len(pids) == 1, f"expected one dtypefs daemon for {source} -> {mountpoint}, found {pids}"
    return pids[0]


def wait_gone(pid: int, timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_alive(pid):
            return True
        time.sleep(0.05)
    return False


def stop_daemons(source, mountpoint) -> None:
    """Cleanup: unmount our dtypefs at `mountpoint` (only if it is the topmost mount), then make sure
    no daemon started for SOURCE MOUNTPOINT survives."""
    if top_fstype(mountpoint) == FSTYPE:
        result = subprocess.run(["umount", str(mountpoint)], capture_output=True)
        if result.returncode != 0 and top_fstype(mountpoint) == FSTYPE:
            fsmount.unmount(mountpoint)
    for pid in daemon_pids(source, mountpoint):
        if not wait_gone(pid, 5):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not wait_gone(pid, 10):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    if top_fstype(mountpoint) == FSTYPE:  # a daemon killed above leaves a dead mount
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


@contextlib.contextmanager
def cleanup_daemons(source, mountpoint):
    try:
        yield
    finally:
        stop_daemons(source, mountpoint)


def populate_share(root: Path) -> None:
    """A directory, a file and links to both, made through `root` (the emulator: links become XSym)."""
    (root / "d").mkdir()
    (root / "d" / "inner").write_text("inner\n")
    (root / "f").write_text("hello\n")
    os.symlink("d", root / "link-to-dir")
    os.symlink("f", root / "link-to-file")


def listed_types(directory) -> dict[str, str]:
    """What a d_type-trusting program sees (os.scandir without following links)."""
    kinds = {}
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_symlink():
                kinds[entry.name] = "link"
            elif entry.is_dir(follow_symlinks=False):
                kinds[entry.name] = "dir"
            elif entry.is_file(follow_symlinks=False):
                kinds[entry.name] = "file"
            else:
                kinds[entry.name] = "other"
    return kinds


TRUE_TYPES = {"d": "dir", "f": "file", "link-to-dir": "link", "link-to-file": "link"}


def assert_emulator_lies(emu: Path) -> None:
    lying = listed_types(emu)
    assert lying["link-to-dir"] == "file" and lying["link-to-file"] == "file", (
        f"precondition: the CIFS emulator should list its links as regular files, got {lying}")
    assert stat.S_ISLNK(os.lstat(emu / "link-to-dir").st_mode)


def write_fstab(path: Path, lines: list[tuple]) -> Path:
    for fields in lines:
        assert not any(re.search(r"\s", str(field)) for field in fields), f"whitespace in {fields}"
    path.write_text("".join(" ".join(str(f) for f in fields) + "\n" for fields in lines))
    return path


def walked(top) -> set[str]:
    """Every path os.walk reaches below `top`, following links to directories."""
    seen = set()
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        rel = os.path.relpath(dirpath, top)
        for name in dirnames + filenames:
            seen.add(os.path.normpath(os.path.join(rel, name)))
    return seen

def read_unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",),
                                       comment_prefixes=("#", ";"), empty_lines_in_values=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser
