"""Hostile names and paths: one scenario runs on a control directory and through dtypefs; every
step's outcome (its result, or its errno) must be the same, and names must arrive byte-exact in the
backing directory.

Names: newline, tab, carriage return, control bytes, leading dashes, invalid UTF-8, glob and shell
characters, 255-byte names (ASCII and multi-byte UTF-8), 256-byte names (refused), "." and "..";
paths of exactly 4095 bytes (the longest the kernel passes) and 4096 (refused), reached through a
directory descriptor since the mount point's own path would not fit; link targets of 4095 bytes.
"""
from __future__ import annotations

import errno
import os
import stat

import pytest

from fsmount import mounted_dtypefs, mounted_emulator

NAMES = [
    b"new\nline", b"\nleading-newline", b"trailing-newline\n", b"tab\there", b"cr\rlf\r\n",
    b"-leading-dash", b"--double-dash", b"-", b"-rf", b"\x01\x02\x1f\x7f controls",
    b"\xff\xfe invalid utf-8", b"\xc3\x28 bad continuation", b"\xed\xa0\x80 surrogate", b"\xc0\xaf overlong",
    b" leading space", b"trailing space ", b"trailing dot.", b"...", b" ", b"back\\slash",
    b"glob*?[a-z]{x,y}", b"quote'\"`$(echo no)", b"semi;colon|pipe&amp<>", b"%s%n%x", b"\xe2\x80\xae rtl override",
    b"a" * 255, ("\u00e9" * 127 + "a").encode(), ("\U0001f600" * 63 + "abc").encode(),
]
TOO_LONG = [b"b" * 256, ("\u00e9" * 128).encode()]
SPECIAL = [b".", b"..", b""]
assert all(len(n) <= 255 for n in NAMES) and all(len(n) > 255 for n in TOO_LONG)


def outcome(action):
    try:
        result = action()
    except OSError as error:
        return ("err", errno.errorcode.get(error.errno, error.errno))
    return ("ok", result)


def kind(path, dir_fd=None) -> str:
    st = os.lstat(path, dir_fd=dir_fd)
    return "l" if stat.S_ISLNK(st.st_mode) else "d" if stat.S_ISDIR(st.st_mode) else "f"


def name_scenario(root: bytes, on_built=None) -> list:
    """Every hostile name as a file, a directory and a symlink; then read, list, rename, remove.
    `on_built(root)` runs once everything exists, before the removals."""
    steps = []

    def step(label, action):
        steps.append((label, outcome(action)))

    os.mkdir(root)
    for sub in (b"files", b"dirs", b"links"):
        os.mkdir(os.path.join(root, sub))
    for name in NAMES + TOO_LONG + SPECIAL:
        f = os.path.join(root, b"files", name)
        d = os.path.join(root, b"dirs", name)
        lnk = os.path.join(root, b"links", name)
        step((b"create", name), lambda: write(f, name))
        step((b"read", name), lambda: read(f))
        step((b"stat", name), lambda: (kind(f), os.stat(f).st_size))
        step((b"mkdir", name), lambda: os.mkdir(d))
        step((b"file in dir", name), lambda: write(os.path.join(d, name), b"inner"))
        step((b"list dir", name), lambda: os.listdir(d))
        target = b"../files/" + name
        step((b"symlink", name), lambda: os.symlink(target, lnk))
        step((b"readlink", name), lambda: os.readlink(lnk))
        step((b"follow", name), lambda: read(lnk))
    for sub in (b"files", b"dirs", b"links"):
        step((b"listing", sub), lambda: sorted((n, kind(os.path.join(root, sub, n)))
                                               for n in os.listdir(os.path.join(root, sub))))
    if on_built is not None:
        on_built(root)
    for name in NAMES:
        f = os.path.join(root, b"files", name)
        renamed = os.path.join(root, b"files", (name + b"~")[-255:])
        step((b"rename", name), lambda: os.rename(f, renamed))
        step((b"rename back", name), lambda: os.rename(renamed, f))
        step((b"unlink", name), lambda: os.unlink(f))
        step((b"unlink link", name), lambda: os.unlink(os.path.join(root, b"links", name)))
        step((b"rmdir non-empty", name), lambda: os.rmdir(os.path.join(root, b"dirs", name)))
    for sub in (b"files", b"links"):
        step((b"listing after", sub), lambda: sorted(os.listdir(os.path.join(root, sub))))
    return steps


def write(path, data) -> None:
    with open(path, "xb") as f:
        f.write(data)


def read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def listed_types_agree(root: bytes) -> list:
    """Through dtypefs, the type a listing gives must be lstat's for every entry."""
    wrong = []
    for dirpath, dirnames, filenames in os.walk(root):
        with os.scandir(dirpath) as entries:
            for entry in entries:
                listed = "l" if entry.is_symlink() else "d" if entry.is_dir(follow_symlinks=False) else "f"
                if listed != kind(entry.path):
                    wrong.append((entry.path, listed, kind(entry.path)))
    return wrong


