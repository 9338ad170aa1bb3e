"""Faults: the backing filesystem dies, detaches, fills up or changes behind dtypefs; dtypefs dies.

Each test mounts its own filesystems (emulator, tmpfs) on its own temp directories and undoes them
in `finally`, whatever happens.
"""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import subprocess

import pytest

from fsmount import errno_of, is_mounted, mounted_dtypefs, mounted_emulator, wait_until

GONE = {errno.EIO, errno.ENOTCONN}



def fusermount(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["fusermount3", *args], capture_output=True, text=True)


@contextlib.contextmanager
def tmpfs(path, options: str):
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        if is_mounted(path, "tmpfs"):
            subprocess.run(["umount", str(path)], capture_output=True)
            if is_mounted(path, "tmpfs"):
                subprocess.run(["umount", "-l", str(path)], capture_output=True)


def read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def write(path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)



# ---------------------------------------------------------------------------------------------

def test_emulator_killed_under_dtypefs(workdir):
    backing, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    for name in ("seen.txt", "unread.txt", "held.txt"):
        write(backing / name, name.encode() * 100)
    (backing / "dir").mkdir()
    (backing / "dir" / "inner.txt").write_bytes(b"inner")
    with mounted_emulator(backing, emu) as emulator:
        with mounted_dtypefs(emu, mnt) as dtypefs:
            assert read(mnt / "seen.txt") == b"seen.txt" * 100
            held = os.open(mnt / "held.txt", os.O_RDONLY)
            try:
                emulator.process.send_signal(signal.SIGKILL)
                emulator.process.wait()
                # Only operations that must reach the backing fs: names never looked up, data
                # never read, a directory never listed.
                outcomes = {
                    "listdir": errno_of(lambda: os.listdir(mnt / "dir")),
                    "stat new name": errno_of(lambda: os.stat(mnt / "never-seen")),
                    "create": errno_of(lambda: write(mnt / "created.txt", b"x")),
                    "mkdir": errno_of(lambda: os.mkdir(mnt / "newdir")),
                    "read unread file": errno_of(lambda: read(mnt / "unread.txt")),
                    "read held fd": errno_of(lambda: os.pread(held, 10, 0)),
                }
                assert {op: e for op, e in outcomes.items() if e not in GONE} == {}, outcomes
                assert dtypefs.process.poll() is None, "dtypefs died with its backing fs"
                # And again: a daemon that survives one failure must survive the next ones.
                assert errno_of(lambda: os.listdir(mnt)) in GONE | {None}
                assert dtypefs.process.poll() is None
            finally:
                # close() sends FLUSH, which fails too with the backing fs gone.
                with contextlib.suppress(OSError):
                    os.close(held)
            result = fusermount("-u", str(mnt))
            assert result.returncode == 0, result.stderr
            assert dtypefs.process.wait(timeout=20) == 0
        result = fusermount("-uz", str(emu))
        assert result.returncode == 0, result.stderr
        assert not is_mounted(emu)


def test_backing_tmpfs_lazily_unmounted(workdir):
    """After `umount -l` the backing tree is detached but alive while dtypefs holds it open: each
    operation either still works on that detached tree or fails with EIO/ENOTCONN. Nothing may
    land in the directory the detached mount used to cover (now visible at the same path)."""
    backing, mnt = workdir / "src", workdir / "mnt"
    with tmpfs(backing, "size=16m"):
        write(backing / "a.txt", b"alpha")
        (backing / "d").mkdir()
        with mounted_dtypefs(backing, mnt) as dtypefs:
            assert read(mnt / "a.txt") == b"alpha"
            subprocess.run(["umount", "-l", str(backing)], check=True)
            assert os.listdir(backing) == []
            outcomes = {}
            for op, action, expected in [
                ("read", lambda: read(mnt / "a.txt"), b"alpha"),
                ("listdir", lambda: sorted(os.listdir(mnt)), ["a.txt", "d"]),
                ("create", lambda: write(mnt / "d" / "new.txt", b"new"), None),
                ("read back", lambda: read(mnt / "d" / "new.txt"), b"new"),
            ]:
                try:
                    got = action()
                    outcomes[op] = "ok" if got == expected else f"wrong result {got!r}"
                except OSError as error:
                    outcomes[op] = "gone" if error.errno in GONE else errno.errorcode[error.errno]
            assert all(v in ("ok", "gone") for v in outcomes.values()), outcomes
            assert os.listdir(backing) == [], "dtypefs wrote into the uncovered directory"
            assert dtypefs.process.poll() is None
            result = fusermount("-u", str(mnt))
            assert result.returncode == 0, result.stderr
            assert dtypefs.process.wait(timeout=20) == 0


