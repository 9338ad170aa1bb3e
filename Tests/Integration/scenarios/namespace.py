"""Scenarios of names: lookup and forget, readlink, mknod, mkdir, unlink, rmdir, symlinks, hard links,
renames (FuseBridge's NamespaceOperations)."""
from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from .registry import scenario
from .observe import *  # noqa: F403
from .ctypes_calls import *  # noqa: F403
from .processes import *  # noqa: F403


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
