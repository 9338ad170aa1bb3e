"""Test trees and the walkers that list them.

A tree is built from one spec with plain os calls, so the same spec written into a plain directory
(the control, with real symlinks) and onto the CIFS emulator's mount (where os.symlink makes XSym
files) gives two trees that must look identical to every walker. Each walker returns a sorted,
hashable listing of paths relative to the root, so listings compare with `==` and differences
print readably."""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import glob
import os
import platform
import stat
import struct
import subprocess
from pathlib import Path

# -------------------------------------------------------------------------------------------------
# The types tree
# -------------------------------------------------------------------------------------------------

BIG_DIR = "big"
BIG_ENTRIES = 1000

# Directories, in creation order (parents first).
TYPES_DIRS = [
    "d1",
    "d1/sub",
    "space dir",
    "ünïcödé dïr",
    "ünïcödé dïr/名前",
    "empty",
    "loop",
    "loop/dir",
    BIG_DIR,
]

# Regular files: path -> content.
TYPES_FILES = {
    "top.txt": b"top\n",
    "d1/f1": b"f1\n",
    "d1/sub/f2": b"f2\n",
    "space dir/file with spaces.txt": b"spaces\n",
    "ünïcödé dïr/fïlé-名前.txt": "ünïcödé\n".encode(),
    "ünïcödé dïr/名前/深い": b"deep\n",
    "emoji-\U0001F600.txt": b"emoji\n",
    # Exactly the size of an XSym link file, but not one: must stay a regular file everywhere.
    "decoy-1067": b"x" * 1067,
    # Starts like an XSym file, right size, but the MD5 does not match: the kernel keeps it regular.
    "decoy-xsym-bad-md5": (b"XSym\n0004\n" + b"0" * 32 + b"\nd1/f\n").ljust(1067, b" "),
}

# Symlinks: path -> target (all relative, so the tree means the same wherever it is mounted).
TYPES_LINKS = {
    "link_to_dir": "d1",
    "link_to_subdir": "d1/sub",
    "link_to_file": "d1/f1",
    "dangling": "does-not-exist",
    "dangling_in_dir": "d1/nope/nope",
    "chain_to_dir": "link_to_dir",          # a link to a link to a directory
    "chain_to_file": "link_to_file",
    "link with space": "space dir",
    "lïnk-ünïcödé": "ünïcödé dïr/fïlé-名前.txt",
    "ünïcödé dïr/lïnk → 名前": "名前",       # a directory link, unicode and space in its name
    "d1/sub/link_up_file": "../f1",
    # The loop subtree: two links pointing at each other, a link to itself, and a directory link
    # to its own parent directory (loop/dir/up -> .. is loop, which holds dir again). It is the
    # tree's only cycle: walkers that follow links (glob's '**') go round it until the kernel's
    # 40-symlink limit, linearly; a second cycle would make that exponential.
    "loop/a": "b",
    "loop/b": "a",
    "loop/self": "self",
    "loop/dir/up": "..",
}


def big_entry(i: int) -> tuple[str, str, object]:
    """Entry i of the 1000-entry directory: (name, kind, payload). A mix of every type, so a wrong
    d_type anywhere in any READDIR batch shows."""
    name = f"e{i:04d}"
    kind = i % 10
    if kind <= 3:
        return name, "file", f"{i}\n".encode()
    if kind == 4:
        return name, "dir", None
    if kind == 5:
        return name, "link", "../top.txt"            # link to a file
    if kind == 6:
        return name, "link", "../d1"                 # link to a directory
    if kind == 7:
        return name, "link", f"missing-{i}"          # dangling
    if kind == 8:
        return name, "link", f"e{i - 4:04d}"         # link to a sibling directory
    return name, "link", f"e{i - 9:04d}"             # link to a sibling file


def build_types_tree(root: str | os.PathLike) -> None:
    """Write the types tree under `root` (which must exist and be empty)."""
    root = Path(root)
    for d in TYPES_DIRS:
        (root / d).mkdir()
    for path, content in TYPES_FILES.items():
        (root / path).write_bytes(content)
    for path, target in TYPES_LINKS.items():
        os.symlink(target, root / path)
    big = root / BIG_DIR
    for i in range(BIG_ENTRIES):
        name, kind, payload = big_entry(i)
        if kind == "file":
            (big / name).write_bytes(payload)
        elif kind == "dir":
            (big / name).mkdir()
        else:
            os.symlink(payload, big / name)


def build_flat_files(directory: str | os.PathLike, count: int, prefix: str = "f") -> list[str]:
    """`count` small regular files in `directory` (created if missing); returns their names."""
    directory = Path(directory)
    directory.mkdir(exist_ok=True)
    names = [f"{prefix}{i:05d}" for i in range(count)]
    for name in names:
        fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
    return names


