"""What scenarios observe and how they compare: errno names, stat fields that must match between
the two runs, contents and digests, small file helpers."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
import stat



# A uid/gid that exists on the test machine is not needed: the kernel stores any number.
OTHER_UID, OTHER_GID = 1000, 1000


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


def short(name):
    """Long names shortened so a failing comparison stays readable."""
    if isinstance(name, bytes):
        return name if len(name) <= 40 else name[:8] + b"...(%d)" % len(name)
    return name if len(name) <= 40 else f"{name[:8]}...({len(name)})"
