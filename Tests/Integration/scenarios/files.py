"""Scenarios of open files: open flags, O_DIRECT, read/write, flush/release, fsync, fallocate,
copy_file_range, SEEK_DATA/HOLE, locks, setuid/setgid clearing (FuseBridge's FileOperations)."""
from __future__ import annotations

import fcntl
import mmap
import os
import stat
import struct
from pathlib import Path

from .registry import scenario
from .observe import *  # noqa: F403
from .ctypes_calls import *  # noqa: F403
from .processes import *  # noqa: F403


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
