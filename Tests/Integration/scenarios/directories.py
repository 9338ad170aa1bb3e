"""Scenarios of listings: readdir, seekdir/telldir, listing while the directory changes
(FuseBridge's DirectoryOperations)."""
from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from .registry import scenario
from .observe import *  # noqa: F403
from .ctypes_calls import *  # noqa: F403
from .processes import *  # noqa: F403


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
