"""Mount integration: dtypefs as the system runs it.

- through mount(8) -> mount.fuse3 -> `dtypefs SOURCE MOUNTPOINT -o rw,...,dev,suid` in the background,
  from a private fstab file (`mount --fstab FILE MNT`; /etc/fstab is never touched), in both layouts
  of dtypefs(8): the share at a hidden path, and the overlay at the share's own path;
- the background mode itself (`dtypefs SRC MNT` without -f) and its syslog output;
- the systemd template unit (systemd-analyze, its commands run by hand), the fstab examples of the
  manual page (systemd-fstab-generator), the manual page, install.sh and uninstall.sh.

mount.fuse3 runs `dtypefs` through /bin/sh with PATH reset to /usr/local/sbin:/usr/local/bin:..., so
these tests put the binary under test at /usr/local/bin/dtypefs for their duration: an existing file
there is moved aside and put back afterwards.
"""
from __future__ import annotations

import configparser
import contextlib
import fcntl
import filecmp
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
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


# ---------------------------------------------------------------------------------------------
# Fixtures

@pytest.fixture(scope="module")
def built_binary() -> str:
    path = fsmount.dtypefs_binary()
    assert os.access(path, os.X_OK), f"{path} is not executable"
    return path


@pytest.fixture(scope="module")
def system_binary(built_binary):
    """The binary under test at /usr/local/bin/dtypefs, where mount.fuse3 finds it; whatever was
    there is moved aside and restored afterwards."""
    shadow = Path("/usr/local/sbin/dtypefs")
    if shadow.exists():
        pytest.fail(f"{shadow} exists and comes first on mount.fuse3's PATH: these tests would run it "
                    "instead of the binary under test; move it away")
    SYSTEM_BIN.parent.mkdir(parents=True, exist_ok=True)
    lock = open("/run/lock/dtypefs-test-usr-local-bin.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    backup = SYSTEM_BIN.with_name(f".dtypefs.test-backup.{os.getpid()}")
    existed = os.path.lexists(SYSTEM_BIN)
    same = existed and SYSTEM_BIN.is_file() and filecmp.cmp(SYSTEM_BIN, built_binary, shallow=False)
    installed_ino = None
    try:
        if not same:
            if existed:
                os.rename(SYSTEM_BIN, backup)
            staging = SYSTEM_BIN.with_name(f".dtypefs.test-new.{os.getpid()}")
            shutil.copyfile(built_binary, staging)
            os.chmod(staging, 0o755)
            os.rename(staging, SYSTEM_BIN)
            installed_ino = os.stat(SYSTEM_BIN).st_ino
        yield SYSTEM_BIN
    finally:
        try:
            if installed_ino is not None:
                with contextlib.suppress(FileNotFoundError):
                    if os.lstat(SYSTEM_BIN).st_ino == installed_ino:
                        os.unlink(SYSTEM_BIN)
                if existed:
                    os.rename(backup, SYSTEM_BIN)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()


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


# ---------------------------------------------------------------------------------------------
# (a) hidden-path layout: the share (the emulator) at SRC, dtypefs from fstab at MNT.

def test_fstab_hidden_path_layout_fixes_types(system_binary, workdir):
    backing, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    fstab = write_fstab(workdir / "fstab", [(
        emu, mnt, FSTYPE,
        f"defaults,nofail,_netdev,x-systemd.requires-mounts-for={emu},dtype=verify", 0, 0)])
    with fsmount.mounted_emulator(backing, emu), cleanup_daemons(emu, mnt):
        populate_share(emu)
        assert_emulator_lies(emu)

        result = run(["mount", "--fstab", fstab, mnt])
        assert result.returncode == 0, describe(result)
        entry = fsmount.mount_entry(mnt)
        assert entry and entry["fstype"] == FSTYPE, f"after mount(8): {entry}"
        assert entry["source"] == str(emu), f"default fsname should be the source path: {entry}"
        # mount(8) returned, and the daemon it started serves in the background.
        pid = the_daemon(emu, mnt)

        assert listed_types(mnt) == TRUE_TYPES
        assert (mnt / "f").read_text() == "hello\n"
        assert (mnt / "link-to-dir" / "inner").read_text() == "inner\n"
        assert "link-to-dir/inner" in walked(mnt), "os.walk(followlinks=True) must enter link-to-dir"
        assert "link-to-dir/inner" not in walked(emu), "precondition: the share alone hides it"

        result = run(["umount", mnt])
        assert result.returncode == 0, describe(result)
        assert top_fstype(mnt) != FSTYPE
        assert wait_gone(pid), f"dtypefs (pid {pid}) still runs after `umount {mnt}`"
        assert fsmount.is_mounted(emu, EMULATOR_FSTYPE), "the share must stay mounted"


OPTION_SETS = {
    # options in fstab -> (flags expected in the mount's options, whether allow_other is on, writable)
    "restrictive": ("ro,noatime,nosuid,nodev,noexec,dtype=verify,attr_timeout=2,entry_timeout=2,"
                    "negative_timeout=0,max_threads=4,fsname=dtypefs-test-share,allow_other,"
                    "nofail,_netdev,x-systemd.automount,x-mount.mkdir",
                    {"ro", "noatime", "nosuid", "nodev", "noexec"}, True, False),
    "permissive": ("rw,relatime,atime,exec,suid,dev,noallow_other,dtype=unknown,fsname=dtypefs-test-share",
                   {"rw", "relatime"}, False, True),
}


@pytest.mark.parametrize("name", sorted(OPTION_SETS))
def test_fstab_passes_every_contract_option(system_binary, workdir, name):
    """Every option of the contract, written in fstab, reaches dtypefs through mount.fuse3 and is
    accepted; the kernel-level ones show up in the mount table."""
    options, flags, allow_other, writable = OPTION_SETS[name]
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "f").write_text("x\n")
    fstab = write_fstab(workdir / "fstab", [(src, mnt, FSTYPE, options, 0, 0)])
    with cleanup_daemons(src, mnt):
        result = run(["mount", "--fstab", fstab, mnt])
        assert result.returncode == 0, describe(result)
        entry = fsmount.mount_entry(mnt)
        assert entry and entry["fstype"] == FSTYPE, entry
        assert entry["source"] == "dtypefs-test-share", entry
        assert flags <= set(entry["options"].split(",")), entry
        assert ("allow_other" in entry["super_options"].split(",")) == allow_other, entry
        assert (mnt / "f").read_text() == "x\n"
        if writable:
            (mnt / "new").write_text("rw\n")
            assert (src / "new").read_text() == "rw\n"
        else:
            with pytest.raises(OSError):
                (mnt / "new").write_text("must fail: ro")
            assert not (src / "new").exists()
        result = run(["umount", mnt])
        assert result.returncode == 0, describe(result)