def test_emulator_lazily_unmounted(workdir):
    backing, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    write(backing / "a.txt", b"alpha")
    with mounted_emulator(backing, emu) as emulator:
        with mounted_dtypefs(emu, mnt) as dtypefs:
            result = fusermount("-uz", str(emu))
            assert result.returncode == 0, result.stderr
            got = {}
            for op, action in [("read", lambda: read(mnt / "a.txt")), ("listdir", lambda: os.listdir(mnt)),
                               ("create", lambda: write(mnt / "b.txt", b"b"))]:
                try:
                    got[op] = action()
                except OSError as error:
                    got[op] = errno.errorcode[error.errno]
            assert got["read"] in (b"alpha", "EIO", "ENOTCONN"), got
            assert got["listdir"] in (["a.txt"], "EIO", "ENOTCONN"), got
            assert got["create"] in (None, "EIO", "ENOTCONN"), got
            assert dtypefs.process.poll() is None
            result = fusermount("-u", str(mnt))
            assert result.returncode == 0, result.stderr
            assert dtypefs.process.wait(timeout=20) == 0
        # With dtypefs gone, the detached emulator mount has no user left and is released.
        with contextlib.suppress(subprocess.TimeoutExpired):
            emulator.process.wait(timeout=10)
        if emulator.process.poll() is None:
            emulator.process.send_signal(signal.SIGTERM)


