"""The libc entry points Python does not expose (utimensat flags, renameat2, linkat, fallocate,
the dirent stream with telldir/seekdir), through ctypes: the only module that declares C types."""
from __future__ import annotations

import ctypes
import os


_DTYPES = {0: "unknown", 1: "fifo", 2: "chr", 4: "dir", 6: "blk", 8: "reg", 10: "lnk", 12: "sock"}


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


FALLOC_FL_ZERO_RANGE = 0x10