# ---------------------------------------------------------------------------------------------
# (b) same-path overlay: the share at X, dtypefs X X over it, from an fstab file by hand.

def test_fstab_same_path_overlay(system_binary, workdir):
    backing, share = workdir / "src", workdir / "emu"
    fstab = write_fstab(workdir / "fstab", [(share, share, FSTYPE, "defaults,nofail,_netdev", 0, 0)])
    with fsmount.mounted_emulator(backing, share), cleanup_daemons(share, share):
        populate_share(share)
        assert_emulator_lies(share)

        result = run(["mount", "--fstab", fstab, share])
        assert result.returncode == 0, describe(result)
        assert mounts_at(share)[-2:] == [EMULATOR_FSTYPE, FSTYPE], mounts_at(share)
        pid = the_daemon(share, share)
        assert listed_types(share) == TRUE_TYPES
        assert (share / "link-to-dir" / "inner").read_text() == "inner\n"
        (share / "written-through-overlay").write_text("overlay\n")

        result = run(["umount", share])
        assert result.returncode == 0, describe(result)
        assert top_fstype(share) == EMULATOR_FSTYPE, f"umount must uncover the share: {mounts_at(share)}"
        assert wait_gone(pid), f"dtypefs (pid {pid}) still runs after `umount {share}`"
        assert (share / "written-through-overlay").read_text() == "overlay\n"
        assert listed_types(share)["link-to-dir"] == "file", "the share itself is back, lies included"


