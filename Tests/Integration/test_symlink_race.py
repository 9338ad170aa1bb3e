"""Safety: another client of the share swaps a directory for a symlink pointing outside it while a
user works through the mount. dtypefs runs as root, so if it ever followed that symlink it would
change files outside the share (bindfs and mergerfs do: chmod, truncate, files created outside).
Nothing outside SRC may change, however the race falls."""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import stat
import threading
import time
from pathlib import Path

from fsmount import mounted_dtypefs

ATTACK_SECONDS = 4.0
VICTIM_CONTENT = b"precious data, must never change\n"
OLD_TIME_NS = 1_000_000_000 * 1_000_000_000  # 2001-09-09, so any utime or write shows

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> None:
    """renameat2(RENAME_EXCHANGE): swap two names atomically, so `d` always exists."""
    if _libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE):
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(a))


def outside_snapshot(outside: Path) -> dict:
    """Everything an attack could change outside the share: per name its type, mode, owner, size,
    content, mtime, ctime, xattrs; and the directory's own mtime and ctime."""
    snap = {}
    st = os.lstat(outside)
    snap["."] = {"mode": oct(st.st_mode), "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
                 "nlink": st.st_nlink}
    for name in sorted(os.listdir(outside)):
        path = outside / name
        st = os.lstat(path)
        info = {"mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "size": st.st_size,
                "nlink": st.st_nlink, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
                "xattrs": sorted(os.listxattr(path, follow_symlinks=False))}
        if stat.S_ISREG(st.st_mode):
            info["content"] = path.read_bytes()
        snap[name] = info
    return snap


def leaks(before: dict, after: dict) -> list[str]:
    """What changed outside: changes to existing files first, then removals, then creations."""
    changed, removed, created = [], [], []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            removed.append(f"OUTSIDE/{name} was removed or renamed away")
        elif name not in before:
            created.append(f"OUTSIDE/{name} was created: {after[name]}")
        else:
            for key in before[name]:
                if before[name][key] != after[name].get(key):
                    changed.append(f"OUTSIDE/{name}: {key} changed from {before[name][key]!r} "
                                   f"to {after[name].get(key)!r}")
    summary = [f"{len(created)} file(s) created in OUTSIDE"] if created else []
    return changed + removed + summary + created


class Swapper(threading.Thread):
    """The other client of the share: flips SRC/d between a real directory and a symlink to
    OUTSIDE, as fast as it can, alternating an atomic exchange and a rename dance."""

    def __init__(self, src: Path, outside: Path):
        super().__init__(daemon=True)
        self.d, self.parked = src / "d", src / "d.parked"
        self.outside = outside
        self.halt = threading.Event()
        self.swaps = 0
        self.error: BaseException | None = None

    def run(self):
        try:
            while not self.halt.is_set():
                # `d` is the directory, `d.parked` the link: exchange them and back.
                exchange(self.d, self.parked)
                exchange(self.d, self.parked)
                # The dance: move the directory away, put the link in its place, and back.
                os.rename(self.d, self.d.with_name("d.dir"))
                os.rename(self.parked, self.d)
                os.rename(self.d, self.parked)
                os.rename(self.d.with_name("d.dir"), self.d)
                self.swaps += 4
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error