def short(value, limit=160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


def assert_same_steps(control, mounted):
    assert len(control) == len(mounted)
    differing = [(c[0], c[1], m[1]) for c, m in zip(control, mounted) if c != m]
    assert differing == [], "step | control outcome | dtypefs outcome:\n" + "\n".join(
        " | ".join(map(short, row)) for row in differing[:30])


def tree_bytes(root: bytes) -> list:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.append((os.path.relpath(os.path.join(dirpath, name), root), kind(os.path.join(dirpath, name))))
    return sorted(out)


def test_hostile_names_over_plain_directory(workdir):
    ref, src, mnt = (os.fsencode(workdir / n) for n in ("ref", "src", "mnt"))
    control = name_scenario(os.path.join(ref, b"t"))
    wrong_types = []
    with mounted_dtypefs(os.fsdecode(src), os.fsdecode(mnt)) as dtypefs:
        mounted = name_scenario(os.path.join(mnt, b"t"), on_built=lambda r: wrong_types.extend(listed_types_agree(r)))
        assert dtypefs.process.poll() is None
    assert wrong_types == []
    assert_same_steps(control, mounted)
    # The backing directory holds the very same bytes as the control.
    assert tree_bytes(os.path.join(src, b"t")) == tree_bytes(os.path.join(ref, b"t"))


def test_hostile_names_over_emulator(workdir):
    """Over the emulator (the backing fs here), the control is the raw emulator: dtypefs must give
    the same outcomes, except that its listings carry the true link type."""
    src, emu, mnt = (os.fsencode(workdir / n) for n in ("src", "emu", "mnt"))
    wrong_raw, wrong_through = [], []
    with mounted_emulator(os.fsdecode(src), os.fsdecode(emu)):
        control = name_scenario(os.path.join(emu, b"control"), on_built=lambda r: wrong_raw.extend(listed_types_agree(r)))
        with mounted_dtypefs(os.fsdecode(emu), os.fsdecode(mnt)) as dtypefs:
            mounted = name_scenario(os.path.join(mnt, b"t"), on_built=lambda r: wrong_through.extend(listed_types_agree(r)))
            assert dtypefs.process.poll() is None
    assert_same_steps(control, mounted)
    assert wrong_through == []
    # The raw emulator lists the links as regular files: the check above can fail.
    assert len(wrong_raw) >= len(NAMES)


# ---------------------------------------------------------------------------------------------

COMPONENT = b"d" * 254  # with its slash, 255 bytes


def long_path_scenario(root: bytes) -> list:
    """Paths of 4095 and 4096 bytes relative to a directory descriptor on `root`."""
    steps = []
    top = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        parts = []
        for _ in range(16):
            parts.append(COMPONENT)
            steps.append(("mkdir", outcome(lambda: os.mkdir(b"/".join(parts), dir_fd=top))))
        base = b"/".join(parts) + b"/"           # 16 * 255 = 4080 bytes
        longest = base + b"f" * 15                # 4095 bytes
        too_long = base + b"f" * 16               # 4096 bytes: no room for the NUL
        assert len(longest) == 4095 and len(too_long) == 4096

        def create(path, data):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=top)
            try:
                return os.write(fd, data)
            finally:
                os.close(fd)

        def read_at(path):
            fd = os.open(path, os.O_RDONLY, dir_fd=top)
            try:
                return os.read(fd, 100)
            finally:
                os.close(fd)

        steps.append(("create 4095", outcome(lambda: create(longest, b"deep"))))
        steps.append(("read 4095", outcome(lambda: read_at(longest))))
        steps.append(("stat 4095", outcome(lambda: os.stat(longest, dir_fd=top).st_size)))
        steps.append(("create 4096", outcome(lambda: create(too_long, b"x"))))
        steps.append(("stat 4096", outcome(lambda: os.stat(too_long, dir_fd=top))))
        deep = os.open(base, os.O_RDONLY | os.O_DIRECTORY, dir_fd=top)
        try:
            steps.append(("list deepest", outcome(lambda: os.listdir(deep))))
            steps.append(("dotdot from deepest", outcome(
                lambda: os.stat(b"/".join([b".."] * 16) + b"/" + b"d" * 254, dir_fd=deep).st_mode & 0o170000)))
        finally:
            os.close(deep)
        target_4095 = b"t/" * 2046 + b"xyz"
        target_4096 = target_4095 + b"z"
        assert len(target_4095) == 4095
        steps.append(("symlink 4095 target", outcome(lambda: os.symlink(target_4095, b"lt", dir_fd=top))))
        steps.append(("readlink 4095 target", outcome(lambda: os.readlink(b"lt", dir_fd=top))))
        steps.append(("symlink 4096 target", outcome(lambda: os.symlink(target_4096, b"lu", dir_fd=top))))
        steps.append(("symlink at 4095 path", outcome(lambda: os.symlink(b"x", base + b"l" * 15, dir_fd=top))))
        steps.append(("rename within 4095", outcome(lambda: os.rename(longest, base + b"g" * 15,
                                                                      src_dir_fd=top, dst_dir_fd=top))))
        steps.append(("unlink 4095", outcome(lambda: os.unlink(base + b"g" * 15, dir_fd=top))))
    finally:
        os.close(top)
    return steps


def test_longest_paths(workdir):
    ref, src, mnt = (os.fsencode(workdir / n) for n in ("ref", "src", "mnt"))
    control = long_path_scenario(ref)
    with mounted_dtypefs(os.fsdecode(src), os.fsdecode(mnt)) as dtypefs:
        mounted = long_path_scenario(mnt)
        assert dtypefs.process.poll() is None
    assert_same_steps(control, mounted)
    assert ("create 4095", ("ok", 4)) in control