# ---------------------------------------------------------------------------------------------
# (c) errors through mount(8): a message from dtypefs, a non-zero exit, nothing mounted or running.

@pytest.mark.parametrize("case", ["missing-source", "bad-option"])
def test_mount_error_is_reported(system_binary, workdir, case):
    src, mnt = workdir / "src", workdir / "mnt"
    if case == "missing-source":
        source, options, expected = workdir / "does-not-exist", "defaults", str(workdir / "does-not-exist")
    else:
        source, options, expected = src, "dtype=bogus", "dtype"
    fstab = write_fstab(workdir / "fstab", [(source, mnt, FSTYPE, options, 0, 0)])
    with cleanup_daemons(source, mnt):
        result = run(["mount", "--fstab", fstab, mnt])
        assert result.returncode != 0, describe(result)
        assert expected in result.stderr, f"dtypefs's message should name {expected!r}:\n{describe(result)}"
        assert top_fstype(mnt) != FSTYPE, "nothing may be mounted after a failed mount"
        assert daemon_pids(source, mnt) == [], "no daemon may be left after a failed mount"


def test_remount_changes_mount_point_flags(system_binary, workdir):
    """xfstests generic/003: `mount -o remount,nodiratime` reaches dtypefs through mount.fuse3 as
    `-o ...,remount,nodiratime`; the flags change, the daemon keeps serving. Flags libfuse 3.14
    cannot pass (nodiratime, strictatime) are set right after mounting."""
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "f").write_text("x\n")
    fstab = write_fstab(workdir / "fstab", [(src, mnt, FSTYPE, "nodiratime,noatime", 0, 0)])
    with cleanup_daemons(src, mnt):
        result = run(["mount", "--fstab", fstab, mnt])
        assert result.returncode == 0, describe(result)
        assert {"nodiratime", "noatime"} <= set(fsmount.mount_entry(mnt)["options"].split(",")), fsmount.mount_entry(mnt)
        pids = daemon_pids(src, mnt)
        result = run(["mount", "-o", "remount,ro,strictatime", mnt])
        assert result.returncode == 0, describe(result)
        # Silent, as any filesystem's remount (xfstests compares the output of remounts).
        assert result.stdout == "" and result.stderr == "", describe(result)
        options = set(fsmount.mount_entry(mnt)["options"].split(","))
        assert "ro" in options and "noatime" not in options and "relatime" not in options, options
        with pytest.raises(OSError):
            (mnt / "new").write_text("must fail: ro")
        result = run(["mount", "-o", "remount,rw", mnt])
        assert result.returncode == 0, describe(result)
        (mnt / "new").write_text("rw\n")
        assert (src / "new").read_text() == "rw\n"
        assert daemon_pids(src, mnt) == pids, "a remount must not start or stop a daemon"
        result = run(["umount", mnt])
        assert result.returncode == 0, describe(result)
        result = run(["dtypefs", src, mnt, "-o", "remount,nodiratime"], env={**os.environ, "PATH": MOUNT_FUSE_PATH})
        assert result.returncode == 1 and "not a dtypefs mount" in result.stderr, describe(result)


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
                          "import test_mount_integration as t; "
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


# ---------------------------------------------------------------------------------------------
# (d) the systemd unit.

