"""What an admin meets (issue 14): a daemon that dies leaves no dead mount with auto_unmount, and
without it the error names the cure; a second mount on the same point is refused; a share that
is not mounted is warned about, or refused with require_mountpoint; the background daemon's log
goes to a file that logrotate may move; `dtypefs check` on a missing path says nothing was checked.
"""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
from pathlib import Path

from fsmount import dtypefs_binary, errno_of, is_mounted, mounted_dtypefs, unmount, wait_until


def run(*args, timeout=30) -> subprocess.CompletedProcess:
    return subprocess.run([dtypefs_binary(), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def daemon_pid(source: Path, mountpoint: Path) -> int:
    out = subprocess.run(["pgrep", "-f", f"dtypefs {source} {mountpoint}"], capture_output=True, text=True).stdout.split()
    assert len(out) == 1, f"expected one daemon, found {out}"
    return int(out[0])



def cleanup(mountpoint: Path) -> None:
    for _ in range(3):
        if not is_mounted(mountpoint):
            return
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


def test_auto_unmount_removes_the_mount_when_the_daemon_is_killed(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "f").write_text("x")
    try:
        result = run(src, mnt, "-o", "auto_unmount")
        assert result.returncode == 0, result.stderr
        assert (mnt / "f").read_text() == "x"
        os.kill(daemon_pid(src, mnt), signal.SIGKILL)
        assert wait_until(lambda: not is_mounted(mnt, "fuse.dtypefs")), "the mount outlived its daemon"
    finally:
        cleanup(mnt)


def test_without_auto_unmount_a_dead_mount_is_named_with_its_cure(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    try:
        assert run(src, mnt).returncode == 0
        os.kill(daemon_pid(src, mnt), signal.SIGKILL)
        time.sleep(0.3)
        assert is_mounted(mnt, "fuse.dtypefs"), "precondition: without auto_unmount the dead mount stays"
        result = run(mnt, mnt)
        assert result.returncode == 1
        assert "umount -l" in result.stderr and "auto_unmount" in result.stderr, result.stderr
    finally:
        cleanup(mnt)


def test_a_second_mount_on_the_same_point_is_refused(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    try:
        assert run(src, mnt).returncode == 0
        again = run(src, mnt)
        assert again.returncode == 1 and "already a dtypefs mount" in again.stderr, again.stderr
        overlay = run(mnt, mnt)
        assert overlay.returncode == 1 and "already a dtypefs mount" in overlay.stderr, overlay.stderr
        layers = subprocess.run(["findmnt", "-n", "-o", "TARGET", str(mnt)], capture_output=True, text=True).stdout.split()
        assert len(layers) == 1, f"stacked: {layers}"
    finally:
        unmount(mnt)
        cleanup(mnt)


def test_a_source_that_is_not_a_mount_point_is_warned_about_or_refused(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    try:
        refused = run(src, mnt, "-o", "require_mountpoint")
        assert refused.returncode == 1 and "not a mount point" in refused.stderr, refused.stderr
        assert not is_mounted(mnt), "nothing may be mounted after a refusal"
        warned = run(src, mnt)
        assert warned.returncode == 0 and "not a mount point" in warned.stderr, warned.stderr
        unmount(mnt)
        # The share mounted: no warning, and require_mountpoint lets it start.
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(src)], check=True)
        try:
            quiet = run(src, mnt, "-o", "require_mountpoint")
            assert quiet.returncode == 0 and "not a mount point" not in quiet.stderr, quiet.stderr
            unmount(mnt)
        finally:
            subprocess.run(["umount", str(src)], check=True)
    finally:
        cleanup(mnt)


def test_the_background_daemon_logs_to_a_file_that_logrotate_may_move(workdir):
    src, mnt, log = workdir / "src", workdir / "mnt", workdir / "dtypefs.log"
    try:
        result = run(src, mnt, "-o", f"logfile={log}")
        assert result.returncode == 0, result.stderr
        assert "no syslog socket" not in result.stderr, "with logfile= nothing is lost"
        assert wait_until(lambda: log.exists() and "mounted" in log.read_text())
        first = log.read_text()
        assert f"{mnt}: mounted {src}" in first, first
        os.rename(log, workdir / "dtypefs.log.1")  # what logrotate does
        os.kill(daemon_pid(src, mnt), signal.SIGUSR1)
        assert wait_until(lambda: log.exists() and "entries listed" in log.read_text()), "no new log file after the move"
        unmount(mnt)
        assert wait_until(lambda: "unmounted" in log.read_text())
    finally:
        cleanup(mnt)
    unreadable = run(src, mnt, "-o", "logfile=/proc/no-such-dir/x.log")
    assert unreadable.returncode == 1 and "cannot open log file" in unreadable.stderr
    assert not is_mounted(mnt)


def test_a_background_daemon_without_syslog_says_its_logs_would_be_lost(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    try:
        result = run(src, mnt)
        assert result.returncode == 0
        if os.path.exists("/dev/log"):
            assert "no syslog socket" not in result.stderr, result.stderr
        else:
            assert "no syslog socket (/dev/log)" in result.stderr and "logfile=" in result.stderr, result.stderr
        foreground = subprocess.Popen([dtypefs_binary(), str(src), str(workdir / "ref"), "-f"],
                                      stderr=subprocess.PIPE, text=True)
        try:
            assert wait_until(lambda: is_mounted(workdir / "ref"))
        finally:
            unmount(workdir / "ref", foreground)
        assert "no syslog socket" not in foreground.stderr.read(), "in the foreground logs go to stderr"
    finally:
        unmount(mnt)
        cleanup(mnt)
        cleanup(workdir / "ref")


def test_check_of_a_missing_path_says_nothing_was_checked(workdir):
    result = run("check", workdir / "missing")
    assert result.returncode == 2
    assert "nothing was checked" in result.stdout and "no entry lies" not in result.stdout, result.stdout


def selinux_lookups_of_ls(tree: Path) -> int:
    """How often `ls -lR` asks for security.selinux: once per entry unless told EOPNOTSUPP."""
    result = subprocess.run(["strace", "-f", "-e", "trace=getxattr,lgetxattr", "ls", "-lR", str(tree)],
                            capture_output=True, text=True, check=True)
    return sum('"security.selinux"' in line for line in result.stderr.splitlines())


def test_xattr_off_answers_not_supported_and_ls_stops_asking(workdir):
    # Issue 14: FUSE caches no xattrs, so `ls -l` over ext4 asks per entry (ENODATA is not
    # remembered, and each ask is a request to the daemon); with xattr=off the kernel hears ENOSYS
    # once, answers EOPNOTSUPP itself from then on, and ls remembers that.
    src, mnt = workdir / "src", workdir / "mnt"
    for i in range(50):
        (src / f"file{i}").write_text("x")
    with mounted_dtypefs(src, mnt):
        asked_with = selinux_lookups_of_ls(mnt)
    with mounted_dtypefs(src, mnt, options=["xattr=off"]):
        asked_without = selinux_lookups_of_ls(mnt)
        assert errno_of(lambda: os.getxattr(mnt / "file0", "user.x")) == errno.EOPNOTSUPP
        assert errno_of(lambda: os.setxattr(mnt / "file0", "user.x", b"1")) == errno.EOPNOTSUPP
    assert asked_with >= 50, asked_with
    assert asked_without == 1, asked_without