def test_dtypefs_sigkill_then_lazy_unmount_and_remount(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    write(src / "file.txt", b"survives")
    os.symlink("file.txt", src / "link")
    with mounted_dtypefs(src, mnt) as dtypefs:
        assert read(mnt / "file.txt") == b"survives"
        dtypefs.process.send_signal(signal.SIGKILL)
        assert dtypefs.process.wait() == -signal.SIGKILL
        assert errno_of(lambda: os.listdir(mnt)) == errno.ENOTCONN
        result = fusermount("-uz", str(mnt))
        assert result.returncode == 0, result.stderr
        assert not is_mounted(mnt)
    with mounted_dtypefs(src, mnt) as again:
        assert read(mnt / "file.txt") == b"survives"
        with os.scandir(mnt) as entries:
            assert {e.name: e.is_symlink() for e in entries} == {"file.txt": False, "link": True}
        assert again.stop() == 0


def test_backing_full_passes_enospc(workdir):
    backing, mnt = workdir / "src", workdir / "mnt"
    chunk = 64 * 1024
    with tmpfs(backing, "size=4m"):
        with mounted_dtypefs(backing, mnt) as dtypefs:
            # df on the mount must show the backing filesystem.
            assert os.statvfs(mnt).f_blocks * os.statvfs(mnt).f_frsize == \
                os.statvfs(backing).f_blocks * os.statvfs(backing).f_frsize
            kept = {}
            failure = None
            for i in range(200):
                path = mnt / f"keep-{i:03}"
                data = bytes([i % 251 + 1]) * (4 * chunk)
                try:
                    with open(path, "wb") as f:
                        for off in range(0, len(data), chunk):
                            f.write(data[off:off + chunk])
                        f.flush()
                        os.fsync(f.fileno())
                except OSError as error:
                    failure = error
                    break
                kept[path.name] = data
            assert failure is not None, "a 4 MiB filesystem never filled"
            assert failure.errno == errno.ENOSPC, f"expected ENOSPC, got {failure!r}"
            assert len(kept) >= 8
            for name, data in kept.items():
                assert read(mnt / name) == data, f"{name} damaged through the mount"
                assert read(backing / name) == data, f"{name} damaged in the backing fs"
            # Space freed in the backing fs is usable again through the mount.
            os.unlink(mnt / "keep-000")
            write(mnt / "after.txt", b"room again")
            assert read(mnt / "after.txt") == b"room again"
            assert dtypefs.process.poll() is None


def test_backing_out_of_inodes_passes_enospc(workdir):
    backing, mnt = workdir / "src", workdir / "mnt"
    with tmpfs(backing, "size=4m,nr_inodes=40"):
        with mounted_dtypefs(backing, mnt) as dtypefs:
            made = []
            outcome = None
            for i in range(100):
                kind = ("file", "dir", "link")[i % 3]
                path = mnt / f"{kind}-{i:03}"
                try:
                    if kind == "file":
                        write(path, str(i).encode())
                    elif kind == "dir":
                        os.mkdir(path)
                    else:
                        os.symlink(f"target-{i}", path)
                except OSError as error:
                    outcome = error
                    break
                made.append((kind, path, i))
            assert outcome is not None and outcome.errno == errno.ENOSPC, f"expected ENOSPC, got {outcome!r}"
            for kind, path, i in made:
                st = os.lstat(path)
                if kind == "file":
                    assert read(path) == str(i).encode()
                elif kind == "dir":
                    assert stat.S_ISDIR(st.st_mode)
                else:
                    assert os.readlink(path) == f"target-{i}"
            assert dtypefs.process.poll() is None


def test_backing_changed_behind_dtypefs(workdir):
    """Writes and renames made directly in SOURCE show through the mount once the attribute and
    entry timeouts (1 s here) have passed."""
    src, mnt = workdir / "src", workdir / "mnt"
    write(src / "same-size.txt", b"a" * 4096)
    write(src / "grows.txt", b"short")
    write(src / "old-name.txt", b"renamed behind")
    write(src / "becomes-dir", b"file first")
    write(src / "becomes-link", b"file first")
    write(src / "vanishes.txt", b"bye")
    with mounted_dtypefs(src, mnt, options=["attr_timeout=1", "entry_timeout=1"]) as dtypefs:
        # Look everything up and read it, so the kernel holds entries, attributes and pages.
        for name in os.listdir(mnt):
            os.lstat(mnt / name)
            read(mnt / name)

        fd = os.open(src / "same-size.txt", os.O_WRONLY)
        os.pwrite(fd, b"b" * 4096, 0)
        os.close(fd)
        os.utime(src / "same-size.txt", (1_000_000_000, 1_000_000_000))
        with open(src / "grows.txt", "ab") as f:
            f.write(b" and longer")
        os.rename(src / "old-name.txt", src / "new-name.txt")
        os.unlink(src / "becomes-dir")
        os.mkdir(src / "becomes-dir")
        write(src / "becomes-dir" / "inside.txt", b"inside")
        os.unlink(src / "becomes-link")
        os.symlink("grows.txt", src / "becomes-link")
        os.unlink(src / "vanishes.txt")
        write(src / "appears.txt", b"new")

        checks = {
            "same-size content": lambda: read(mnt / "same-size.txt") == b"b" * 4096,
            "grown size": lambda: os.stat(mnt / "grows.txt").st_size == len(b"short and longer"),
            "grown content": lambda: read(mnt / "grows.txt") == b"short and longer",
            "new name listed": lambda: "new-name.txt" in os.listdir(mnt) and "old-name.txt" not in os.listdir(mnt),
            "new name reads": lambda: read(mnt / "new-name.txt") == b"renamed behind",
            "old name gone": lambda: errno_of(lambda: os.stat(mnt / "old-name.txt")) == errno.ENOENT,
            "file became dir": lambda: os.path.isdir(mnt / "becomes-dir")
            and os.listdir(mnt / "becomes-dir") == ["inside.txt"],
            "file became link": lambda: os.path.islink(mnt / "becomes-link")
            and os.readlink(mnt / "becomes-link") == "grows.txt",
            "listed as link": lambda: {e.name: e.is_symlink() for e in os.scandir(mnt)}.get("becomes-link") is True,
            "vanished": lambda: errno_of(lambda: os.stat(mnt / "vanishes.txt")) == errno.ENOENT,
            "appeared": lambda: read(mnt / "appears.txt") == b"new",
        }

        def safe(check):
            try:
                return check()
            except OSError:
                return False

        results = {name: wait_until(lambda c=check: safe(c)) for name, check in checks.items()}
        assert [name for name, ok in results.items() if not ok] == []
        assert dtypefs.process.poll() is None