def read_unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",),
                                       comment_prefixes=("#", ";"), empty_lines_in_values=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def test_unit_declares_the_overlay():
    """A minimal reading of the unit: the keys that make it correct, whatever tools exist."""
    unit = read_unit(UNIT)
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    assert unit["Unit"]["RequiresMountsFor"] == "%f"
    assert "remote-fs.target" in unit["Unit"]["Before"].split()
    assert unit["Unit"]["Documentation"] == "man:dtypefs(8)"
    service = unit["Service"]
    # Type=forking with no -f: started means mounted (dtypefs returns once the mount is up).
    assert service["Type"] == "forking"
    exec_start = shlex.split(service["ExecStart"])
    assert exec_start[:3] == ["/usr/local/bin/dtypefs", "%f", "%f"], exec_start
    assert "-f" not in exec_start and "-d" not in exec_start
    assert shlex.split(service["ExecStop"].lstrip("-"))[0:2] == ["/usr/bin/fusermount3", "-u"]
    assert service["Restart"] == "on-failure"
    assert "remote-fs.target" in unit["Install"]["WantedBy"].split()


def unit_command(key: str, path: Path, binary: str) -> list[str]:
    """The unit's ExecStart/ExecStop/ExecStopPost as systemd would run it for the instance `path`."""
    line = read_unit(UNIT)["Service"][key].lstrip("-")
    words = shlex.split(line)
    expanded = []
    for word in words:
        word = word.replace("$$", "\0").replace("%f", str(path)).replace("\0", "$")
        expanded.append(word)
    if expanded and expanded[0] == "/usr/local/bin/dtypefs":
        expanded[0] = binary
    # $DTYPEFS_OPTIONS unset/empty: systemd drops an empty unquoted $VAR word.
    return [w for w in expanded if w != "$DTYPEFS_OPTIONS"]


def test_unit_commands_run_the_overlay(built_binary, workdir):
    """ExecStart, ExecStop and ExecStopPost, run by hand on an emulated share: start overlays it,
    stop uncovers it, and the crash cleanup removes a dead overlay but never the share."""
    backing, share = workdir / "src", workdir / "emu"
    with fsmount.mounted_emulator(backing, share), cleanup_daemons(share, share):
        populate_share(share)
        assert_emulator_lies(share)

        start = run(unit_command("ExecStart", share, built_binary), stdin=subprocess.DEVNULL)
        assert start.returncode == 0, describe(start)
        assert top_fstype(share) == FSTYPE, "Type=forking: mounted once ExecStart returns"
        pid = the_daemon(share, share)
        assert listed_types(share) == TRUE_TYPES

        stop = run(unit_command("ExecStop", share, built_binary))
        assert stop.returncode == 0, describe(stop)
        assert wait_gone(pid), "ExecStop must end the daemon"
        assert top_fstype(share) == EMULATOR_FSTYPE

        # ExecStopPost when the overlay is already gone: the share must survive it.
        post = run(unit_command("ExecStopPost", share, built_binary))
        assert post.returncode == 0, describe(post)
        assert top_fstype(share) == EMULATOR_FSTYPE, "ExecStopPost must never unmount the share"

        # A crashed daemon leaves a dead mount; ExecStopPost detaches it.
        start = run(unit_command("ExecStart", share, built_binary), stdin=subprocess.DEVNULL)
        assert start.returncode == 0, describe(start)
        pid = the_daemon(share, share)
        os.kill(pid, signal.SIGKILL)
        assert wait_gone(pid)
        assert top_fstype(share) == FSTYPE, "precondition: a killed daemon leaves its mount"
        post = run(unit_command("ExecStopPost", share, built_binary))
        assert post.returncode == 0, describe(post)
        assert top_fstype(share) == EMULATOR_FSTYPE, f"dead overlay not removed: {mounts_at(share)}"
        assert listed_types(share)["f"] == "file"


def require_tool(path: str, package: str) -> str:
    found = shutil.which(path) or (path if os.access(path, os.X_OK) else None)
    if found:
        return found
    message = f"{path} is missing (apt-get install {package})"
    if under_ci():
        pytest.fail(f"CI must check the systemd files: {message}")
    pytest.skip(message)


def man_tree(workdir: Path) -> Path:
    root = workdir / "man"
    (root / "man8").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MANPAGE, root / "man8" / "dtypefs.8")
    return root


