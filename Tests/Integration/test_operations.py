"""Every passthrough operation, run as a scenario on a plain directory (the control) and through a
dtypefs mount: the two runs must observe the same thing. After each run through the mount, the
mounted tree must also mirror the backing tree exactly (inode numbers, link counts, modes, owners,
sizes, contents, link targets), because dtypefs promises that inode numbers and link counts are the
backing ones. A few checks need the backing path itself (statfs, locks seen by other users of the
backing directory, ownership of what unprivileged callers create); those compare the mount against
the backing directory, with the plain directory standing in for both as the control.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import socket
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import scenarios
from fsmount import Mounted, is_mounted, mounted_dtypefs
from scenarios import SCENARIOS, as_user, attempt, digest, lock_child, posix_lock, write


@dataclass
class Trio:
    base: Path
    src: Path
    mnt: Path
    ref: Path
    mounted: Mounted


@pytest.fixture(scope="module")
def trio():
    # Not tmp_path_factory: pytest's base temp dir is mode 0700, and the unprivileged-caller
    # scenarios need uid 1000 to reach both the control and the mount. Short paths also keep
    # AF_UNIX socket names within sun_path.
    base = Path(tempfile.mkdtemp(prefix="dtypefs-ops-"))
    os.chmod(base, 0o755)
    src, mnt, ref = base / "src", base / "mnt", base / "ref"
    for path in (src, mnt, ref):
        path.mkdir()
    try:
        with mounted_dtypefs(src, mnt) as mounted:
            yield Trio(base, src, mnt, ref, mounted)
    finally:
        # Never recurse into a mount that failed to go away: that would delete through it.
        if not is_mounted(mnt):
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def daemon_survives(trio):
    yield
    assert trio.mounted.process.poll() is None, "dtypefs exited during the test"


@pytest.fixture(autouse=True)
def fixed_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def fresh(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)
    return path


def tree_view(root: Path) -> dict:
    """Everything about a tree that a passthrough must keep: lstat'ed entry by entry (no trust
    in readdir's d_type), inode numbers included, since the mount reports the backing ones."""
    view = {}
    pending = [root]
    while pending:
        directory = pending.pop()
        for name in sorted(os.listdir(directory)):
            path = directory / name
            st = os.lstat(path)
            entry = {"ino": st.st_ino, "nlink": st.st_nlink, "mode": oct(st.st_mode),
                     "uid": st.st_uid, "gid": st.st_gid, "size": st.st_size}
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                entry["rdev"] = st.st_rdev
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    entry["data"] = digest(f.read())
            elif stat.S_ISLNK(st.st_mode):
                entry["target"] = os.readlink(path)
            elif stat.S_ISDIR(st.st_mode):
                pending.append(path)
            view[str(path.relative_to(root))] = entry
    top = os.lstat(root)
    view["."] = {"ino": top.st_ino, "nlink": top.st_nlink, "mode": oct(top.st_mode),
                 "uid": top.st_uid, "gid": top.st_gid}
    return view


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(trio, name):
    run = SCENARIOS[name]
    expected = run(fresh(trio.ref, name))
    os.umask(0o022)
    actual = run(fresh(trio.mnt, name))
    assert actual == expected
    assert tree_view(trio.mnt / name) == tree_view(trio.src / name)


def test_statfs_is_the_backing_filesystems(trio):
    write(trio.mnt / "statfs_file", b"x")
    fields = ("f_bsize", "f_frsize", "f_blocks", "f_files", "f_namemax")

    def view(root: Path) -> dict:
        return {where: {f: getattr(os.statvfs(root / where), f) for f in fields}
                for where in (".", "statfs_file")}

    # Free counts drift with other activity on the disk, so only the fixed geometry is compared.
    assert view(trio.mnt) == view(trio.src)
    assert attempt(os.statvfs, trio.mnt / "missing") == "!ENOENT"