class Attacker(threading.Thread):
    """The user on the mount: every operation that could change a file, on MNT/d/..., in a loop.
    Failures are expected (ENOENT, ENOTDIR, ELOOP, ...); only what changes OUTSIDE matters."""

    def __init__(self, mnt: Path, worker: int):
        super().__init__(daemon=True)
        self.mnt = mnt
        self.worker = worker
        self.halt = threading.Event()
        self.attempts = 0
        self.successes = 0
        self.unexpected: list[str] = []

    def attempt(self, operation, *args, **kwargs):
        self.attempts += 1
        try:
            result = operation(*args, **kwargs)
            self.successes += 1
            return result
        except OSError as error:
            if error.errno in (errno.EIO,):
                names = ", ".join(a.name if isinstance(a, Path) else repr(a) for a in args)
                self.unexpected.append(f"{operation.__name__}({names}): EIO")
            return None

    def run(self):
        d = self.mnt / "d"
        n = 0
        held = None
        while not self.halt.is_set():
            n += 1
            tag = f"{self.worker}-{n}"
            for name in ("victim", "f"):
                target = d / name
                self.attempt(os.chmod, target, 0o777)
                self.attempt(os.chown, target, 4242, 4242)
                self.attempt(os.truncate, target, 0)
                self.attempt(os.utime, target, ns=(0, 0))
                self.attempt(os.setxattr, target, "user.pwned", b"1")
                self.attempt(os.removexattr, target, "user.pwned")
                fd = self.attempt(os.open, target, os.O_WRONLY)
                if fd is not None:
                    self.attempt(os.write, fd, b"PWNED")
                    self.attempt(os.close, fd)
                fd = self.attempt(os.open, target, os.O_WRONLY | os.O_TRUNC | os.O_APPEND)
                if fd is not None:
                    self.attempt(os.write, fd, b"PWNED")
                    self.attempt(os.close, fd)
            # Through a directory fd opened an iteration earlier: SRC/d may since have become the
            # symlink; the fd must keep meaning the directory it was opened on.
            dfd, held = held, self.attempt(os.open, d, os.O_RDONLY | os.O_DIRECTORY)
            if dfd is not None:
                self.attempt(os.chmod, "victim", 0o777, dir_fd=dfd)
                fd = self.attempt(os.open, "victim", os.O_WRONLY, dir_fd=dfd)
                if fd is not None:
                    self.attempt(os.ftruncate, fd, 1)
                    self.attempt(os.close, fd)
                fd = self.attempt(os.open, f"dirfd-new-{tag}", os.O_WRONLY | os.O_CREAT, 0o644,
                                  dir_fd=dfd)
                if fd is not None:
                    self.attempt(os.close, fd)
                self.attempt(os.unlink, f"dirfd-new-{tag}", dir_fd=dfd)
                self.attempt(os.utime, "f", ns=(0, 0), dir_fd=dfd)
                self.attempt(os.close, dfd)
            new = d / f"new-{tag}"
            fd = self.attempt(os.open, new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            if fd is not None:
                self.attempt(os.close, fd)
            self.attempt(os.mkdir, d / f"newdir-{tag}")
            self.attempt(os.symlink, "/etc/passwd", d / f"newlink-{tag}")
            self.attempt(os.mkfifo, d / f"fifo-{tag}")
            self.attempt(os.link, d / "f", d / f"hard-{tag}")
            self.attempt(os.rename, d / "victim", d / f"renamed-{tag}")
            self.attempt(os.rename, d / f"renamed-{tag}", d / "victim")
            self.attempt(os.rename, d / "f", d / "g")
            self.attempt(os.rename, d / "g", d / "f")
            self.attempt(os.unlink, d / "victim")
            # Recreate what the unlink may have taken from the real directory.
            fd = self.attempt(os.open, d / "victim", os.O_WRONLY | os.O_CREAT, 0o644)
            if fd is not None:
                self.attempt(os.close, fd)
            self.attempt(os.unlink, d / f"new-{tag}")
            self.attempt(os.rmdir, d / f"newdir-{tag}")
            self.attempt(os.unlink, d / f"newlink-{tag}")
            self.attempt(os.unlink, d / f"fifo-{tag}")
            self.attempt(os.unlink, d / f"hard-{tag}")
        if held is not None:
            os.close(held)


def test_swapped_directory_symlink_never_leaks_outside(workdir):
    """The link is relative, `SRC/d -> ../outside`, and the mount point sits one level deeper
    than SRC. So when the kernel itself follows MNT/d (legitimately, as a symlink the user asked
    for) it lands in CLIENT/outside, a decoy; only a daemon resolving `d` inside the backing
    directory and following the link there reaches the real OUTSIDE beside SRC."""
    assert os.geteuid() == 0, "the attack matters because dtypefs runs as root"
    src = workdir / "src"
    client = workdir / "client"
    mnt = client / "mnt"
    mnt.mkdir(parents=True)
    outside = workdir / "outside"   # what SRC/d -> ../outside means in the backing filesystem
    decoy = client / "outside"      # what MNT/d -> ../outside means to the kernel: fair game
    for directory in (outside, decoy):
        directory.mkdir()
        for name in ("victim", "f"):
            path = directory / name
            path.write_bytes(VICTIM_CONTENT)
            os.chmod(path, 0o644)
            os.utime(path, ns=(OLD_TIME_NS, OLD_TIME_NS))
    (src / "d").mkdir()
    (src / "d" / "f").write_bytes(b"inside\n")
    (src / "d" / "victim").write_bytes(b"inside victim\n")
    os.symlink("../outside", src / "d.parked")
    # Let the directory's own mtime settle so only a real change shows.
    os.utime(outside, ns=(OLD_TIME_NS, OLD_TIME_NS))
    before = outside_snapshot(outside)

    with mounted_dtypefs(src, mnt) as daemon:
        errors: list[bytes] = []
        drainer = threading.Thread(target=lambda: errors.append(daemon.process.stderr.read()),
                                   daemon=True)
        drainer.start()
        # Prime the kernel's caches with the real directory, as a user would.
        assert sorted(os.listdir(mnt / "d")) == ["f", "victim"]
        swapper = Swapper(src, outside)
        attackers = [Attacker(mnt, worker) for worker in range(3)]
        swapper.start()
        for attacker in attackers:
            attacker.start()
        time.sleep(ATTACK_SECONDS)
        for attacker in attackers:
            attacker.halt.set()
        for attacker in attackers:
            attacker.join(timeout=60)
        swapper.halt.set()
        swapper.join(timeout=60)
        assert daemon.process.poll() is None, "dtypefs died under the attack"
        # Leave SRC/d as the real directory so the mount can be checked afterwards.
        if os.path.islink(src / "d"):
            exchange(src / "d", src / "d.parked")

    after = outside_snapshot(outside)
    leaked = leaks(before, after)
    assert not leaked, "dtypefs followed the swapped symlink out of SRC:\n  " + "\n  ".join(
        leaked[:50]) + (f"\n  ... {len(leaked) - 50} more" if len(leaked) > 50 else "")
    assert swapper.error is None, f"the swapper failed: {swapper.error!r}"
    # The decoy being changed shows the attack reached the link's target the legitimate way.
    reached_decoy = leaks(outside_snapshot(outside), outside_snapshot(decoy))
    attempts = sum(a.attempts for a in attackers)
    successes = sum(a.successes for a in attackers)
    assert swapper.swaps >= 100, f"only {swapper.swaps} swaps: the race was not exercised"
    assert attempts >= 2000, f"only {attempts} attack attempts: the race was not exercised"
    assert successes > 0, "no operation through the mount succeeded: the attack never got in"
    print(f"{swapper.swaps} swaps, {attempts} attempts, {successes} succeeded; the kernel "
          f"followed MNT/d to the decoy: {bool(reached_decoy)}")
    unexpected = [u for a in attackers for u in a.unexpected]
    drainer.join(timeout=10)
    log = b"".join(errors).decode(errors="replace")
    assert not unexpected, (
        f"{len(unexpected)} EIO replies from dtypefs during the race (a swapped directory should "
        f"give ENOENT, ENOTDIR, ELOOP or ESTALE, not an I/O error): {unexpected[:5]}\n"
        f"dtypefs log tail:\n{log[-3000:]}")


def test_directory_swapped_for_symlink_and_back(workdir):
    """The deterministic core of the race: a user holds a directory open on the mount while
    another client swaps it for a symlink and back. The open directory may go stale (ESTALE,
    ENOENT) but must never turn into an I/O error, and once the directory is back it works."""
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "d").mkdir()
    (src / "d" / "f").write_bytes(b"inside\n")
    (workdir / "outside").mkdir()
    os.symlink("../outside", src / "d.parked")
    with mounted_dtypefs(src, mnt) as daemon:
        fd = os.open(mnt / "d", os.O_RDONLY | os.O_DIRECTORY)
        try:
            exchange(src / "d", src / "d.parked")   # SRC/d is now the symlink
            time.sleep(1.3)                          # past the default 1 s attribute timeout
            try:
                mode = os.fstat(fd).st_mode
                assert stat.S_ISDIR(mode), \
                    f"fstat of the open directory now reports mode {oct(mode)}: the symlink's"
            except OSError as error:
                assert error.errno in (errno.ESTALE, errno.ENOENT), \
                    f"fstat of an open directory swapped for a symlink: {error!r} " \
                    f"(expected success, ESTALE or ENOENT)"
            exchange(src / "d", src / "d.parked")   # and back
            time.sleep(1.3)
            problems = []
            for what, call in (("stat MNT/d/f", lambda: os.stat(mnt / "d" / "f")),
                               ("listdir MNT/d", lambda: os.listdir(mnt / "d")),
                               ("fstat of the fd held throughout", lambda: os.fstat(fd))):
                try:
                    call()
                except OSError as error:
                    problems.append(f"{what}: {error!r}")
            assert not problems, "the directory is back in SRC but the mount still fails: " + \
                "; ".join(problems)
            assert (mnt / "d" / "f").read_bytes() == b"inside\n"
        finally:
            os.close(fd)
        assert daemon.process.poll() is None