def test_unit_passes_systemd_analyze_verify(system_binary, workdir):
    analyze = require_tool("systemd-analyze", "systemd")
    env = dict(os.environ, MANPATH=str(man_tree(workdir)))
    # The template itself (verified as instance "i") and a real instance next to its share's mount
    # unit, as the fstab generator would write it.
    units = workdir / "units"
    units.mkdir()
    shutil.copyfile(UNIT, units / "dtypefs@.service")
    os.symlink("dtypefs@.service", units / "dtypefs@srv-share.service")
    (units / "srv-share.mount").write_text(
        "[Mount]\nWhat=//server/share\nWhere=/srv/share\nType=cifs\nOptions=mfsymlinks,_netdev\n")
    for target in (UNIT, units / "dtypefs@srv-share.service"):
        result = run([analyze, "verify", target], env=dict(env, SYSTEMD_UNIT_PATH=f"{units}:"))
        assert result.returncode == 0 and not result.stderr.strip(), describe(result)


def manpage_fstab_lines() -> list[list[str]]:
    """The fstab lines of the manual page's hidden-path example."""
    text = MANPAGE.read_text().replace("\\-", "-")
    block = text.split('.SS "Share at a hidden path (fstab only)"', 1)[1].split(".EE", 1)[0]
    return [line.split() for line in block.splitlines() if line.startswith(("/", "//"))]


def test_manpage_fstab_example_makes_remote_mount_units(workdir):
    """Run systemd's fstab generator on the manual page's example: the dtypefs mount must be a
    remote mount (after the network), mounted after the share it requires."""
    generator = require_tool("/lib/systemd/system-generators/systemd-fstab-generator", "systemd")
    lines = manpage_fstab_lines()
    assert [fields[2] for fields in lines] == ["cifs", FSTYPE], lines
    assert "mfsymlinks" in lines[0][3].split(",")
    fstab = write_fstab(workdir / "fstab", [tuple(fields) for fields in lines])
    out = workdir / "generated"
    out.mkdir()
    result = run([generator, out, out, out], env=dict(os.environ, SYSTEMD_FSTAB=str(fstab),
                                                     SYSTEMD_LOG_LEVEL="warning"))
    assert result.returncode == 0, describe(result)
    share_dir = lines[1][1]
    unit_name = run(["systemd-escape", "--path", "--suffix=mount", share_dir]).stdout.strip()
    raw_name = run(["systemd-escape", "--path", "--suffix=mount", lines[0][1]]).stdout.strip()
    unit = read_unit(out / unit_name)
    assert unit["Mount"]["Type"] == FSTYPE
    assert unit["Mount"]["What"] == lines[0][1]
    assert lines[0][1] in unit["Unit"]["RequiresMountsFor"].split()
    assert (out / "remote-fs.target.wants" / unit_name).exists(), (
        f"{unit_name} must be a remote mount (needs _netdev): {sorted(p.name for p in out.rglob('*'))}")
    assert (out / "remote-fs.target.wants" / raw_name).exists()
    assert not (out / "local-fs.target.wants" / unit_name).exists()
    analyze = shutil.which("systemd-analyze")
    if analyze:
        result = run([analyze, "verify", "--man=no", out / unit_name],
                     env=dict(os.environ, SYSTEMD_UNIT_PATH=f"{out}:"))
        assert result.returncode == 0 and not result.stderr.strip(), describe(result)


# ---------------------------------------------------------------------------------------------
# The manual page.

def test_manpage_renders_cleanly():
    groff = require_tool("groff", "groff")
    result = run([groff, "-man", "-Tutf8", "-ww", "-z", MANPAGE])
    assert result.returncode == 0 and not result.stderr.strip(), describe(result)
    man = require_tool("man", "man-db")
    result = run([man, "-P", "cat", "-l", MANPAGE], env=dict(os.environ, MANWIDTH="100"))
    assert result.returncode == 0 and not result.stderr.strip(), describe(result)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FSTAB", "SYSTEMD", "EXIT STATUS",
                    "SIGNALS", "LOGGING", "FILES", "SEE ALSO"):
        assert re.search(rf"^{section}$", result.stdout, re.MULTILINE), f"section {section} missing"
    for option in ("dtype=verify", "allow_other", "noallow_other", "attr_timeout=", "entry_timeout=",
                   "negative_timeout=", "max_threads=", "fsname=", "-f", "-d", "--help", "--version",
                   "--json", "--recursive", "x-systemd.requires-mounts-for=", "mount.fuse3(8)",
                   "mount.cifs(8)", "fusermount3(1)", "mount --fstab"):
        assert option in result.stdout, f"{option} is not documented"


