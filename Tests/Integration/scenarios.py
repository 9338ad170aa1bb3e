"""Filesystem scenarios written once and run twice: on a plain directory (the control) and through a
dtypefs mount. Each scenario takes its own empty directory and returns plain data (values, errno
names, comparable stat fields, contents); test_operations.py asserts both runs return the same, so
every difference is a dtypefs bug. Scenarios must never return absolute paths, absolute inode
numbers or timestamps they did not set: those differ between the two runs for innocent reasons.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import json
import mmap
import os
import pickle
import random
import socket
import stat
import struct
import subprocess
import sys
from pathlib import Path
from typing import Callable

SCENARIOS: dict[str, Callable[[Path], object]] = {}

# A uid/gid that exists on the test machine is not needed: the kernel stores any number.
OTHER_UID, OTHER_GID = 1000, 1000


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------------------------------------
# Observation helpers


def errname(exc: OSError) -> str:
    return "!" + errno.errorcode.get(exc.errno, str(exc.errno))


def attempt(fn, *args, **kwargs):
    """Run one operation; its result, "ok" for None, or "!ERRNO" so errors compare as data."""
    try:
        result = fn(*args, **kwargs)
    except OSError as exc:
        return errname(exc)
    except NotImplementedError:
        # Python refuses some calls (lchmod on Linux) before reaching the kernel: equal on both.
        return "!NotImplementedError"
    return "ok" if result is None else result


_KINDS = {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "lnk", stat.S_IFIFO: "fifo",
          stat.S_IFSOCK: "sock", stat.S_IFCHR: "chr", stat.S_IFBLK: "blk"}
_DTYPES = {0: "unknown", 1: "fifo", 2: "chr", 4: "dir", 6: "blk", 8: "reg", 10: "lnk", 12: "sock"}


def kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), oct(stat.S_IFMT(mode)))


def describe(st: os.stat_result) -> dict:
    """The stat fields that are equal on the control and through the mount."""
    out = {"kind": kind(st.st_mode), "perm": oct(stat.S_IMODE(st.st_mode)), "nlink": st.st_nlink,
           "uid": st.st_uid, "gid": st.st_gid}
    if not stat.S_ISDIR(st.st_mode):
        # Directory sizes depend on the backing fs's block history, not on what the caller did.
        out["size"] = st.st_size
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        out["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
    return out


def meta(path, follow: bool = False):
    try:
        return describe(os.stat(path, follow_symlinks=follow))
    except OSError as exc:
        return errname(exc)


def same_inode(a, b, follow: bool = False) -> bool:
    sa, sb = os.stat(a, follow_symlinks=follow), os.stat(b, follow_symlinks=follow)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def times(path, follow: bool = False) -> tuple[int, int]:
    st = os.stat(path, follow_symlinks=follow)
    return st.st_atime_ns, st.st_mtime_ns


def content(path) -> bytes | str:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        return errname(exc)


def digest(data: bytes) -> str:
    return f"{len(data)}:{hashlib.sha256(data).hexdigest()[:16]}"


def write(path, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def pattern(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@contextlib.contextmanager
def opened(path, flags: int, mode: int = 0o644):
    fd = os.open(path, flags, mode)
    try:
        yield fd
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# libc entry points Python does not expose


libc = ctypes.CDLL(None, use_errno=True)

UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_SYMLINK_FOLLOW = 0x400
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Dirent(ctypes.Structure):
    # glibc's struct dirent on 64-bit Linux (the dirent64 layout).
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]


libc.utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(Timespec), ctypes.c_int]
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
libc.linkat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
libc.opendir.argtypes = [ctypes.c_char_p]
libc.opendir.restype = ctypes.c_void_p
libc.readdir.argtypes = [ctypes.c_void_p]
libc.readdir.restype = ctypes.POINTER(Dirent)
libc.telldir.argtypes = [ctypes.c_void_p]
libc.telldir.restype = ctypes.c_long
libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
libc.seekdir.restype = None
libc.rewinddir.argtypes = [ctypes.c_void_p]
libc.rewinddir.restype = None
libc.closedir.argtypes = [ctypes.c_void_p]


def _check(result: int) -> int:
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def utimensat(path, atime: tuple[int, int], mtime: tuple[int, int], flags: int = 0) -> None:
    ts = (Timespec * 2)(Timespec(*atime), Timespec(*mtime))
    _check(libc.utimensat(AT_FDCWD, os.fsencode(path), ts, flags))


def renameat2(old, new, flags: int) -> None:
    _check(libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags))


def linkat(old, new, flags: int) -> None:
    _check(libc.linkat(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags))


def fallocate(fd: int, mode: int, offset: int, length: int) -> None:
    _check(libc.fallocate(fd, mode, offset, length))


class DirStream:
    """A libc DIR* stream, for telldir/seekdir/rewinddir, which os.scandir does not offer."""

    def __init__(self, path):
        self.handle = libc.opendir(os.fsencode(path))
        if not self.handle:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    def read(self) -> tuple[str, str, int] | None:
        ctypes.set_errno(0)
        entry = libc.readdir(self.handle)
        if not entry:
            err = ctypes.get_errno()
            if err:
                raise OSError(err, os.strerror(err))
            return None
        e = entry.contents
        return os.fsdecode(e.d_name), _DTYPES.get(e.d_type, str(e.d_type)), e.d_ino

    def tell(self) -> int:
        return libc.telldir(self.handle)

    def seek(self, pos: int) -> None:
        libc.seekdir(self.handle, pos)

    def rewind(self) -> None:
        libc.rewinddir(self.handle)

    def close(self) -> None:
        if self.handle:
            libc.closedir(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------
# Running code as another process: a different POSIX lock owner, or an unprivileged caller.


_LOCK_CHILD = r"""
import errno, fcntl, json, os, struct, sys
path, ops = sys.argv[1], json.loads(sys.argv[2])
fd = os.open(path, os.O_RDWR)
out = []
types = {"rd": fcntl.F_RDLCK, "wr": fcntl.F_WRLCK, "un": fcntl.F_UNLCK}
names = {v: k for k, v in types.items()}
for op in ops:
    try:
        if op[0] == "setlk":
            fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi4x", types[op[1]], 0, op[2], op[3], 0))
            out.append("ok")
        elif op[0] == "getlk":
            raw = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi4x", types[op[1]], 0, op[2], op[3], 0))
            t, _, start, length, pid = struct.unpack("hhqqi4x", raw)
            out.append({"type": names.get(t, t), "start": start, "len": length, "pid": pid})
        elif op[0] == "flock":
            fcntl.flock(fd, {"ex": fcntl.LOCK_EX, "sh": fcntl.LOCK_SH}[op[1]] | fcntl.LOCK_NB)
            out.append("ok")
    except OSError as e:
        out.append("!" + errno.errorcode[e.errno])
print(json.dumps(out))
"""


def lock_child(path, ops: list) -> list:
    """Run lock operations from a separate process (a separate POSIX lock owner) on `path`."""
    done = subprocess.run([sys.executable, "-c", _LOCK_CHILD, str(path), json.dumps(ops)],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"lock child failed: {done.stderr}")
    return json.loads(done.stdout)


def posix_lock(fd: int, kind_: str, start: int, length: int) -> None:
    types = {"rd": fcntl.F_RDLCK, "wr": fcntl.F_WRLCK, "un": fcntl.F_UNLCK}
    fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi4x", types[kind_], 0, start, length, 0))


def as_user(uid: int, gid: int, fn: Callable, *args):
    """Run fn(*args) in a forked child with uid/gid dropped and no supplementary groups; return
    its result. Exceptions come back as their repr so the caller's comparison shows them."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(reader)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - the parent reports it
                result = f"child raised {exc!r}"
            with os.fdopen(writer, "wb") as pipe:
                pickle.dump(result, pipe)
        except BaseException:  # noqa: BLE001 - never return into the test runner's stack
            code = 1
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"as_user child produced nothing (wait status {status})")
    return pickle.loads(data)


