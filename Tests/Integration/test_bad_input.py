"""Bad command lines: dtypefs says what is wrong, exits non-zero, mounts nothing and leaves no
process behind. Run as a user would, without -f, so an error found after daemonising shows too."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from fsmount import dtypefs_binary, is_mounted, mount_entry, unmount


def dtypefs_processes_naming(path: Path) -> list[str]:
    """Command lines of live dtypefs processes whose arguments name `path`."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if args and os.path.basename(args[0]) == "dtypefs" and any(str(path) in a for a in args):
            out.append(f"{pid}: {' '.join(args)}")
    return out


def run_dtypefs(*args, timeout: float = 20.0) -> subprocess.CompletedProcess:
    return subprocess.run([dtypefs_binary(), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


USAGE = (2,)          # the contract: 2 for a usage error
RUNTIME = (1, 2)      # a path that is wrong only at run time: 1, or 2 if caught while parsing


def assert_failed_cleanly(result, mountpoint: Path, *mentions: str, codes=USAGE):
    output = result.stderr
    assert result.returncode in codes, \
        f"expected exit status in {codes}, got {result.returncode}; stderr:\n{output}"
    lowered = output.lower()
    assert any(m.lower() in lowered for m in mentions), \
        f"stderr should name one of {mentions}; it says:\n{output!r}"
    for crash in ("Fatal error", "Segmentation", "Aborted", "Stack dump", "backtrace"):
        assert crash not in output, f"dtypefs crashed instead of reporting an error:\n{output}"
    time.sleep(0.2)  # a daemonised child would mount or die within this
    assert not is_mounted(mountpoint), f"something got mounted: {mount_entry(mountpoint)}"
    left = dtypefs_processes_naming(mountpoint)
    assert not left, f"dtypefs processes left behind: {left}"


@pytest.fixture
def dirs(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "file").write_text("x")
    yield src, mnt
    # Whatever the outcome, never leave a mount behind.
    if is_mounted(mnt):
        unmount(mnt)


def test_no_arguments(dirs):
    src, mnt = dirs
    result = run_dtypefs()
    assert_failed_cleanly(result, mnt, "usage", "source", "missing")


def test_nonexistent_source(dirs, workdir):
    _, mnt = dirs
    missing = workdir / "no-such-source"
    result = run_dtypefs(missing, mnt)
    assert_failed_cleanly(result, mnt, str(missing), missing.name, codes=RUNTIME)


def test_source_is_a_regular_file(dirs):
    src, mnt = dirs
    result = run_dtypefs(src / "file", mnt)
    assert_failed_cleanly(result, mnt, str(src / "file"), "not a directory", codes=RUNTIME)


def test_missing_mountpoint(dirs):
    src, mnt = dirs
    result = run_dtypefs(src)
    assert_failed_cleanly(result, mnt, "mountpoint", "mount point", "usage")


def test_nonexistent_mountpoint(dirs, workdir):
    src, _ = dirs
    missing = workdir / "no-such-mountpoint"
    result = run_dtypefs(src, missing)
    assert_failed_cleanly(result, missing, str(missing), missing.name, codes=RUNTIME)


@pytest.mark.parametrize("option, mentions", [
    ("frobnicate", ("frobnicate",)),
    ("dtype=sometimes", ("sometimes",)),
    ("attr_timeout=-3", ("attr_timeout",)),
    ("max_threads=0", ("max_threads",)),
    ("max_threads=abc", ("max_threads",)),
])
def test_bad_option(dirs, option, mentions):
    src, mnt = dirs
    result = run_dtypefs(src, mnt, "-o", option)
    assert_failed_cleanly(result, mnt, *mentions)


def test_bad_option_among_good_ones(dirs):
    src, mnt = dirs
    result = run_dtypefs(src, mnt, "-o", "ro,dtype=sometimes,allow_other")
    assert_failed_cleanly(result, mnt, "sometimes")


def test_bad_option_in_foreground(dirs):
    """The same errors with -f: nothing hangs waiting for a mount that never happens."""
    src, mnt = dirs
    result = run_dtypefs(src, mnt, "-f", "-o", "dtype=sometimes")
    assert_failed_cleanly(result, mnt, "sometimes")


def test_unknown_flag(dirs):
    src, mnt = dirs
    result = run_dtypefs(src, mnt, "--bogus")
    assert_failed_cleanly(result, mnt, "bogus")


def test_help():
    result = run_dtypefs("--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    assert "dtype=" in text, f"--help does not document dtype=:\n{text}"


def test_version():
    result = run_dtypefs("--version")
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).strip(), "--version printed nothing"