# ---------------------------------------------------------------------------------------------
# (e) install.sh / uninstall.sh, into private prefixes.

def installed_files(prefix: Path, unitdir: Path) -> dict[str, Path]:
    return {"bin": prefix / "bin" / "dtypefs", "man": prefix / "share" / "man" / "man8" / "dtypefs.8",
            "unit": unitdir / "dtypefs@.service"}


def test_install_and_uninstall_into_a_prefix(built_binary, workdir):
    prefix, unitdir = workdir / "usr-local", workdir / "units"
    env = dict(os.environ, UNITDIR=str(unitdir))
    env.pop("DESTDIR", None)
    files = installed_files(prefix, unitdir)
    try:
        for attempt in (1, 2):  # the second run checks idempotence
            result = run(["bash", INSTALL, "--binary", built_binary, prefix], env=env)
            assert result.returncode == 0, f"attempt {attempt}: {describe(result)}"
            for path in files.values():
                assert str(path) in result.stdout, f"install.sh should report {path}:\n{result.stdout}"
            assert "not on mount.fuse3's PATH" in result.stderr, (
                f"a prefix outside mount.fuse3's PATH deserves a warning:\n{describe(result)}")
        assert stat.S_IMODE(files["bin"].stat().st_mode) == 0o755
        assert stat.S_IMODE(files["man"].stat().st_mode) == 0o644
        assert stat.S_IMODE(files["unit"].stat().st_mode) == 0o644
        assert filecmp.cmp(files["bin"], built_binary, shallow=False)
        assert files["man"].read_bytes() == MANPAGE.read_bytes()

        version = run([files["bin"], "--version"])
        assert version.returncode == 0 and "dtypefs" in version.stdout.lower(), describe(version)
        page = run(["man", "-P", "cat", "-l", files["man"]])
        assert page.returncode == 0 and "dtypefs" in page.stdout and not page.stderr.strip(), describe(page)
        # man finds it by name under the prefix, too.
        page = run(["man", "-P", "cat", "dtypefs"], env=dict(os.environ, MANPATH=str(prefix / "share" / "man")))
        assert page.returncode == 0 and "SYNOPSIS" in page.stdout, describe(page)

        unit = read_unit(files["unit"])
        assert shlex.split(unit["Service"]["ExecStart"])[0] == str(files["bin"])
        assert files["unit"].read_text().replace(str(files["bin"]), "/usr/local/bin/dtypefs") == UNIT.read_text()
        analyze = shutil.which("systemd-analyze")
        if analyze:
            result = run([analyze, "verify", files["unit"]],
                         env=dict(os.environ, MANPATH=str(prefix / "share" / "man")))
            assert result.returncode == 0 and not result.stderr.strip(), describe(result)
        elif under_ci():
            pytest.fail("CI must verify the installed unit: systemd-analyze is missing (apt-get install systemd)")

        for attempt in (1, 2):
            result = run(["bash", UNINSTALL, prefix], env=env)
            assert result.returncode == 0, describe(result)
            for name, path in files.items():
                assert not os.path.lexists(path), f"uninstall.sh left {name}: {path}"
        assert "nothing to remove" in result.stdout
    finally:
        if any(os.path.lexists(p) for p in files.values()):
            subprocess.run(["bash", UNINSTALL, str(prefix)], env=env, capture_output=True)


