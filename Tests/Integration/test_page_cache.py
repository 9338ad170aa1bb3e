"""The kernel keeps a file's cached pages across opens only while the file is unchanged: a second
read of an unchanged file comes from memory, and a change behind the mount (another client) or
through it is always read, never the stale pages."""
from __future__ import annotations

import ctypes
import mmap
import os
import time

from fsmount import mounted_dtypefs

PAGE = os.sysconf("SC_PAGE_SIZE")
libc = ctypes.CDLL(None, use_errno=True)
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]


def resident_pages(path) -> int:
    """Pages of `path` in the page cache, as mincore sees them through a private mapping (never
    written, so its pages are the cache's; opening it is
    itself an open through the mount: what the test is about)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        pages = (size + PAGE - 1) // PAGE
        vector = (ctypes.c_ubyte * pages)()
        buffer = ctypes.c_char.from_buffer(mapped)
        address = ctypes.addressof(buffer)
        result = libc.mincore(ctypes.c_void_p(address), size, vector)
        del buffer
        assert result == 0, os.strerror(ctypes.get_errno())
        return sum(byte & 1 for byte in vector)


def test_an_unchanged_file_keeps_its_pages_across_opens(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    data = os.urandom(64 * PAGE)
    (src / "f").write_bytes(data)
    # A stamp counts only once the last change is a second old (timestamps have ticks); not a
    # timing assertion, the precondition of keeping.
    time.sleep(1.1)
    with mounted_dtypefs(src, mnt):
        assert (mnt / "f").read_bytes() == data  # first open: read from the backing, now cached
        assert resident_pages(mnt / "f") == 64, "an unchanged file lost its cached pages at open"


def test_a_change_behind_the_mount_is_read_not_the_cached_pages(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    old, new = b"a" * (8 * PAGE), b"b" * (8 * PAGE)
    (src / "f").write_bytes(old)
    with mounted_dtypefs(src, mnt, options=["attr_timeout=60", "entry_timeout=60"]):
        assert (mnt / "f").read_bytes() == old
        before = os.stat(src / "f")
        # Another client rewrites it in place: same size, and even the old mtime put back.
        with open(src / "f", "r+b") as f:
            f.write(new)
        os.utime(src / "f", ns=(before.st_atime_ns, before.st_mtime_ns))
        assert (mnt / "f").read_bytes() == new, "the stale cached pages were served"


def test_a_write_through_the_mount_is_read_back(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "f").write_bytes(b"a" * (4 * PAGE))
    with mounted_dtypefs(src, mnt):
        assert (mnt / "f").read_bytes() == b"a" * (4 * PAGE)
        with open(mnt / "f", "r+b") as f:
            f.seek(PAGE)
            f.write(b"c" * PAGE)
        assert (mnt / "f").read_bytes() == b"a" * PAGE + b"c" * PAGE + b"a" * (2 * PAGE)
        assert (src / "f").read_bytes() == (mnt / "f").read_bytes()