def build_wide_tree(root: str | os.PathLike, dirs: int, files_per_dir: int) -> int:
    """`dirs` directories of `files_per_dir` empty files each, plus one symlink per directory.
    Returns the number of entries below root (what `find ROOT -mindepth 1 | wc -l` prints)."""
    root = Path(root)
    for d in range(dirs):
        directory = root / f"dir{d:04d}"
        directory.mkdir()
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for f in range(files_per_dir):
                os.close(os.open(f"file{f:04d}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644,
                                 dir_fd=dfd))
            os.symlink("file0000", "link", dir_fd=dfd)
        finally:
            os.close(dfd)
    return dirs * (files_per_dir + 2)


# -------------------------------------------------------------------------------------------------
# Walkers: each returns a sorted listing relative to root
# -------------------------------------------------------------------------------------------------

def _rel(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return "" if rel == "." else rel


def walk_listing(root, topdown: bool = True, followlinks: bool = False,
                 max_depth: int | None = None) -> list[tuple[str, tuple, tuple]]:
    """os.walk as (relative dirpath, sorted dirnames, sorted filenames) triples, sorted. With
    max_depth (topdown only) directories deeper than that are listed but not entered, which keeps
    followlinks=True finite on a tree with loops."""
    root = str(root)
    out = []
    errors = []
    for dirpath, dirnames, filenames in os.walk(root, topdown=topdown, followlinks=followlinks,
                                                onerror=errors.append):
        rel = _rel(dirpath, root)
        out.append((rel, tuple(sorted(dirnames)), tuple(sorted(filenames))))
        if max_depth is not None and topdown:
            depth = 0 if rel == "" else rel.count(os.sep) + 1
            if depth >= max_depth:
                dirnames[:] = []
    return sorted(out)


def scandir_listing(root) -> list[tuple]:
    """Every entry found by recursive os.scandir (entering real directories only, as d_type says)
    with is_dir/is_file for both follow_symlinks values and is_symlink."""
    root = str(root)
    out = []

    def ask(method, **kwargs):
        # is_dir()/is_file() swallow ENOENT but raise others (ELOOP on a link loop): record them.
        try:
            return method(**kwargs)
        except OSError as error:
            return errno.errorcode.get(error.errno, str(error.errno))

    def visit(path):
        with os.scandir(path) as it:
            for entry in it:
                out.append((_rel(entry.path, root),
                            ("is_dir", ask(entry.is_dir)),
                            ("is_dir(nofollow)", ask(entry.is_dir, follow_symlinks=False)),
                            ("is_file", ask(entry.is_file)),
                            ("is_file(nofollow)", ask(entry.is_file, follow_symlinks=False)),
                            ("is_symlink", ask(entry.is_symlink))))
                if entry.is_dir(follow_symlinks=False):
                    visit(entry.path)

    visit(root)
    return sorted(out)


def glob_listing(root, pattern: str = "**") -> list[str]:
    return sorted(glob.glob(pattern, root_dir=str(root), recursive=True))


def rglob_listing(root, pattern: str = "*") -> list[str]:
    root = Path(root)
    return sorted(str(p.relative_to(root)) + ("/" if pattern.endswith("/") else "")
                  for p in root.rglob(pattern))


def find_listing(root, *predicates: str) -> list[str]:
    """GNU find ROOT -mindepth 1 PREDICATES, as relative paths. Errors fail loudly."""
    result = subprocess.run(["find", str(root), "-mindepth", "1", *predicates, "-printf", r"%P\0"],
                            capture_output=True)
    # find exits 1 when it could not read something; that is part of what is compared.
    names = [os.fsdecode(n) for n in result.stdout.split(b"\0") if n]
    if result.returncode:
        problem = result.stderr.decode(errors="replace").strip()
        return sorted(names) + [f"<find exit {result.returncode}: {problem}>"]
    return sorted(names)


def lstat_listing(root) -> list[tuple]:
    """Every path below root (found by os.walk, not following links) with its lstat file type,
    its size for regular files, and its target for symlinks. Independent of d_type: the ground
    truth both trees must agree on."""
    root = str(root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            detail = None
            if stat.S_ISLNK(st.st_mode):
                detail = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                detail = st.st_size
            out.append((_rel(path, root), kind, detail))
    return sorted(out)


def lstat_types_all(root) -> list[tuple[str, int]]:
    """(relative path, S_IFMT) of every entry, from getdents names and lstat types: recursion
    enters only what lstat says is a directory, so it needs no d_type at all."""
    root = str(root)
    out = []

    def visit(path):
        for name in os.listdir(path):
            child = os.path.join(path, name)
            mode = os.lstat(child).st_mode
            out.append((_rel(child, root), stat.S_IFMT(mode)))
            if stat.S_ISDIR(mode):
                visit(child)

    visit(root)
    return sorted(out)


# -------------------------------------------------------------------------------------------------
# Raw getdents64: d_type as the kernel hands it out, with no libc or Python in between
# -------------------------------------------------------------------------------------------------

DT_UNKNOWN, DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG, DT_LNK, DT_SOCK = 0, 1, 2, 4, 6, 8, 10, 12
DT_NAMES = {DT_UNKNOWN: "DT_UNKNOWN", DT_FIFO: "DT_FIFO", DT_CHR: "DT_CHR", DT_DIR: "DT_DIR",
            DT_BLK: "DT_BLK", DT_REG: "DT_REG", DT_LNK: "DT_LNK", DT_SOCK: "DT_SOCK"}
_SYS_GETDENTS64 = {"x86_64": 217, "aarch64": 61}.get(platform.machine())
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def dtype_of_mode(mode: int) -> int:
    return stat.S_IFMT(mode) >> 12


def getdents(fd: int, bufsize: int = 32768) -> list[tuple[str, int, int]] | None:
    """One getdents64 call on fd: [(name, d_type, d_ino)], or None at end of directory."""
    if _SYS_GETDENTS64 is None:
        raise RuntimeError(f"getdents64 syscall number unknown on {platform.machine()}")
    buf = ctypes.create_string_buffer(bufsize)
    n = _libc.syscall(_SYS_GETDENTS64, fd, buf, bufsize)
    if n < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    if n == 0:
        return None
    out = []
    raw = buf.raw[:n]
    pos = 0
    while pos < n:
        d_ino, _d_off, reclen, d_type = struct.unpack_from("<QqHB", raw, pos)
        name = raw[pos + 19:pos + reclen].split(b"\0", 1)[0]
        out.append((os.fsdecode(name), d_type, d_ino))
        pos += reclen
    return out


def read_dtypes(directory, bufsize: int = 32768) -> list[tuple[str, int, int]]:
    """The whole directory via raw getdents64, '.' and '..' left out."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        out = []
        while (batch := getdents(fd, bufsize)) is not None:
            out += [e for e in batch if e[0] not in (".", "..")]
        return out
    finally:
        os.close(fd)


def dtype_listing(root) -> list[tuple[str, str, int]]:
    """(relative path, d_type name, d_ino != 0) for every entry of every real directory below root
    (recursion decided by lstat, so it works whatever d_type says)."""
    root = str(root)
    out = []

    def visit(path):
        for name, d_type, d_ino in read_dtypes(path):
            child = os.path.join(path, name)
            out.append((_rel(child, root), DT_NAMES.get(d_type, str(d_type)), d_ino))
            if stat.S_ISDIR(os.lstat(child).st_mode):
                visit(child)

    visit(root)
    return sorted(out)


def true_dtypes(root) -> dict[str, str]:
    """What d_type every entry should have: from lstat."""
    return {rel: DT_NAMES[dtype_of_mode(mode)] for rel, mode in lstat_types_all(root)}


# -------------------------------------------------------------------------------------------------
# Diffs that read well in an assertion message
# -------------------------------------------------------------------------------------------------

def _flatten(items):
    """os.walk triples become one item per listed name, so a diff names the entries that moved
    (a link to a directory listed among the files) instead of printing whole directories."""
    out = []
    for item in items:
        if (isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], str)
                and isinstance(item[1], tuple) and isinstance(item[2], tuple)):
            out += [(item[0] or ".", "in dirnames", name) for name in item[1]]
            out += [(item[0] or ".", "in filenames", name) for name in item[2]]
            if not item[1] and not item[2]:
                out.append((item[0] or ".", "walked (empty)"))
        else:
            out.append(item)
    return out


def describe_difference(expected, actual, limit: int = 25) -> str:
    expected, actual = _flatten(expected), _flatten(actual)
    exp, act = set(expected), set(actual)
    missing = sorted(exp - act, key=repr)
    extra = sorted(act - exp, key=repr)

    def show(item):
        text = repr(item)
        return text if len(text) <= 300 else text[:300] + "..."

    lines = [f"{len(missing)} expected item(s) missing, {len(extra)} unexpected item(s)"]
    lines += [f"  - {show(m)}" for m in missing[:limit]]
    if len(missing) > limit:
        lines.append(f"  ... {len(missing) - limit} more missing")
    lines += [f"  + {show(e)}" for e in extra[:limit]]
    if len(extra) > limit:
        lines.append(f"  ... {len(extra) - limit} more unexpected")
    if not missing and not extra and list(expected) != list(actual):
        lines.append("  (same items, different multiplicity or order)")
    return "\n".join(lines)


def assert_same(expected, actual, what: str) -> None:
    """Fail with a short, readable diff (not pytest's full dump of two huge lists)."""
    if expected != actual:
        import pytest
        pytest.fail(f"{what}:\n{describe_difference(expected, actual)}", pytrace=False)