def drop_caches() -> None:
    """Make the kernel drop unused dentries and inodes: through FUSE this sends FORGET and
    BATCH_FORGET for every node the kernel lets go of."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("2\n")


# ---------------------------------------------------------------------------------------------
# Scenarios. Each gets its own empty directory `d` and the process umask 022.


@scenario
def lookup_getattr(d: Path):
    write(d / "f", b"x" * 123, 0o640)
    os.chmod(d / "f", 0o640)
    (d / "sub").mkdir(0o750)
    write(d / "sub" / "inner", b"inner")
    os.symlink("f", d / "l")
    os.symlink("sub", d / "ld")
    os.symlink("nowhere", d / "dangling")
    os.symlink("loop2", d / "loop1")
    os.symlink("loop1", d / "loop2")
    with opened(d / "f", os.O_RDONLY) as fd:
        fst = os.fstat(fd)
        st = os.stat(d / "f")
        fstat_matches = describe(fst) == describe(st) and fst.st_ino == st.st_ino
    return {
        "lstat": {n: meta(d / n) for n in ("f", "sub", "l", "ld", "dangling", "loop1")},
        "stat": {n: meta(d / n, follow=True) for n in ("f", "sub", "l", "ld", "dangling", "loop1")},
        "fstat_matches_stat": fstat_matches,
        "blksize": os.stat(d / "f").st_blksize,
        "link_is_target": same_inode(d / "l", d / "f", follow=True),
        "through_dir_link": meta(d / "ld" / "inner"),
        "inner_same": same_inode(d / "ld" / "inner", d / "sub" / "inner"),
        # Joined as strings: pathlib would drop the "." component.
        "dot": same_inode(os.path.join(d, "sub", "."), d / "sub"),
        "dotdot": same_inode(os.path.join(d, "sub", ".."), d),
        "missing": meta(d / "missing"),
        "file_as_dir": meta(d / "f" / "x"),
        "name_too_long": meta(d / ("n" * 256)),
        "longest_name": attempt(write, d / ("n" * 255), b""),
        "longest_name_meta": meta(d / ("n" * 255)),
        "after_unlink": attempt(lambda: [write(d / "tmp", b""), os.unlink(d / "tmp"), meta(d / "tmp")]),
    }


@scenario
def forget_after_drop_caches(d: Path):
    depth, per_level = 25, 16
    levels = [d]
    for i in range(depth):
        levels.append(levels[-1] / f"l{i:02d}")
        levels[-1].mkdir()
    files = []
    for level in levels[1:]:
        for j in range(per_level):
            path = level / f"f{j:02d}"
            write(path, os.fsencode(str(path.relative_to(d))))
            files.append(path)

    def expected(path):
        return os.fsencode(str(path.relative_to(d)))

    held = {path: os.open(path, os.O_RDONLY) for path in files}
    problems = []
    try:
        # Nodes the kernel remembers only through names and cached dentries get forgotten here;
        # the open files keep theirs. Both kinds must keep working.
        drop_caches()
        for path, fd in held.items():
            got = attempt(os.pread, fd, 4096, 0)
            if got != expected(path):
                problems.append(("held read", str(path.relative_to(d)), got))
            if attempt(lambda: kind(os.fstat(fd).st_mode)) != "reg":
                problems.append(("held fstat", str(path.relative_to(d))))
        drop_caches()
        for path in files:
            if meta(path) != meta(path, follow=True) or content(path) != expected(path):
                problems.append(("path read", str(path.relative_to(d)), content(path)))
    finally:
        for fd in held.values():
            os.close(fd)
    drop_caches()
    listings = {str(level.relative_to(d)): sorted(os.listdir(level)) for level in levels}
    # A forgotten directory must still be renamable and reachable by its new name.
    os.rename(levels[2], levels[1] / "moved")
    deep = levels[1] / "moved" / Path(*[p.name for p in levels[3:]]) / "f00"
    drop_caches()
    after_move = content(deep)
    os.link(deep, deep.with_name("hard"))
    drop_caches()
    return {"problems": problems, "listings": listings, "after_move": after_move,
            "hard_nlink": meta(deep.with_name("hard")), "hard_same": same_inode(deep, deep.with_name("hard")),
            "old_path": meta(levels[2])}


@scenario
def setattr_chmod(d: Path):
    write(d / "f", b"data")
    (d / "sub").mkdir()
    os.symlink("f", d / "l")
    out = {}
    for mode in (0o000, 0o777, 0o4755, 0o2755, 0o1644, 0o7777, 0o600):
        os.chmod(d / "f", mode)
        out[oct(mode)] = meta(d / "f")["perm"]
    os.chmod(d / "sub", 0o1777)
    out["dir_sticky"] = meta(d / "sub")["perm"]
    with opened(d / "f", os.O_RDONLY) as fd:
        os.fchmod(fd, 0o640)
        out["fchmod"] = meta(d / "f")["perm"]
        out["fchmod_fstat"] = oct(stat.S_IMODE(os.fstat(fd).st_mode))
    os.chmod(d / "l", 0o604)
    out["via_link_target"] = meta(d / "f")["perm"]
    out["via_link_link"] = meta(d / "l")["perm"]
    out["lchmod"] = attempt(os.chmod, d / "l", 0o600, follow_symlinks=False)
    out["lchmod_after"] = (meta(d / "l")["perm"], meta(d / "f")["perm"])
    out["missing"] = attempt(os.chmod, d / "missing", 0o644)
    return out


@scenario
def setattr_chown(d: Path):
    write(d / "f", b"data")
    (d / "sub").mkdir()
    os.symlink("f", d / "l")
    out = {}

    def owner(p, follow=False):
        m = meta(p, follow)
        return (m["uid"], m["gid"])

    os.chown(d / "f", 1234, 5678)
    out["both"] = owner(d / "f")
    os.chown(d / "f", -1, 4321)
    out["gid_only"] = owner(d / "f")
    os.chown(d / "f", 2345, -1)
    out["uid_only"] = owner(d / "f")
    os.chown(d / "f", -1, -1)
    out["neither"] = owner(d / "f")
    with opened(d / "f", os.O_RDONLY) as fd:
        os.fchown(fd, 3456, 6543)
        out["fchown"] = owner(d / "f")
    os.lchown(d / "l", 7777, 8888)
    out["lchown_link"] = owner(d / "l")
    out["lchown_target"] = owner(d / "f")
    os.chown(d / "l", 99, 98)
    out["chown_via_link_target"] = owner(d / "f")
    out["chown_via_link_link"] = owner(d / "l")
    # Root's chown drops set-id bits of regular files but not of directories.
    os.chmod(d / "f", 0o6755)
    os.chown(d / "f", 1, 1)
    out["setid_file_after_chown"] = meta(d / "f")["perm"]
    os.chmod(d / "sub", 0o2755)
    os.chown(d / "sub", 1, 1)
    out["setgid_dir_after_chown"] = meta(d / "sub")["perm"]
    out["missing"] = attempt(os.chown, d / "missing", 1, 1)
    return out


@scenario
def setattr_truncate(d: Path):
    out = {}
    write(d / "f", b"0123456789")
    os.symlink("f", d / "l")
    (d / "sub").mkdir()
    os.truncate(d / "f", 4)
    out["shrink"] = content(d / "f")
    os.truncate(d / "f", 8192)
    out["grow"] = (meta(d / "f")["size"], content(d / "f") == b"0123" + bytes(8188))
    os.truncate(d / "l", 6)
    out["via_link"] = content(d / "f")
    with opened(d / "f", os.O_RDWR) as fd, opened(d / "f", os.O_RDONLY) as reader:
        os.ftruncate(fd, 3)
        out["ftruncate_fstat"] = os.fstat(fd).st_size
        out["ftruncate_other_fd"] = os.pread(reader, 100, 0)
        out["ftruncate_readonly_fd"] = attempt(os.ftruncate, reader, 1)
        os.ftruncate(fd, 5)
        out["ftruncate_grow"] = os.pread(reader, 100, 0)
    out["negative"] = attempt(os.truncate, d / "f", -1)
    out["dir"] = attempt(os.truncate, d / "sub", 0)
    out["missing"] = attempt(os.truncate, d / "missing", 0)
    out["final"] = meta(d / "f")
    return out


@scenario
def setattr_utime(d: Path):
    out = {}
    write(d / "f", b"data")
    os.symlink("f", d / "l")
    (d / "sub").mkdir()
    a, m = 1_234_567_890_123_456_789, 1_111_111_111_987_654_321
    os.utime(d / "f", ns=(a, m))
    out["explicit_ns"] = times(d / "f")
    os.utime(d / "f", ns=(-123_456_789_000, 0))
    out["pre_epoch_and_zero"] = times(d / "f")
    os.utime(d / "f", ns=(a, m))
    utimensat(d / "f", (0, UTIME_OMIT), (2_000_000_000, 5))
    out["omit_atime"] = times(d / "f")
    utimensat(d / "f", (1_500_000_000, 7), (0, UTIME_OMIT))
    out["omit_mtime"] = times(d / "f")
    utimensat(d / "f", (0, UTIME_OMIT), (0, UTIME_OMIT))
    out["omit_both"] = times(d / "f")
    utimensat(d / "f", (0, UTIME_OMIT), (0, UTIME_NOW))
    at, mt = times(d / "f")
    # "now" is not a time the test set, so only its relation to the set times is compared.
    out["now_mtime"] = {"atime": at, "mtime_changed": mt != 2_000_000_000 * 10**9 + 5,
                        "mtime_recent": mt > 1_600_000_000 * 10**9}
    os.utime(d / "f", ns=(a, m))
    os.utime(d / "f")
    at, mt = times(d / "f")
    out["now_both"] = {"atime_recent": at > 1_600_000_000 * 10**9,
                       "mtime_recent": mt > 1_600_000_000 * 10**9}
    os.utime(d / "f", ns=(a, m))
    os.utime(d / "l", ns=(5 * 10**17, 6 * 10**17), follow_symlinks=False)
    out["nofollow_link"] = times(d / "l")
    out["nofollow_target"] = times(d / "f")
    utimensat(d / "l", (0, UTIME_OMIT), (7, 8), AT_SYMLINK_NOFOLLOW)
    out["utimensat_nofollow_link"] = times(d / "l")
    os.utime(d / "l", ns=(9 * 10**17, 10**18))
    out["follow_target"] = times(d / "f")
    # Following a link may update the link's own atime, so only its mtime is compared.
    out["follow_link_mtime_untouched"] = times(d / "l")[1]
    with opened(d / "f", os.O_RDONLY) as fd:
        os.utime(fd, ns=(42, 43))
        out["futimens"] = times(d / "f")
    os.utime(d / "sub", ns=(11, 12))
    out["dir"] = times(d / "sub")
    out["missing"] = attempt(os.utime, d / "missing", ns=(1, 2))
    out["bad_nsec"] = attempt(utimensat, d / "f", (0, 1_000_000_000), (0, 0))
    return out


@scenario
def readlink(d: Path):
    targets = {"rel": "f", "abs": "/dev/null", "dangling": "no/such/thing", "dotdot": "../x",
               "long": "a/" * 2000 + "end", "unicode": "ünï\u00e7ødé ✓", "newline": "a\nb",
               "spaces": "  spaced  "}
    write(d / "f", b"data")
    (d / "dir").mkdir()
    for name, target in targets.items():
        os.symlink(target, d / name)
    out = {name: os.readlink(d / name) for name in targets if name != "long"}
    out["long"] = os.readlink(d / "long") == targets["long"]
    out["sizes"] = {name: os.lstat(d / name).st_size for name in targets}
    out["bytes_api"] = os.readlink(os.fsencode(d / "unicode"))
    out["file"] = attempt(os.readlink, d / "f")
    out["dir"] = attempt(os.readlink, d / "dir")
    out["missing"] = attempt(os.readlink, d / "missing")
    out["too_long"] = attempt(os.symlink, "x" * 4096, d / "toolong")
    return out


@scenario
def mknod_special(d: Path):
    out = {}
    with umask(0o022):
        os.mkfifo(d / "fifo", 0o666)
        os.mknod(d / "chr", stat.S_IFCHR | 0o640, os.makedev(1, 3))
        os.mknod(d / "blk", stat.S_IFBLK | 0o600, os.makedev(7, 0))
        os.mknod(d / "reg", stat.S_IFREG | 0o666)
        os.mknod(d / "plain", 0o600)
    for name in ("fifo", "chr", "blk", "reg", "plain"):
        out[name] = meta(d / name)
    out["fifo_again"] = attempt(os.mkfifo, d / "fifo")
    out["mknod_over_file"] = attempt(os.mknod, d / "reg", stat.S_IFCHR, os.makedev(1, 3))
    out["mknod_missing_dir"] = attempt(os.mkfifo, d / "missing" / "x")
    # FIFOs through FUSE are served by the kernel's pipe code, not the daemon: data must flow.
    with opened(d / "fifo", os.O_RDWR | os.O_NONBLOCK) as fd:
        os.write(fd, b"ping")
        out["fifo_data"] = os.read(fd, 10)
    cwd = os.getcwd()
    os.chdir(d)  # sun_path is short; a relative name keeps the temp path out of it
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with server:
            server.bind("sock")
            server.listen(1)
            out["socket"] = meta("sock")
            with socket.socket(socket.AF_UNIX) as second:
                out["bind_again"] = attempt(second.bind, "sock")
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            with client:
                client.connect("sock")
                conn, _ = server.accept()
                with conn:
                    client.sendall(b"hello")
                    out["socket_data"] = conn.recv(10)
    finally:
        os.chdir(cwd)
    out["socket_after_close"] = meta(d / "sock")
    return out


@scenario
def mkdir_modes(d: Path):
    out = {}
    nlink0 = os.lstat(d).st_nlink
    with umask(0o022):
        os.mkdir(d / "u022", 0o777)
    with umask(0):
        os.mkdir(d / "u000", 0o777)
        os.mkdir(d / "sticky", 0o1777)
        os.mkdir(d / "none", 0o000)
        os.mkdir(d / "setid", 0o7777)
    with umask(0o077):
        os.mkdir(d / "u077", 0o755)
    for name in ("u022", "u000", "sticky", "none", "setid", "u077"):
        out[name] = meta(d / name)
    out["parent_nlink_delta"] = os.lstat(d).st_nlink - nlink0
    write(d / "file", b"")
    os.symlink("nowhere", d / "dangling")
    out["exists"] = attempt(os.mkdir, d / "u022")
    out["over_file"] = attempt(os.mkdir, d / "file")
    out["over_dangling_link"] = attempt(os.mkdir, d / "dangling")
    out["missing_parent"] = attempt(os.mkdir, d / "missing" / "x")
    out["under_file"] = attempt(os.mkdir, d / "file" / "x")
    out["name_too_long"] = attempt(os.mkdir, d / ("n" * 256))
    # New entries inherit the group of a set-group-ID directory, and subdirectories the bit.
    (d / "sgid").mkdir()
    os.chown(d / "sgid", 0, 4242)
    os.chmod(d / "sgid", 0o2775)
    with umask(0o022):
        os.mkdir(d / "sgid" / "child", 0o755)
        write(d / "sgid" / "file", b"", 0o644)
        os.symlink("file", d / "sgid" / "link")
        os.mkfifo(d / "sgid" / "fifo", 0o644)
    for name in ("child", "file", "link", "fifo"):
        out[f"sgid_{name}"] = meta(d / "sgid" / name)
    return out


@scenario
def unlink_rmdir(d: Path):
    out = {}
    write(d / "f", b"data")
    (d / "empty").mkdir()
    (d / "full").mkdir()
    write(d / "full" / "x", b"")
    os.symlink("f", d / "l")
    nlink0 = os.lstat(d).st_nlink
    out["unlink_link"] = attempt(os.unlink, d / "l")
    out["target_survives"] = meta(d / "f")
    out["unlink_dir"] = attempt(os.unlink, d / "empty")
    out["rmdir_nonempty"] = attempt(os.rmdir, d / "full")
    out["rmdir_file"] = attempt(os.rmdir, d / "f")
    out["rmdir_dot"] = attempt(os.rmdir, os.path.join(d, "empty", "."))
    out["rmdir_missing"] = attempt(os.rmdir, d / "missing")
    out["unlink_missing"] = attempt(os.unlink, d / "missing")
    out["unlink_through_file"] = attempt(os.unlink, d / "f" / "x")
    out["rmdir_empty"] = attempt(os.rmdir, d / "empty")
    out["parent_nlink_delta"] = os.lstat(d).st_nlink - nlink0
    out["empty_gone"] = meta(d / "empty")
    # An unlinked open file stays readable and writable through its descriptor.
    fd = os.open(d / "f", os.O_RDWR)
    try:
        out["unlink_open"] = attempt(os.unlink, d / "f")
        out["gone"] = meta(d / "f")
        out["open_after_unlink"] = {
            "pwrite": attempt(os.pwrite, fd, b"more", 4), "pread": attempt(os.pread, fd, 100, 0),
            "fstat": attempt(lambda: describe(os.fstat(fd))), "fchmod": attempt(os.fchmod, fd, 0o600),
            "ftruncate": attempt(os.ftruncate, fd, 6), "fstat_after": attempt(lambda: describe(os.fstat(fd))),
            "pread_after": attempt(os.pread, fd, 100, 0)}
    finally:
        os.close(fd)
    os.unlink(d / "full" / "x")
    out["rmdir_emptied"] = attempt(os.rmdir, d / "full")
    out["left"] = sorted(os.listdir(d))
    return out


@scenario
def symlinks(d: Path):
    out = {}
    write(d / "f", b"target data")
    (d / "dir").mkdir()
    write(d / "dir" / "inner", b"inner")
    os.symlink("f", d / "rel")
    os.symlink("/dev/null", d / "abs")
    os.symlink("nowhere", d / "dangling")
    os.symlink("dir", d / "dirlink")
    os.symlink("rel", d / "chain")
    os.symlink("../f", d / "dir" / "up")
    for name in ("rel", "abs", "dangling", "dirlink", "chain"):
        out[name] = {"lstat": meta(d / name), "stat": meta(d / name, follow=True),
                     "target": os.readlink(d / name)}
    out["up"] = content(d / "dir" / "up")
    out["chain_content"] = content(d / "chain")
    out["dirlink_listing"] = sorted(os.listdir(d / "dirlink"))
    out["exists"] = attempt(os.symlink, "x", d / "f")
    out["exists_link"] = attempt(os.symlink, "x", d / "rel")
    out["empty_target"] = attempt(os.symlink, "", d / "empty")
    out["missing_dir"] = attempt(os.symlink, "x", d / "missing" / "l")
    out["dangling_read"] = content(d / "dangling")
    return out


@scenario
def hard_links(d: Path):
    out = {}
    write(d / "a", b"first")
    (d / "sub").mkdir()
    (d / "dir").mkdir()
    os.link(d / "a", d / "b")
    out["same_ino"] = same_inode(d / "a", d / "b")
    out["nlink_two"] = (meta(d / "a")["nlink"], meta(d / "b")["nlink"])
    os.link(d / "a", d / "sub" / "c")
    out["nlink_three"] = meta(d / "b")["nlink"]
    with opened(d / "b", os.O_WRONLY | os.O_APPEND) as fd:
        os.write(fd, b"+through b")
    out["write_visible"] = (content(d / "a"), content(d / "sub" / "c"))
    os.chmod(d / "sub" / "c", 0o600)
    out["chmod_shared"] = meta(d / "a")["perm"]
    os.unlink(d / "a")
    out["after_unlink"] = (meta(d / "a"), meta(d / "b"), content(d / "b"))
    out["exists"] = attempt(os.link, d / "b", d / "sub" / "c")
    out["dir"] = attempt(os.link, d / "dir", d / "dirlink")
    out["missing"] = attempt(os.link, d / "missing", d / "x")
    out["into_missing_dir"] = attempt(os.link, d / "b", d / "missing" / "x")
    os.symlink("b", d / "sym")
    os.link(d / "sym", d / "sym_hard", follow_symlinks=False)
    out["link_to_symlink"] = {"meta": meta(d / "sym_hard"), "same": same_inode(d / "sym", d / "sym_hard"),
                              "target": os.readlink(d / "sym_hard")}
    # Python's os.link does not pass AT_SYMLINK_FOLLOW on Linux, so call linkat directly.
    linkat(d / "sym", d / "followed", AT_SYMLINK_FOLLOW)
    out["link_followed"] = {"meta": meta(d / "followed"), "same_as_b": same_inode(d / "followed", d / "b")}
    return out


@scenario
def renames(d: Path):
    out = {}
    write(d / "a", b"A")
    ino_a = os.lstat(d / "a").st_ino
    os.rename(d / "a", d / "b")
    out["plain"] = {"old": meta(d / "a"), "new": content(d / "b"),
                    "ino_kept": os.lstat(d / "b").st_ino == ino_a}
    write(d / "victim", b"victim")
    os.link(d / "victim", d / "victim_link")
    os.rename(d / "b", d / "victim")
    out["over_file"] = {"content": content(d / "victim"), "source": meta(d / "b"),
                        "old_target_nlink": meta(d / "victim_link")["nlink"],
                        "old_target_data": content(d / "victim_link")}
    (d / "d1").mkdir()
    write(d / "d1" / "inside", b"in d1")
    (d / "d2").mkdir()
    out["dir_over_empty_dir"] = attempt(os.rename, d / "d1", d / "d2")
    out["after_dir_over"] = (meta(d / "d1"), sorted(os.listdir(d / "d2")))
    (d / "full").mkdir()
    write(d / "full" / "x", b"")
    (d / "e").mkdir()
    out["dir_over_nonempty"] = attempt(os.rename, d / "e", d / "full")
    out["file_over_dir"] = attempt(os.rename, d / "victim", d / "e")
    out["dir_over_file"] = attempt(os.rename, d / "e", d / "victim")
    out["into_own_subdir"] = attempt(os.rename, d / "d2", d / "d2" / "below")
    out["missing"] = attempt(os.rename, d / "missing", d / "x")
    out["into_missing_dir"] = attempt(os.rename, d / "victim", d / "missing" / "x")
    out["to_self"] = attempt(os.rename, d / "victim", d / "victim")
    # Renaming one hard link onto another of the same inode is a successful no-op.
    out["link_onto_new_name"] = attempt(os.rename, d / "victim_link", d / "victim_link2")
    os.link(d / "victim_link2", d / "victim_link3")
    out["same_inode_rename"] = attempt(os.rename, d / "victim_link2", d / "victim_link3")
    out["same_inode_both_exist"] = (meta(d / "victim_link2"), meta(d / "victim_link3"))
    nlink_root, nlink_full = os.lstat(d).st_nlink, os.lstat(d / "full").st_nlink
    os.rename(d / "e", d / "full" / "e")
    out["nlink_deltas"] = (os.lstat(d).st_nlink - nlink_root, os.lstat(d / "full").st_nlink - nlink_full)
    os.symlink("victim", d / "sym")
    os.rename(d / "sym", d / "full" / "sym")
    out["symlink_moved"] = (os.readlink(d / "full" / "sym"), meta(d / "full" / "sym", follow=True))
    out["listing"] = {p: sorted(os.listdir(d / p)) for p in (".", "full", "d2")}
    return out


@scenario
def rename_flags(d: Path):
    out = {}
    write(d / "a", b"A")
    write(d / "b", b"B")
    (d / "dir").mkdir()
    write(d / "dir" / "x", b"x")
    out["noreplace_existing"] = attempt(renameat2, d / "a", d / "b", RENAME_NOREPLACE)
    out["noreplace_kept"] = (content(d / "a"), content(d / "b"))
    out["noreplace_new"] = attempt(renameat2, d / "a", d / "c", RENAME_NOREPLACE)
    out["noreplace_after"] = (meta(d / "a"), content(d / "c"))
    ino_b, ino_c = os.lstat(d / "b").st_ino, os.lstat(d / "c").st_ino
    out["exchange_files"] = attempt(renameat2, d / "b", d / "c", RENAME_EXCHANGE)
    out["exchanged"] = (content(d / "b"), content(d / "c"),
                        os.lstat(d / "b").st_ino == ino_c, os.lstat(d / "c").st_ino == ino_b)
    out["exchange_file_dir"] = attempt(renameat2, d / "b", d / "dir", RENAME_EXCHANGE)
    out["exchanged_types"] = (meta(d / "b"), meta(d / "dir"), sorted(os.listdir(d / "b")))
    out["exchange_missing"] = attempt(renameat2, d / "c", d / "missing", RENAME_EXCHANGE)
    out["both_flags"] = attempt(renameat2, d / "c", d / "dir", RENAME_NOREPLACE | RENAME_EXCHANGE)
    out["unknown_flag"] = attempt(renameat2, d / "c", d / "z", 1 << 20)
    out["listing"] = sorted(os.listdir(d))
    return out


@scenario
def open_flags(d: Path):
    out = {}
    write(d / "f", b"abc")
    (d / "dir").mkdir()
    os.symlink("f", d / "l")
    os.symlink("created_by_open", d / "dangling")
    with opened(d / "f", os.O_WRONLY | os.O_APPEND) as fd:
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, b"de")
        os.pwrite(fd, b"fg", 0)  # Linux appends even with an offset under O_APPEND
        out["append_flags"] = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND)
        out["append_pos"] = os.lseek(fd, 0, os.SEEK_CUR)
    out["append"] = content(d / "f")
    with opened(d / "f", os.O_WRONLY | os.O_TRUNC) as fd:
        out["trunc_size"] = os.fstat(fd).st_size
    write(d / "f", b"abc")
    with opened(d / "f", os.O_RDONLY | os.O_TRUNC) as fd:
        out["rdonly_trunc_size"] = os.fstat(fd).st_size
    write(d / "f", b"abc")
    out["excl_existing"] = attempt(os.open, d / "f", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    out["excl_symlink"] = attempt(os.open, d / "dangling", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    with opened(d / "new", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640):
        pass
    out["excl_new"] = meta(d / "new")
    with umask(0o022), opened(d / "m644", os.O_CREAT | os.O_WRONLY, 0o666):
        pass
    with umask(0), opened(d / "m2755", os.O_CREAT | os.O_WRONLY, 0o2755):
        pass
    with umask(0o077), opened(d / "m700", os.O_CREAT | os.O_RDWR, 0o777):
        pass
    with umask(0), opened(d / "m000", os.O_CREAT | os.O_RDWR, 0):
        pass
    with opened(d / "m644", os.O_CREAT | os.O_WRONLY, 0o700):
        pass  # the mode argument only applies when the file is created
    out["create_modes"] = {n: meta(d / n)["perm"] for n in ("m644", "m2755", "m700", "m000")}
    with opened(d / "m000", os.O_RDWR) as fd:  # root opens a mode-0 file
        out["root_opens_mode0"] = os.write(fd, b"ok")
    with opened(d / "dangling", os.O_CREAT | os.O_WRONLY, 0o600) as fd:
        os.write(fd, b"via link")
    out["create_through_dangling"] = (meta(d / "created_by_open"), content(d / "created_by_open"))
    out["nofollow_symlink"] = attempt(os.open, d / "l", os.O_RDONLY | os.O_NOFOLLOW)
    with opened(d / "l", os.O_PATH | os.O_NOFOLLOW) as fd:
        out["path_nofollow"] = kind(os.fstat(fd).st_mode)
    out["nofollow_file"] = attempt(lambda: os.close(os.open(d / "f", os.O_RDONLY | os.O_NOFOLLOW)))
    out["directory_on_file"] = attempt(os.open, d / "f", os.O_RDONLY | os.O_DIRECTORY)
    out["directory_on_link_to_file"] = attempt(os.open, d / "l", os.O_RDONLY | os.O_DIRECTORY)
    out["directory_on_dir"] = attempt(lambda: os.close(os.open(d / "dir", os.O_RDONLY | os.O_DIRECTORY)))
    out["write_dir"] = attempt(os.open, d / "dir", os.O_WRONLY)
    out["rdwr_dir"] = attempt(os.open, d / "dir", os.O_RDWR)
    out["missing"] = attempt(os.open, d / "missing", os.O_RDONLY)
    out["create_missing_dir"] = attempt(os.open, d / "missing" / "x", os.O_CREAT | os.O_WRONLY)
    out["create_trailing_slash"] = attempt(os.open, str(d / "slashed") + "/", os.O_CREAT | os.O_WRONLY)
    out["through_file"] = attempt(os.open, d / "f" / "x", os.O_RDONLY)
    with opened(d / "sync", os.O_CREAT | os.O_RDWR | os.O_SYNC) as fd:
        out["sync_write"] = os.write(fd, b"synced")
        out["sync_flag"] = (fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_SYNC) == os.O_SYNC
        out["sync_read"] = os.pread(fd, 100, 0)
    with opened(d / "dsync", os.O_CREAT | os.O_RDWR | os.O_DSYNC) as fd:
        out["dsync_write"] = os.write(fd, b"dsynced")
    out["sync_content"] = (content(d / "sync"), content(d / "dsync"))
    return out


@scenario
def open_direct(d: Path):
    out = {}
    size = 8192
    data = pattern(size, 1)
    buf = mmap.mmap(-1, size)  # page-aligned, as O_DIRECT needs
    buf[:] = data
    try:
        fd = os.open(d / "direct", os.O_CREAT | os.O_RDWR | os.O_DIRECT, 0o644)
    except OSError as exc:
        return {"open": errname(exc)}
    try:
        out["direct_flag"] = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)
        out["write"] = attempt(os.pwritev, fd, [buf], 0)
        out["write_offset"] = attempt(os.pwritev, fd, [memoryview(buf)[:4096]], 4096 * 3)
        back = mmap.mmap(-1, size)
        out["read"] = attempt(os.preadv, fd, [back], 0)
        out["read_matches"] = bytes(back) == data
        out["read_at_eof"] = attempt(os.preadv, fd, [back], 4096 * 4)
        out["fstat_size"] = os.fstat(fd).st_size
    finally:
        os.close(fd)
    expected = data + bytes(4096) + data[:4096]
    out["content_matches"] = content(d / "direct") == expected
    return out


@scenario
def read_write(d: Path):
    out = {}
    with opened(d / "f", os.O_CREAT | os.O_RDWR) as fd:
        out["write"] = os.write(fd, b"hello world")
        out["pos"] = os.lseek(fd, 0, os.SEEK_CUR)
        out["pwrite"] = os.pwrite(fd, b"WORLD", 6)
        out["pos_unchanged"] = os.lseek(fd, 0, os.SEEK_CUR)
        out["pread"] = os.pread(fd, 5, 6)
        out["pread_past_eof"] = os.pread(fd, 100, 8)
        out["pread_at_eof"] = os.pread(fd, 100, 11)
        out["pread_beyond_eof"] = os.pread(fd, 100, 1000)
        os.lseek(fd, 20, os.SEEK_SET)
        os.write(fd, b"gap")
        out["after_gap"] = os.pread(fd, 100, 0)
        out["seek_end"] = os.lseek(fd, -3, os.SEEK_END)
        out["read_tail"] = os.read(fd, 100)
        out["writev"] = os.writev(fd, [b"a", b"bc", b"def"])
        out["readv"] = (lambda bufs: (os.preadv(fd, bufs, 0), [bytes(b) for b in bufs]))(
            [bytearray(4), bytearray(8)])
        out["seek_negative"] = attempt(os.lseek, fd, -1, os.SEEK_SET)
    big = pattern(3 * 1024 * 1024 + 17, 2)
    with opened(d / "big", os.O_CREAT | os.O_WRONLY) as fd:
        out["big_write"] = os.write(fd, big)
    with opened(d / "big", os.O_RDONLY) as fd:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    out["big_read"] = b"".join(chunks) == big
    # A write far beyond EOF leaves a hole that reads as zeros and takes no blocks.
    with opened(d / "sparse", os.O_CREAT | os.O_RDWR) as fd:
        os.pwrite(fd, b"end", 8 * 1024 * 1024)
        st = os.fstat(fd)
        out["sparse"] = {"size": st.st_size, "holey": st.st_blocks * 512 < st.st_size,
                         "zeros": os.pread(fd, 4096, 4096) == bytes(4096),
                         "tail": os.pread(fd, 10, 8 * 1024 * 1024)}
    # sendfile between two files goes through the splice paths.
    with opened(d / "big", os.O_RDONLY) as src, opened(d / "sent", os.O_CREAT | os.O_WRONLY) as dst:
        out["sendfile"] = os.sendfile(dst, src, 1000, 70000)
    out["sent"] = content(d / "sent") == big[1000:71000]
    # Shared writable mappings write back through the filesystem.
    with opened(d / "mapped", os.O_CREAT | os.O_RDWR) as fd:
        os.ftruncate(fd, 8192)
        with mmap.mmap(fd, 8192) as m:
            m[100:105] = b"mmap!"
            m.flush()
            out["mmap_read"] = m[95:110]
    out["mmap_written"] = content(d / "mapped")[95:110]
    with opened(d / "f", os.O_RDONLY) as fd:
        out["write_readonly"] = attempt(os.write, fd, b"x")
    with opened(d / "f", os.O_WRONLY) as fd:
        out["read_writeonly"] = attempt(os.read, fd, 1)
    out["final"] = content(d / "f")
    return out


@scenario
def flush_release(d: Path):
    out = {}
    a = os.open(d / "f", os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        os.write(a, b"written before close")
        out["visible_while_open"] = content(d / "f")
        dup = os.dup(a)
    finally:
        os.close(a)
    try:
        # Closing one duplicate flushes but must not release the shared open file.
        out["write_through_dup"] = attempt(os.write, dup, b"; after dup close")
    finally:
        os.close(dup)
    out["after_close"] = content(d / "f")
    b = os.open(d / "f", os.O_RDONLY)
    c = os.open(d / "f", os.O_WRONLY | os.O_APPEND)
    os.write(c, b"!")
    os.close(c)
    out["reader_sees_later_write"] = os.pread(b, 100, 0)
    os.close(b)
    return out


@scenario
def fsync_family(d: Path):
    out = {}
    with opened(d / "f", os.O_CREAT | os.O_RDWR) as fd:
        os.write(fd, b"durable")
        out["fsync"] = attempt(os.fsync, fd)
        os.write(fd, b" data")
        out["fdatasync"] = attempt(os.fdatasync, fd)
    with opened(d / "f", os.O_RDONLY) as fd:
        out["fsync_readonly"] = attempt(os.fsync, fd)
    (d / "sub").mkdir()
    with opened(d / "sub", os.O_RDONLY | os.O_DIRECTORY) as fd:
        out["fsyncdir"] = attempt(os.fsync, fd)
        out["fdatasyncdir"] = attempt(os.fdatasync, fd)
    with opened(d, os.O_RDONLY) as fd:
        out["fsyncdir_parent"] = attempt(os.fsync, fd)
    out["sync_fs"] = attempt(os.sync)
    out["content"] = content(d / "f")
    return out


def _populate_all_kinds(d: Path) -> list[str]:
    write(d / "file", b"f")
    write(d / ".hidden", b"h")
    (d / "dir").mkdir()
    os.symlink("file", d / "link_file")
    os.symlink("dir", d / "link_dir")
    os.symlink("nowhere", d / "link_dangling")
    os.mkfifo(d / "fifo")
    os.mknod(d / "chr", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    with socket.socket(socket.AF_UNIX) as s:
        cwd = os.getcwd()
        os.chdir(d)
        try:
            s.bind("sock")
        finally:
            os.chdir(cwd)
    write(d / "ünïcödé name", b"")
    write(d / "new\nline", b"")
    write(d / ("n" * 255), b"")
    return sorted(os.listdir(d))


def short(name):
    """Long names shortened so a failing comparison stays readable."""
    if isinstance(name, bytes):
        return name if len(name) <= 40 else name[:8] + b"...(%d)" % len(name)
    return name if len(name) <= 40 else f"{name[:8]}...({len(name)})"


@scenario
def readdir_listing(d: Path):
    (d / "all").mkdir()
    names = [short(n) for n in _populate_all_kinds(d / "all")]
    (d / "empty").mkdir()
    write(d / "plainfile", b"")
    out = {"listdir": names, "bytes_listdir": sorted(short(n) for n in os.listdir(os.fsencode(d / "all")))}
    entries = {}
    with os.scandir(d / "all") as it:
        for e in it:
            entries[short(e.name)] = {"is_dir": e.is_dir(follow_symlinks=False),
                               "is_file": e.is_file(follow_symlinks=False),
                               "is_symlink": e.is_symlink(), "is_dir_follow": e.is_dir(),
                               "is_file_follow": e.is_file(),
                               "inode_is_lstat_ino": e.inode() == os.lstat(e.path).st_ino}
    out["scandir"] = dict(sorted(entries.items()))
    raw = {}
    with DirStream(d / "all") as ds:
        while (entry := ds.read()) is not None:
            name, dtype, ino = entry
            raw[short(name)] = {"d_type": dtype, "d_ino_is_lstat_ino": ino == os.lstat(d / "all" / name).st_ino}
    out["raw_readdir"] = dict(sorted(raw.items()))
    out["empty"] = os.listdir(d / "empty")
    out["on_file"] = attempt(os.listdir, d / "plainfile")
    out["on_missing"] = attempt(os.listdir, d / "missing")
    out["through_link"] = sorted(os.listdir(d / "all" / "link_dir"))
    out["walk"] = sorted((str(Path(r).relative_to(d)), sorted(map(short, ds_)), sorted(map(short, fs)))
                         for r, ds_, fs in os.walk(d))
    return out


@scenario
def readdir_seek(d: Path):
    count = 700  # long names so the listing spans several getdents batches
    expected = {f"entry_{i:04d}_{'x' * 60}" for i in range(count)}
    for name in expected:
        write(d / name, b"")
    out = {}
    with DirStream(d) as ds:
        first = []
        while True:
            pos = ds.tell()
            entry = ds.read()
            if entry is None:
                break
            first.append((pos, entry[0]))
        end_pos = ds.tell()
        names = [n for _, n in first]
        out["names"] = sorted(names) == sorted(expected | {".", ".."})
        out["no_duplicates"] = len(names) == len(set(names))
        mismatches = []
        for index in list(range(0, len(first), 37)) + [len(first) - 1, 1, 0]:
            pos, name = first[index]
            ds.seek(pos)
            got = ds.read()
            if got is None or got[0] != name:
                mismatches.append((index, name, got and got[0]))
            # Reading on from a restored position must give exactly the rest of the first pass.
            if index % 111 == 0:
                rest = [got[0]] if got else []
                while (entry := ds.read()) is not None:
                    rest.append(entry[0])
                if rest != names[index:]:
                    mismatches.append((index, "rest differs", len(rest), len(names) - index))
        out["seek_mismatches"] = mismatches
        ds.seek(end_pos)
        out["seek_end_reads_nothing"] = ds.read() is None
        ds.rewind()
        again = []
        while (entry := ds.read()) is not None:
            again.append(entry[0])
        out["rewind_same_order"] = again == names
        # Positions stay valid after a rewind and a partial read.
        ds.rewind()
        for _ in range(5):
            ds.read()
        pos, name = first[len(first) // 2]
        ds.seek(pos)
        got = ds.read()
        out["seek_after_rewind"] = got is not None and got[0] == name
    return out


@scenario
def readdir_while_changing(d: Path):
    stable = {f"s{i:04d}" for i in range(400)}
    doomed = [f"r{i:04d}" for i in range(200)]
    born = [f"n{i:04d}" for i in range(200)]
    for name in sorted(stable) + doomed:
        write(d / name, b"")
    seen = []
    with DirStream(d) as ds:
        step = 0
        while (entry := ds.read()) is not None:
            seen.append(entry[0])
            if len(seen) % 10 == 0 and step * 5 < len(doomed):
                for name in doomed[step * 5:step * 5 + 5]:
                    os.unlink(d / name)
                for name in born[step * 5:step * 5 + 5]:
                    write(d / name, b"")
                step += 1
    # Which added or removed names show up is unspecified; these invariants are not.
    stable_seen = [n for n in seen if n in stable]
    # What the listing reported must not outlive the changes made meanwhile through the same mount.
    removed_still_resolvable = [n for n in doomed if os.path.lexists(d / n)]
    created_not_openable = [n for n in born if attempt(lambda n=n: os.close(os.open(d / n, os.O_RDONLY))) != "ok"]
    return {
        "removed_still_resolvable": removed_still_resolvable,
        "created_not_openable": created_not_openable,
        "stable_missing": sorted(stable - set(seen)),
        "stable_duplicated": sorted({n for n in stable_seen if stable_seen.count(n) > 1}),
        "never_existed": sorted(set(seen) - stable - set(doomed) - set(born) - {".", ".."}),
        "dots": (seen.count("."), seen.count("..")),
        "final_listing": sorted(os.listdir(d)) == sorted(stable | set(born)),
    }


@scenario
def xattrs(d: Path):
    out = {}
    write(d / "f", b"")
    (d / "dir").mkdir()
    os.symlink("f", d / "l")
    os.mkfifo(d / "fifo")
    os.setxattr(d / "f", "user.alpha", b"one")
    os.setxattr(d / "f", "user.empty", b"")
    os.setxattr(d / "f", "user.binary", bytes(range(256)))
    os.setxattr(d / "f", "user.big", pattern(2000, 3))
    out["get"] = {n: os.getxattr(d / "f", n) for n in ("user.alpha", "user.empty")}
    out["binary"] = os.getxattr(d / "f", "user.binary") == bytes(range(256))
    out["big"] = os.getxattr(d / "f", "user.big") == pattern(2000, 3)
    out["list"] = sorted(os.listxattr(d / "f"))
    out["missing"] = attempt(os.getxattr, d / "f", "user.nope")
    out["create_existing"] = attempt(os.setxattr, d / "f", "user.alpha", b"x", os.XATTR_CREATE)
    out["replace_missing"] = attempt(os.setxattr, d / "f", "user.nope", b"x", os.XATTR_REPLACE)
    out["replace_existing"] = attempt(os.setxattr, d / "f", "user.alpha", b"two", os.XATTR_REPLACE)
    out["create_new"] = attempt(os.setxattr, d / "f", "user.fresh", b"new", os.XATTR_CREATE)
    out["after_flags"] = (os.getxattr(d / "f", "user.alpha"), os.getxattr(d / "f", "user.fresh"))
    out["remove"] = attempt(os.removexattr, d / "f", "user.alpha")
    out["remove_missing"] = attempt(os.removexattr, d / "f", "user.alpha")
    out["get_removed"] = attempt(os.getxattr, d / "f", "user.alpha")
    out["list_after_remove"] = sorted(os.listxattr(d / "f"))
    out["bad_namespace"] = attempt(os.setxattr, d / "f", "bogus.name", b"x")
    out["name_too_long"] = attempt(os.setxattr, d / "f", "user." + "n" * 300, b"x")
    out["value_too_big"] = attempt(os.setxattr, d / "f", "user.huge", bytes(70000))
    with opened(d / "f", os.O_RDONLY) as fd:
        os.setxattr(fd, "user.byfd", b"fd")
        out["fd"] = (os.getxattr(fd, "user.byfd"), sorted(os.listxattr(fd)))
    os.setxattr(d / "dir", "user.dir", b"on a dir")
    out["dir"] = (os.getxattr(d / "dir", "user.dir"), os.listxattr(d / "dir"))
    # user.* attributes are refused on symlinks and FIFOs; through a link they reach the target.
    out["symlink_nofollow_set"] = attempt(os.setxattr, d / "l", "user.x", b"x", follow_symlinks=False)
    out["symlink_nofollow_get"] = attempt(os.getxattr, d / "l", "user.fresh", follow_symlinks=False)
    out["symlink_nofollow_list"] = attempt(os.listxattr, d / "l", follow_symlinks=False)
    out["symlink_follow_get"] = attempt(os.getxattr, d / "l", "user.fresh")
    out["symlink_follow_set"] = attempt(os.setxattr, d / "l", "user.via_link", b"v")
    out["target_after_link_set"] = attempt(os.getxattr, d / "f", "user.via_link")
    out["fifo"] = attempt(os.setxattr, d / "fifo", "user.x", b"x")
    out["missing_file"] = attempt(os.getxattr, d / "missing", "user.x")
    out["final_list"] = sorted(os.listxattr(d / "f"))
    return out


@scenario
def fallocate_ops(d: Path):
    out = {}
    mib = 1024 * 1024
    with opened(d / "f", os.O_CREAT | os.O_RDWR) as fd:
        out["posix_fallocate"] = attempt(os.posix_fallocate, fd, 0, mib)
        st = os.fstat(fd)
        out["size"] = st.st_size
        out["allocated"] = st.st_blocks * 512 >= mib
        os.pwrite(fd, b"\xff" * mib, 0)
        blocks_before = os.fstat(fd).st_blocks
        out["punch"] = attempt(fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 65536)
        st = os.fstat(fd)
        out["punched_size"] = st.st_size
        out["punched_blocks_fewer"] = st.st_blocks < blocks_before
        out["punched_zero"] = os.pread(fd, 65536, 4096) == bytes(65536)
        out["around_punch"] = (os.pread(fd, 4, 0), os.pread(fd, 4, 4096 + 65536))
        out["punch_without_keep_size"] = attempt(fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0, 4096)
        out["keep_size_beyond_eof"] = attempt(fallocate, fd, FALLOC_FL_KEEP_SIZE, mib, mib)
        out["size_after_keep"] = os.fstat(fd).st_size
        out["extend"] = attempt(fallocate, fd, 0, mib, 4096)
        out["size_after_extend"] = os.fstat(fd).st_size
        out["zero_length"] = attempt(fallocate, fd, 0, 0, 0)
        out["negative_offset"] = attempt(fallocate, fd, 0, -1, 10)
    with opened(d / "f", os.O_RDONLY) as fd:
        out["readonly_fd"] = attempt(os.posix_fallocate, fd, 0, 10)
    out["final_size"] = meta(d / "f")["size"]
    return out


@scenario
def copy_range(d: Path):
    out = {}
    data = pattern(300_000, 4)
    write(d / "src", data)
    write(d / "dst", b"keep-this-prefix")
    with opened(d / "src", os.O_RDONLY) as src, opened(d / "dst", os.O_WRONLY) as dst:
        out["copy"] = os.copy_file_range(src, dst, 200_000, 50_000, 16)
        out["past_eof"] = os.copy_file_range(src, dst, 100, 400_000, 0)
        out["tail_short"] = os.copy_file_range(src, dst, 100_000, 250_000, 300_000)
        os.lseek(src, 10, os.SEEK_SET)
        os.lseek(dst, 0, os.SEEK_END)
        out["implicit_offsets"] = os.copy_file_range(src, dst, 5)
        out["positions"] = (os.lseek(src, 0, os.SEEK_CUR), os.lseek(dst, 0, os.SEEK_CUR))
    with opened(d / "src", os.O_RDONLY) as src, opened(d / "src", os.O_RDONLY) as ro:
        out["to_readonly"] = attempt(os.copy_file_range, src, ro, 10)
    expected = bytearray(b"keep-this-prefix")
    expected += data[50_000:250_000]
    expected += bytes(300_000 - len(expected)) if len(expected) < 300_000 else b""
    expected[300_000:] = data[250_000:300_000]
    expected += data[10:15]
    got = content(d / "dst")
    out["dst_matches"] = got == bytes(expected)
    out["dst_size"] = len(got)
    return out


@scenario
def seek_data_hole(d: Path):
    out = {}
    mib = 1024 * 1024
    with opened(d / "sparse", os.O_CREAT | os.O_RDWR) as fd:
        os.pwrite(fd, b"a" * 4096, 0)
        os.pwrite(fd, b"b" * 4096, mib)
        os.ftruncate(fd, 4 * mib)
        os.fsync(fd)
        queries = [("data", 0), ("hole", 0), ("data", 4096), ("hole", mib), ("data", mib + 4096),
                   ("hole", 3 * mib), ("data", 4 * mib), ("hole", 4 * mib), ("data", 5 * mib),
                   ("data", -1)]
        for what, offset in queries:
            whence = os.SEEK_DATA if what == "data" else os.SEEK_HOLE
            out[f"{what}@{offset}"] = attempt(os.lseek, fd, offset, whence)
    with opened(d / "dense", os.O_CREAT | os.O_RDWR) as fd:
        os.write(fd, b"x" * 10000)
        out["dense_hole"] = os.lseek(fd, 0, os.SEEK_HOLE)
        out["dense_data"] = os.lseek(fd, 5, os.SEEK_DATA)
    with opened(d / "empty", os.O_CREAT | os.O_RDWR) as fd:
        out["empty_data"] = attempt(os.lseek, fd, 0, os.SEEK_DATA)
        out["empty_hole"] = attempt(os.lseek, fd, 0, os.SEEK_HOLE)
    return out


@scenario
def flock_local(d: Path):
    out = {}
    write(d / "f", b"")
    a = os.open(d / "f", os.O_RDWR)
    b = os.open(d / "f", os.O_RDWR)
    try:
        out["a_ex"] = attempt(fcntl.flock, a, fcntl.LOCK_EX | fcntl.LOCK_NB)
        out["b_ex"] = attempt(fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
        out["b_sh"] = attempt(fcntl.flock, b, fcntl.LOCK_SH | fcntl.LOCK_NB)
        dup = os.dup(a)
        out["dup_shares_lock"] = attempt(fcntl.flock, dup, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(dup)
        out["a_un"] = attempt(fcntl.flock, a, fcntl.LOCK_UN)
        out["b_ex_after_unlock"] = attempt(fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
        out["a_sh_vs_b_ex"] = attempt(fcntl.flock, a, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(b, fcntl.LOCK_SH)  # downgrade
        out["shared_both"] = attempt(fcntl.flock, a, fcntl.LOCK_SH | fcntl.LOCK_NB)
        out["upgrade_blocked"] = attempt(fcntl.flock, a, fcntl.LOCK_EX | fcntl.LOCK_NB)
        out["child_ex_vs_shared"] = lock_child(d / "f", [["flock", "ex"], ["flock", "sh"]])
    finally:
        os.close(b)
    try:
        # Closing the last descriptor of an open file description releases its flock.
        out["a_ex_after_b_closed"] = attempt(fcntl.flock, a, fcntl.LOCK_EX | fcntl.LOCK_NB)
        out["child_after"] = lock_child(d / "f", [["flock", "ex"]])
    finally:
        os.close(a)
    out["child_after_all_closed"] = lock_child(d / "f", [["flock", "ex"]])
    return out


@scenario
def posix_locks(d: Path):
    out = {}
    write(d / "f", b"x" * 200)
    fd = os.open(d / "f", os.O_RDWR)
    try:
        posix_lock(fd, "wr", 0, 10)
        posix_lock(fd, "rd", 100, 10)
        getlk = lock_child(d / "f", [
            ["setlk", "wr", 5, 10], ["setlk", "wr", 10, 10], ["setlk", "rd", 100, 10],
            ["setlk", "wr", 105, 1], ["getlk", "wr", 0, 1], ["getlk", "wr", 50, 1],
            ["getlk", "rd", 100, 5],
        ])
        # The holder's pid is not a set value, so compare whether it is ours.
        for item in getlk:
            if isinstance(item, dict) and item.get("type") != "un":
                item["pid"] = "holder" if item["pid"] == os.getpid() else item["pid"]
        out["child_vs_parent_locks"] = getlk
        out["same_owner_overlap"] = attempt(posix_lock, fd, "wr", 5, 10)
        out["lockf_same_process"] = attempt(fcntl.lockf, fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 50)
        # Record locks belong to the process, not to the open file: a second open doesn't conflict.
        second = os.open(d / "f", os.O_RDWR)
        out["same_owner_second_open"] = attempt(posix_lock, second, "wr", 0, 20)
        out["child_sees_second_open_lock"] = lock_child(d / "f", [["setlk", "wr", 15, 1]])
        os.close(second)  # drops every lock of this process on the file, per POSIX
        out["after_closing_second_open"] = lock_child(d / "f", [["setlk", "wr", 0, 0]])
        posix_lock(fd, "wr", 0, 10)
        posix_lock(fd, "rd", 100, 10)
        posix_lock(fd, "un", 0, 0)
        out["after_unlock"] = lock_child(d / "f", [["setlk", "wr", 0, 0]])
        posix_lock(fd, "wr", 150, 0)  # to end of file and beyond
        other = os.open(d / "f", os.O_RDONLY)
        out["before_close_other"] = lock_child(d / "f", [["setlk", "wr", 1000, 1]])
        # POSIX: closing any descriptor of the file drops all the process's locks on it.
        os.close(other)
        out["after_close_other"] = lock_child(d / "f", [["setlk", "wr", 1000, 1]])
    finally:
        os.close(fd)
    return out


@scenario
def access_root(d: Path):
    out = {}
    modes = {"m000": 0o000, "m100": 0o100, "m010": 0o010, "m001": 0o001, "m444": 0o444, "m755": 0o755}
    for name, mode in modes.items():
        write(d / name, b"")
        os.chmod(d / name, mode)
    (d / "dir000").mkdir(0o000)
    os.chmod(d / "dir000", 0o000)
    os.symlink("m755", d / "link")
    os.symlink("nowhere", d / "dangling")
    checks = {"F": os.F_OK, "R": os.R_OK, "W": os.W_OK, "X": os.X_OK}
    for name in [*modes, "dir000", "link", "dangling", "missing"]:
        out[name] = {k: os.access(d / name, v) for k, v in checks.items()}
    out["dangling_nofollow"] = os.access(d / "dangling", os.F_OK, follow_symlinks=False)
    out["effective_ids"] = os.access(d / "m000", os.R_OK | os.W_OK, effective_ids=True)
    out["inside_dir000"] = os.access(d / "dir000" / "x", os.F_OK)
    return out


def _unprivileged_actions(d: str) -> dict:
    """Runs as uid/gid 1000 in the world-writable, sticky directory `d`."""
    os.umask(0o022)
    p = Path(d)
    out = {}
    with opened(p / "file", os.O_CREAT | os.O_WRONLY, 0o644) as fd:
        os.write(fd, b"mine")
    os.mkdir(p / "dir")
    os.symlink("file", p / "link")
    os.mkfifo(p / "fifo")
    os.link(p / "file", p / "hardlink")
    cwd = os.getcwd()
    os.chdir(p)
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.bind("sock")
    finally:
        os.chdir(cwd)
    os.rename(p / "hardlink", p / "renamed")
    out["own_utime"] = attempt(os.utime, p / "file", ns=(10, 20))
    out["own_chmod"] = attempt(os.chmod, p / "file", 0o600)
    out["own_xattr"] = attempt(os.setxattr, p / "file", "user.mine", b"yes")
    out["own_chown_to_root"] = attempt(os.chown, p / "file", 0, -1)
    out["own_chgrp_foreign"] = attempt(os.chown, p / "file", -1, 4242)
    out["own_chown_noop"] = attempt(os.chown, p / "file", 1000, 1000)
    out["write_root_file"] = attempt(os.open, p / "rootfile", os.O_WRONLY)
    out["read_root_private"] = attempt(os.open, p / "rootprivate", os.O_RDONLY)
    out["read_root_file"] = attempt(lambda: content(p / "rootfile"))
    out["truncate_root_file"] = attempt(os.truncate, p / "rootfile", 0)
    out["chmod_root_file"] = attempt(os.chmod, p / "rootfile", 0o666)
    out["chown_root_file"] = attempt(os.chown, p / "rootfile", 1000, 1000)
    out["utime_root_file_explicit"] = attempt(os.utime, p / "rootfile", ns=(1, 2))
    out["utime_root_file_now"] = attempt(os.utime, p / "rootfile")
    out["xattr_root_file"] = attempt(os.setxattr, p / "rootfile", "user.x", b"x")
    out["unlink_root_file_sticky"] = attempt(os.unlink, p / "rootfile")
    out["rename_root_file_sticky"] = attempt(os.rename, p / "rootfile", p / "stolen")
    out["create_in_root_dir"] = attempt(os.open, p / "rootdir" / "x", os.O_CREAT | os.O_WRONLY)
    out["mkdir_in_root_dir"] = attempt(os.mkdir, p / "rootdir" / "x")
    out["list_root_private_dir"] = attempt(os.listdir, p / "rootprivdir")
    out["enter_root_private_dir"] = attempt(os.stat, p / "rootprivdir" / "inner")
    out["link_root_file"] = attempt(os.link, p / "rootprivate", p / "mylink")
    out["access_root_private"] = {"R": os.access(p / "rootprivate", os.R_OK),
                                  "W": os.access(p / "rootfile", os.W_OK),
                                  "read_root_file": os.access(p / "rootfile", os.R_OK)}
    out["mknod_chr"] = attempt(os.mknod, p / "dev", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    os.mkdir(p / "sgid" / "subdir")
    with opened(p / "sgid" / "file", os.O_CREAT | os.O_WRONLY, 0o2755):
        pass
    return out


@scenario
def unprivileged_caller(d: Path):
    os.chmod(d, 0o1777)
    write(d / "rootfile", b"root data", 0o644)
    write(d / "rootprivate", b"secret", 0o600)
    os.chmod(d / "rootprivate", 0o600)
    (d / "rootdir").mkdir(0o755)
    (d / "rootprivdir").mkdir()
    write(d / "rootprivdir" / "inner", b"")
    os.chmod(d / "rootprivdir", 0o700)
    # A set-group-ID directory of a group the caller is not in: new entries still get its group.
    (d / "sgid").mkdir()
    os.chown(d / "sgid", 0, 4242)
    os.chmod(d / "sgid", 0o2777)
    out = {"actions": as_user(OTHER_UID, OTHER_GID, _unprivileged_actions, str(d))}
    out["created"] = {n: meta(d / n) for n in ("file", "dir", "link", "fifo", "sock", "renamed")}
    out["sgid_created"] = {n: meta(d / "sgid" / n) for n in ("subdir", "file")}
    out["root_files_intact"] = (content(d / "rootfile"), content(d / "rootprivate"),
                                meta(d / "rootfile"))
    out["xattr"] = attempt(os.getxattr, d / "file", "user.mine")
    out["times"] = times(d / "file")
    return out


@scenario
def delete_while_listing(d: Path):
    # What shutil.rmtree and find -delete do: unlink each entry as the listing yields it.
    (d / "tree").mkdir()
    names = [f"file{i:04d}" for i in range(300)]
    for name in names:
        write(d / "tree" / name, b"x")
    deleted = []
    with os.scandir(d / "tree") as it:
        for entry in it:
            os.unlink(entry.path)
            deleted.append(entry.name)
    return {
        "deleted_all_once": sorted(deleted) == names,
        "deleted_still_resolvable": [n for n in names if os.path.lexists(d / "tree" / n)],
        "listing_after": os.listdir(d / "tree"),
        "rmdir": attempt(os.rmdir, d / "tree"),
    }


# ---------------------------------------------------------------------------------------------
# Regressions found by xfstests (docs/XFSTESTS.md): each failed through dtypefs before its fix.

FALLOC_FL_ZERO_RANGE = 0x10


@scenario
def many_hard_links(d: Path):
    # generic/002: 20 names of one file, the 8 newest removed; every other name still reaches it.
    write(d / "f", b"data")
    for i in range(1, 20):
        os.link(d / "f", d / f"link{i}")
    for i in range(12, 20):
        os.unlink(d / f"link{i}")
    names = ["f"] + [f"link{i}" for i in range(1, 12)]
    return {"nlink": {n: attempt(lambda n=n: os.lstat(d / n).st_nlink) for n in names},
            "content": content(d / "f"), "listing": sorted(os.listdir(d))}


@scenario
def fstat_directory_replaced(d: Path):
    # generic/035: fstat of an open directory that a rename replaced (or rmdir removed) succeeds
    # and reports no links; the same for a file replaced while open.
    out = {}
    for kind_ in ("dir", "file"):
        old, new = d / f"{kind_}_old", d / f"{kind_}_new"
        if kind_ == "dir":
            old.mkdir()
            new.mkdir()
        else:
            write(old, b"old")
            write(new, b"new")
        fd = os.open(new, os.O_RDONLY)
        try:
            os.rename(old, new)
            st = os.fstat(fd)
            out[kind_] = {"kind": kind(st.st_mode), "nlink": st.st_nlink}
        finally:
            os.close(fd)
    (d / "removed").mkdir()
    fd = os.open(d / "removed", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.rmdir(d / "removed")
        out["rmdir"] = attempt(lambda: os.fstat(fd).st_nlink)
        out["create_in_removed"] = attempt(os.open, "x", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
    finally:
        os.close(fd)
    return out


@scenario
def mmap_after_direct(d: Path):
    # generic/091, 263: a file opened with O_DIRECT can still be mapped, and both views agree.
    size = 8192
    data = pattern(size, 7)
    buf = mmap.mmap(-1, size)
    buf[:] = data
    fd = os.open(d / "f", os.O_CREAT | os.O_RDWR | os.O_DIRECT, 0o644)
    out = {}
    try:
        out["write"] = attempt(os.pwritev, fd, [buf], 0)
        try:
            view = mmap.mmap(fd, size)
        except OSError as exc:
            return {**out, "mmap": errname(exc)}
        with view:
            out["mapped_matches"] = view[:] == data
            view[:4] = b"MMAP"
            view.flush()
        back = mmap.mmap(-1, size)
        out["direct_read"] = attempt(os.preadv, fd, [back], 0)
        out["direct_sees_mapped_write"] = bytes(back[:4])
    finally:
        os.close(fd)
    out["content"] = digest(Path(d / "f").read_bytes())
    return out


def _modify_as_writer(path: str, how: str):
    """One change of contents by an unprivileged writer, for setid_bits_cleared."""
    fd = os.open(path, os.O_RDWR | (os.O_DIRECT if how == "direct_write" else 0))
    try:
        if how == "write":
            return os.pwrite(fd, b"x", 0)
        if how == "direct_write":
            buf = mmap.mmap(-1, 4096)
            buf[:] = b"d" * 4096
            return os.pwritev(fd, [buf], 0)
        if how == "extend":
            return fallocate(fd, 0, 0, 131072)
        if how == "punch":
            return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096)
        if how == "zero_range":
            return fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096)
        if how == "copy_range":
            source = os.open(path + ".src", os.O_RDONLY)
            try:
                return os.copy_file_range(source, fd, 4096, 0, 0)
            finally:
                os.close(source)
        if how == "truncate":
            return os.ftruncate(fd, 100)
        raise ValueError(how)
    except OSError as exc:
        return errname(exc)
    finally:
        os.close(fd)


@scenario
def setid_bits_cleared(d: Path):
    # generic/355, 683, 684, 685: a change of contents by a writer without CAP_FSETID clears
    # setuid, and setgid where group execute is set; root's keeps them. A security boundary.
    out = {}
    write(d / "f.src", pattern(4096, 9))
    os.chmod(d / "f.src", 0o644)
    cases = ("write", "direct_write", "extend", "punch", "zero_range", "copy_range", "truncate")
    # The writer's own file (setgid without group execute stays: the writer is in the group), and
    # root's file open to all, as xfstests has it (the writer is not in root's group).
    for how in cases:
        for mode, owner in ((0o6777, OTHER_UID), (0o2766, OTHER_UID), (0o6666, 0), (0o6676, 0)):
            path = d / f"{how}_{oct(mode)}_{owner}"
            write(path, pattern(65536, 8))
            os.link(d / "f.src", str(path) + ".src")
            os.chown(path, owner, owner)
            os.chmod(path, mode)
            result = as_user(OTHER_UID, OTHER_GID, _modify_as_writer, str(path), how)
            out[f"{how} {oct(mode)} owner {owner}"] = (result, oct(stat.S_IMODE(os.stat(path).st_mode)))
    path = d / "root_write"
    write(path, b"root")
    os.chmod(path, 0o6755)
    with opened(path, os.O_WRONLY) as fd:
        os.pwrite(fd, b"R", 0)
        fallocate(fd, 0, 0, 8192)
    out["root keeps"] = oct(stat.S_IMODE(os.stat(path).st_mode))
    return out


def _ofd_lock(fd: int, kind_: str, start: int = 0, length: int = 10):
    types = {"rd": fcntl.F_RDLCK, "wr": fcntl.F_WRLCK, "un": fcntl.F_UNLCK}
    result = attempt(fcntl.fcntl, fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", types[kind_], 0, start, length, 0))
    return result if isinstance(result, str) else "ok"


@scenario
def ofd_locks_end_with_their_open_file(d: Path):
    # generic/478: an OFD lock belongs to its open file and goes when that file is closed; the
    # kernel sends no unlock for it, so the daemon must drop it at release.
    write(d / "f", b"locked")
    out = {}
    first = os.open(d / "f", os.O_RDWR)
    out["lock"] = _ofd_lock(first, "wr")
    second = os.open(d / "f", os.O_RDWR)
    out["conflict while held"] = _ofd_lock(second, "wr")
    duplicate = os.dup(first)
    os.close(first)
    out["still held through a dup"] = _ofd_lock(second, "wr")
    os.close(duplicate)
    out["after the last close"] = _ofd_lock(second, "wr")
    out["unlock"] = _ofd_lock(second, "un")
    os.close(second)
    return out


def _allocate_as_writer(path: str, mode: int):
    fd = os.open(path, os.O_RDWR)
    try:
        return attempt(fallocate, fd, mode, 65536, 65536)
    finally:
        os.close(fd)


@scenario
def setid_cleared_by_fallocate_inside_the_file(d: Path):
    # generic/683-685 as xfstests runs them: root's synced 192k file open to all, a+rws, then an
    # unprivileged fallocate inside it; the mode seen right after must be the cleared one (the
    # kernel keeps its cached mode across fallocate unless told).
    out = {}
    for name, mode in (("falloc", 0), ("punch", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), ("zero", FALLOC_FL_ZERO_RANGE)):
        path = d / name
        write(path, b"X" * 196608)
        os.sync()
        os.chmod(path, 0o6666)
        os.stat(path)  # cached by the kernel now
        result = as_user(OTHER_UID, OTHER_GID, _allocate_as_writer, str(path), mode)
        out[name] = (result, oct(stat.S_IMODE(os.stat(path).st_mode)))
    return out