def test_install_with_destdir_and_prefix_usr(built_binary, workdir):
    """Staged packaging layout: PREFIX=/usr puts the unit in /usr/lib/systemd/system and points it
    at /usr/bin/dtypefs; nothing outside DESTDIR changes."""
    destdir = workdir / "stage"
    env = dict(os.environ, DESTDIR=str(destdir))
    env.pop("UNITDIR", None)
    result = run(["bash", INSTALL, "--binary", built_binary, "/usr"], env=env)
    assert result.returncode == 0, describe(result)
    assert "not on mount.fuse3's PATH" not in result.stderr, describe(result)
    staged = sorted(str(p.relative_to(destdir)) for p in destdir.rglob("*") if p.is_file())
    assert staged == ["usr/bin/dtypefs", "usr/lib/systemd/system/dtypefs@.service",
                      "usr/share/man/man8/dtypefs.8"], staged
    unit = read_unit(destdir / "usr/lib/systemd/system/dtypefs@.service")
    assert shlex.split(unit["Service"]["ExecStart"])[0] == "/usr/bin/dtypefs"
    result = run(["bash", UNINSTALL, "/usr"], env=env)
    assert result.returncode == 0, describe(result)
    assert [p for p in destdir.rglob("*") if p.is_file()] == []


def test_uninstall_keeps_a_unit_that_runs_another_binary(built_binary, workdir):
    unitdir = workdir / "units"
    env = dict(os.environ, UNITDIR=str(unitdir))
    env.pop("DESTDIR", None)
    first, second = workdir / "first", workdir / "second"
    try:
        for prefix in (first, second):
            result = run(["bash", INSTALL, "--binary", built_binary, prefix], env=env)
            assert result.returncode == 0, describe(result)
        result = run(["bash", UNINSTALL, first], env=env)
        assert result.returncode == 0, describe(result)
        assert "keeping" in result.stdout, describe(result)
        assert (unitdir / "dtypefs@.service").exists(), "the unit now belongs to the second install"
        assert not (first / "bin" / "dtypefs").exists()
        assert (second / "bin" / "dtypefs").exists()
    finally:
        for prefix in (first, second):
            subprocess.run(["bash", UNINSTALL, str(prefix)], env=env, capture_output=True)


@pytest.mark.parametrize("args, message", [
    (["relative/prefix"], "PREFIX must be an absolute path"),
    (["--binary", "/nonexistent/dtypefs", "/tmp/unused-prefix"], "no executable binary"),
    (["--frobnicate"], "unknown option '--frobnicate'"),
])
def test_install_reports_bad_arguments(workdir, args, message):
    env = dict(os.environ, UNITDIR=str(workdir / "units"))
    result = run(["bash", INSTALL, *args], env=env)
    assert result.returncode != 0, describe(result)
    assert message in result.stderr, describe(result)
    assert not (workdir / "units").exists(), "nothing may be installed after an error"
    assert not Path("/tmp/unused-prefix").exists()


def test_uninstall_refuses_while_an_instance_is_enabled(built_binary, workdir):
    prefix, unitdir = workdir / "p", workdir / "units"
    env = dict(os.environ, UNITDIR=str(unitdir))
    env.pop("DESTDIR", None)
    try:
        result = run(["bash", INSTALL, "--binary", built_binary, prefix], env=env)
        assert result.returncode == 0, describe(result)
        wants = unitdir / "remote-fs.target.wants"
        wants.mkdir()
        os.symlink(unitdir / "dtypefs@.service", wants / "dtypefs@srv-share.service")
        result = run(["bash", UNINSTALL, prefix], env=env)
        assert result.returncode != 0 and "still enabled" in result.stderr, describe(result)
        assert (unitdir / "dtypefs@.service").exists() and (prefix / "bin" / "dtypefs").exists()
        os.unlink(wants / "dtypefs@srv-share.service")
        result = run(["bash", UNINSTALL, prefix], env=env)
        assert result.returncode == 0, describe(result)
    finally:
        subprocess.run(["bash", UNINSTALL, str(prefix)], env=env, capture_output=True)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))


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
