"""Scenarios as an unprivileged caller: what the kernel allows or refuses must be the same."""
from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from .registry import scenario
from .observe import *  # noqa: F403
from .ctypes_calls import *  # noqa: F403
from .processes import *  # noqa: F403


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