def flock_across(front: Path, back: Path) -> dict:
    """Lock through `front`, observe through `back` (another user of the same file), and the
    other way round. On a plain directory front and back are the same path."""
    out = {}
    a = os.open(front, os.O_RDWR)
    try:
        out["front_ex"] = attempt(fcntl.flock, a, fcntl.LOCK_EX | fcntl.LOCK_NB)
        b = os.open(back, os.O_RDWR)
        try:
            out["back_ex_same_process"] = attempt(fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
            out["back_sh_same_process"] = attempt(fcntl.flock, b, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(b)
        out["back_child"] = lock_child(back, [["flock", "ex"], ["flock", "sh"]])
        fcntl.flock(a, fcntl.LOCK_UN)
        out["back_child_after_unlock"] = lock_child(back, [["flock", "ex"]])
    finally:
        os.close(a)
    b = os.open(back, os.O_RDWR)
    try:
        fcntl.flock(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
        out["front_child_vs_back_lock"] = lock_child(front, [["flock", "ex"], ["flock", "sh"]])
        c = os.open(front, os.O_RDWR)
        try:
            out["front_same_process_vs_back_lock"] = attempt(fcntl.flock, c, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(c)
    finally:
        os.close(b)
    out["front_child_after_back_closed"] = lock_child(front, [["flock", "ex"]])
    return out


def test_flock_is_forwarded_to_the_backing_file(trio):
    write(trio.ref / "flock_across", b"")
    write(trio.mnt / "flock_across", b"")
    expected = flock_across(trio.ref / "flock_across", trio.ref / "flock_across")
    actual = flock_across(trio.mnt / "flock_across", trio.src / "flock_across")
    assert actual == expected


def posix_across(front: Path, back: Path) -> dict:
    """Record locks held by this process through `front`, probed by another process through
    `back`, and the reverse. The holder's pid is left out: seen from the backing side, the
    holder may legitimately be the daemon."""

    def strip_pid(results):
        return [{k: v for k, v in r.items() if k != "pid"} if isinstance(r, dict) else r
                for r in results]

    out = {}
    fd = os.open(front, os.O_RDWR)
    try:
        posix_lock(fd, "wr", 0, 10)
        posix_lock(fd, "rd", 20, 10)
        out["back_probe"] = strip_pid(lock_child(back, [
            ["setlk", "wr", 5, 1], ["setlk", "rd", 9, 1], ["setlk", "wr", 10, 10],
            ["setlk", "rd", 20, 10], ["setlk", "wr", 25, 1], ["getlk", "wr", 0, 100]]))
        posix_lock(fd, "un", 0, 0)
        out["back_after_unlock"] = lock_child(back, [["setlk", "wr", 0, 100]])
    finally:
        os.close(fd)
    fd = os.open(back, os.O_RDWR)
    try:
        posix_lock(fd, "wr", 40, 5)
        out["front_probe"] = strip_pid(lock_child(front, [
            ["setlk", "wr", 42, 1], ["setlk", "rd", 44, 10], ["setlk", "wr", 45, 5],
            ["getlk", "rd", 0, 0]]))
    finally:
        os.close(fd)
    out["front_after_back_closed"] = lock_child(front, [["setlk", "wr", 0, 0]])
    return out


def test_posix_locks_are_forwarded_to_the_backing_file(trio):
    write(trio.ref / "posix_across", b"x" * 100)
    write(trio.mnt / "posix_across", b"x" * 100)
    expected = posix_across(trio.ref / "posix_across", trio.ref / "posix_across")
    actual = posix_across(trio.mnt / "posix_across", trio.src / "posix_across")
    assert actual == expected


def _create_one_of_each(d: str) -> dict:
    p = Path(d)
    out = {}
    out["file"] = attempt(lambda: os.close(os.open(p / "file", os.O_CREAT | os.O_WRONLY, 0o644)))
    out["dir"] = attempt(os.mkdir, p / "dir")
    out["symlink"] = attempt(os.symlink, "file", p / "symlink")
    out["fifo"] = attempt(os.mkfifo, p / "fifo")
    out["mknod_reg"] = attempt(os.mknod, p / "mknod_reg", stat.S_IFREG | 0o644)
    cwd = os.getcwd()
    os.chdir(p)
    try:
        with socket.socket(socket.AF_UNIX) as s:
            out["sock"] = attempt(s.bind, "sock")
    finally:
        os.chdir(cwd)
    return out


def test_unprivileged_creations_belong_to_the_caller_in_the_backing_dir(trio):
    names = ("file", "dir", "symlink", "fifo", "mknod_reg", "sock")
    results = {}
    for label, front, back in (("control", trio.ref, trio.ref), ("mount", trio.mnt, trio.src)):
        d = fresh(front, "owned_by_caller")
        os.chmod(d, 0o1777)
        made = as_user(scenarios.OTHER_UID, scenarios.OTHER_GID, _create_one_of_each, str(d))
        owners = {n: attempt(lambda n=n: (os.lstat(back / "owned_by_caller" / n).st_uid,
                                          os.lstat(back / "owned_by_caller" / n).st_gid))
                  for n in names}
        results[label] = {"made": made, "backing_owners": owners}
    want = (scenarios.OTHER_UID, scenarios.OTHER_GID)
    # The control proves the expectation; the mount must match it in the backing directory.
    assert results["control"]["backing_owners"] == {n: want for n in names}
    assert results["mount"] == results["control"]
