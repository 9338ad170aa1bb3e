"""Scenarios of attributes: setattr (mode, owner, size, times), access, extended attributes, fstat
(FuseBridge's AttributeOperations)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .registry import scenario
from .observe import *  # noqa: F403
from .ctypes_calls import *  # noqa: F403
from .processes import *  # noqa: F403


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
