"""The point of the product: through dtypefs, every tree walker sees the same types as on a local
filesystem, even when the source is a CIFS-like mount whose readdir reports symlinks as DT_REG.

The same tree is built twice: in a plain directory with real symlinks (the control) and through the
CIFS emulator (links become XSym files). dtypefs is mounted over the emulator's mount point, and
every walker's listing through it must equal the control's. The companion tests show that each
d_type-sensitive walker does see the bug on the raw emulator and through dtype=passthrough, so a
pass means something."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

import trees
from fsmount import mounted_dtypefs, mounted_emulator

# dtype modes that must fix the types; None is "no -o dtype at all" (the default, verify).
FIXING_MODES = [None, "verify", "unknown"]


def mode_options(mode):
    return () if mode is None else (f"dtype={mode}",)


def mode_id(mode):
    return "default" if mode is None else f"dtype={mode}"


# Each walker: name -> (function of the root, whether its result depends on d_type).
# A d_type-sensitive walker must differ from the control on the raw emulator (else the test
# could not catch the bug); the insensitive ones stat or open every entry and are here to show
# that dtypefs keeps them right too.
WALKERS = {
    "os.walk": (lambda r: trees.walk_listing(r), True),
    "os.walk(topdown=False)": (lambda r: trees.walk_listing(r, topdown=False), True),
    "os.walk(followlinks=True)":
        (lambda r: trees.walk_listing(r, followlinks=True, max_depth=5), True),
    "os.scandir": (trees.scandir_listing, True),
    "glob('**')": (lambda r: trees.glob_listing(r, "**"), False),
    "glob('**/')": (lambda r: trees.glob_listing(r, "**/"), True),
    "Path.rglob('*')": (lambda r: trees.rglob_listing(r, "*"), False),
    "Path.rglob('*/')": (lambda r: trees.rglob_listing(r, "*/"), True),
    "find -type l": (lambda r: trees.find_listing(r, "-type", "l"), True),
    "find -type d": (lambda r: trees.find_listing(r, "-type", "d"), False),
    "find -type f": (lambda r: trees.find_listing(r, "-type", "f"), True),
    "lstat": (trees.lstat_listing, False),
}
SENSITIVE = [name for name, (_, sensitive) in WALKERS.items() if sensitive]


@dataclass
class TypesTrees:
    ref: Path        # the control: real symlinks on a local filesystem
    src: Path        # the emulator's backing directory (links stored as XSym files)
    emu: Path        # the emulator's mount point: the "CIFS share"
    base: Path
    control: dict    # walker name -> listing of ref, computed once


@pytest.fixture(scope="module")
def types_trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("types")
    ref, src, emu = base / "ref", base / "src", base / "emu"
    for d in (ref, src, emu):
        d.mkdir()
    trees.build_types_tree(ref)
    with mounted_emulator(src, emu):
        trees.build_types_tree(emu)  # os.symlink on the emulator writes XSym files into src
        control = {name: walker(ref) for name, (walker, _) in WALKERS.items()}
        yield TypesTrees(ref=ref, src=src, emu=emu, base=base, control=control)


@pytest.fixture(scope="module", params=FIXING_MODES, ids=mode_id)
def fixed_view(request, types_trees):
    """dtypefs over the emulator mount, in a mode that must fix the types: its mount point."""
    mnt = types_trees.base / f"mnt-{mode_id(request.param)}"
    mnt.mkdir()
    with mounted_dtypefs(types_trees.emu, mnt, options=mode_options(request.param)):
        yield mnt


@pytest.fixture(scope="module", params=["raw emulator", "dtype=passthrough"])
def buggy_view(request, types_trees):
    """A view that must show the CIFS bug: the emulator itself, or dtypefs passing d_type on."""
    if request.param == "raw emulator":
        yield types_trees.emu
        return
    mnt = types_trees.base / "mnt-passthrough"
    mnt.mkdir()
    with mounted_dtypefs(types_trees.emu, mnt, options=("dtype=passthrough",)):
        yield mnt


# -------------------------------------------------------------------------------------------------
# Preconditions: the two trees really are the same tree, and the emulator really has the bug
# -------------------------------------------------------------------------------------------------

def test_emulator_stores_links_as_xsym_files(types_trees):
    backing = types_trees.src / "link_to_dir"
    assert backing.is_file() and not backing.is_symlink(), "emulator must store links as files"
    assert backing.stat().st_size == 1067
    assert backing.read_bytes().startswith(b"XSym\n0002\n")


def test_emulator_lstat_matches_control(types_trees):
    """lstat (no d_type involved) sees the same tree on the emulator as on the control."""
    expected = types_trees.control["lstat"]
    actual = trees.lstat_listing(types_trees.emu)
    trees.assert_same(expected, actual, "emulator's lstat view differs from the control")


def test_control_has_true_dtypes(types_trees):
    """The control filesystem's getdents agrees with lstat everywhere (sanity of the control)."""
    truth = trees.true_dtypes(types_trees.ref)
    listed = trees.dtype_listing(types_trees.ref)
    wrong = [(path, dt, truth[path]) for path, dt, _ in listed if dt != truth[path]]
    assert not wrong, f"control's d_type disagrees with lstat: {wrong[:20]}"


# -------------------------------------------------------------------------------------------------
# Through dtypefs: every walker equals the control
# -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("walker", list(WALKERS))
def test_walker_through_dtypefs_matches_control(fixed_view, types_trees, walker):
    expected = types_trees.control[walker]
    actual = WALKERS[walker][0](fixed_view)
    trees.assert_same(expected, actual, f"{walker} through dtypefs differs from the control")


def test_raw_dtypes_through_dtypefs(fixed_view, types_trees, request):
    """getdents64 itself: verify (and the default) hand out the true type of every entry; unknown
    may say DT_UNKNOWN but never a wrong type. No entry has inode number 0."""
    mode = request.node.callspec.params["fixed_view"]
    truth = trees.true_dtypes(types_trees.ref)
    listed = trees.dtype_listing(fixed_view)
    trees.assert_same(sorted(truth), sorted(p for p, _, _ in listed),
                      "getdents through dtypefs lists other names than the control")
    zero = [p for p, _, ino in listed if ino == 0]
    assert not zero, f"entries with d_ino 0 (Go's ReadDir drops them): {zero[:20]}"
    if mode == "unknown":
        wrong = [(p, dt, truth[p]) for p, dt, _ in listed if dt not in ("DT_UNKNOWN", truth[p])]
    else:
        wrong = [(p, dt, truth[p]) for p, dt, _ in listed if dt != truth[p]]
    assert not wrong, f"{len(wrong)} wrong d_type(s) (path, listed, lstat says): {wrong[:20]}"


# -------------------------------------------------------------------------------------------------
# The bug is visible without dtypefs (raw emulator) and with dtype=passthrough
# -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("walker", SENSITIVE)
def test_walker_shows_bug_without_fix(buggy_view, types_trees, walker):
    expected = types_trees.control[walker]
    actual = WALKERS[walker][0](buggy_view)
    assert actual != expected, \
        f"{walker} on {buggy_view.name} equals the control: this walker could not catch the bug"


def test_raw_dtypes_show_bug_without_fix(buggy_view, types_trees):
    listed = dict((p, dt) for p, dt, _ in trees.dtype_listing(buggy_view))
    for link in ("link_to_dir", "link_to_file", "dangling", "loop/a", "big/e0006"):
        assert listed[link] == "DT_REG", f"{link} listed as {listed[link]} on {buggy_view.name}"


# -------------------------------------------------------------------------------------------------
# READDIRPLUS and plain READDIR batches: a 1000-entry directory, cold then warm
# -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", FIXING_MODES, ids=mode_id)
def test_big_directory_cold_and_warm(types_trees, mode):
    """With READDIRPLUS_AUTO the kernel asks READDIRPLUS for the first batch of a cold directory and
    plain READDIR for later ones until lookups happen; after lstat of every entry it asks
    READDIRPLUS again. Every pass, whichever request served it, must give the control's types."""
    mnt = types_trees.base / f"mnt-big-{mode_id(mode)}"
    mnt.mkdir()
    big_ref = types_trees.ref / trees.BIG_DIR
    expected_scan = trees.scandir_listing(big_ref)
    expected_walk = trees.walk_listing(big_ref)
    truth = trees.true_dtypes(big_ref)
    with mounted_dtypefs(types_trees.emu, mnt, options=mode_options(mode)):
        big = mnt / trees.BIG_DIR
        passes = ["cold", "warm (no lookups since)", "after lstat of every entry",
                  "small getdents buffer"]
        for number, label in enumerate(passes):
            if label == "after lstat of every entry":
                for name in os.listdir(big):
                    os.lstat(big / name)
            bufsize = 1024 if label == "small getdents buffer" else 32768
            raw = trees.read_dtypes(big, bufsize)
            trees.assert_same(sorted(truth), sorted(n for n, _, _ in raw),
                              f"pass {number} ({label}): names differ")
            wrong = [(n, trees.DT_NAMES.get(dt, dt), truth[n]) for n, dt, _ in raw
                     if trees.DT_NAMES.get(dt) != truth[n]
                     and not (mode == "unknown" and dt == trees.DT_UNKNOWN)]
            assert not wrong, f"pass {number} ({label}): {len(wrong)} wrong d_type(s): {wrong[:20]}"
            scan = trees.scandir_listing(big)
            trees.assert_same(expected_scan, scan, f"pass {number} ({label}): scandir differs")
            walk = trees.walk_listing(big)
            trees.assert_same(expected_walk, walk, f"pass {number} ({label}): os.walk differs")


# -------------------------------------------------------------------------------------------------
# An entry whose lstat fails is listed (as DT_UNKNOWN), never dropped
# -------------------------------------------------------------------------------------------------

def _getdents_with_deletion(directory: Path, backing: Path, names: list[str]):
    """Read `directory` with raw getdents: one page-sized batch, then delete every name directly
    in `backing`, then read the rest. Returns every listed (name, d_type, d_ino) but '.' and '..'.
    One page per call keeps the FUSE reads sequential: a smaller buffer makes the kernel drop
    part of each reply and resume at an offset the emulator must seek to, which rereads the
    backing directory and so forgets the deleted names."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        listed = list(trees.getdents(fd, 4096) or [])
        for name in names:
            os.unlink(backing / name)
        while (batch := trees.getdents(fd, 4096)) is not None:
            listed += batch
    finally:
        os.close(fd)
    return [e for e in listed if e[0] not in (".", "..")]


@pytest.mark.parametrize("mode", [*FIXING_MODES, "passthrough"], ids=mode_id)
def test_entry_whose_lstat_fails_is_listed_not_dropped(workdir, mode):
    """The emulator reads its backing directory ahead (one 32 KiB getdents holds all 1000 names), so
    names deleted from the backing store after the listing began are still handed to dtypefs, whose
    lstat of them then fails with ENOENT. dtypefs must still list every name, exactly once, with
    DT_UNKNOWN (or the type it learnt before the deletion), and keep serving."""
    src, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    # No caching on the emulator's mount: dtypefs's lstat of a deleted name must reach the
    # emulator and fail, not be answered from the kernel's cache of the emulator mount.
    uncached = ("entry_timeout=0", "attr_timeout=0", "negative_timeout=0")
    with mounted_emulator(src, emu, options=uncached) as emulator:
        # Calibration: the emulator itself does list names deleted mid-listing (else this test
        # would prove nothing about dtypefs).
        calib = trees.build_flat_files(src / "calibration", 1000, "c")
        raw = _getdents_with_deletion(emu / "calibration", src / "calibration", calib)
        assert sorted(n for n, _, _ in raw) == calib, \
            "precondition: the emulator no longer lists entries deleted mid-listing"

        names = trees.build_flat_files(src / "vanish", 1000, "v")
        with mounted_dtypefs(emu, mnt, options=mode_options(mode)) as daemon:
            listed = _getdents_with_deletion(mnt / "vanish", src / "vanish", names)
            listed_names = sorted(n for n, _, _ in listed)
            if listed_names != names:
                duplicated = sorted({n for n in listed_names if listed_names.count(n) > 1})
                trees.assert_same(names, sorted(set(listed_names)),
                                  "entries whose lstat failed were dropped")
                pytest.fail(f"entries listed more than once: {duplicated[:20]}")
            bad = [(n, trees.DT_NAMES.get(dt, dt)) for n, dt, _ in listed
                   if dt not in (trees.DT_UNKNOWN, trees.DT_REG)]
            assert not bad, f"vanished regular files listed with impossible types: {bad[:20]}"
            if mode in (None, "verify"):
                # dtypefs lstats the entries of each request as it serves it, so the names served
                # after the deletion failed their lstat: they must be there, as DT_UNKNOWN.
                unknown = sum(1 for _, dt, _ in listed if dt == trees.DT_UNKNOWN)
                assert unknown > 0, (
                    "no entry came back DT_UNKNOWN: the lstat-failure path was not exercised "
                    "(did dtypefs lstat the whole batch before the deletion?), so this test "
                    "proves nothing about it")
            assert not [n for n, _, ino in listed if ino == 0], "entries listed with d_ino 0"
            assert daemon.process.poll() is None, "dtypefs died"
            assert os.listdir(mnt / "vanish") == [], "a fresh listing must show the deletions"
            assert emulator.process.poll() is None


@pytest.mark.parametrize("mode", FIXING_MODES, ids=mode_id)
def test_concurrent_deletion_in_backing_store(workdir, mode):
    """A race rather than a guarantee: entries deleted directly in the backing directory while a
    walker iterates the mount. Nothing may crash, hang or invent names, and the mount keeps
    working; every listed name is one that existed."""
    src, mnt = workdir / "src", workdir / "mnt"
    with mounted_dtypefs(src, mnt, options=mode_options(mode)) as daemon:
        for round_number in range(5):
            directory = src / f"race{round_number}"
            names = set(trees.build_flat_files(directory, 1000, "r"))
            os.symlink("r00000", directory / "link")
            names.add("link")
            go = threading.Event()

            def delete():
                go.wait()
                for name in sorted(names, reverse=round_number % 2 == 1):
                    try:
                        os.unlink(directory / name)
                    except FileNotFoundError:
                        pass

            deleter = threading.Thread(target=delete)
            deleter.start()
            seen = []
            try:
                with os.scandir(mnt / directory.name) as it:
                    for entry in it:
                        go.set()
                        seen.append(entry.name)
                        entry.is_dir()
                        entry.is_file()
                        entry.is_symlink()
            finally:
                go.set()
                deleter.join()
            assert set(seen) <= names, f"invented names: {sorted(set(seen) - names)[:20]}"
            assert daemon.process.poll() is None, "dtypefs died"
            assert os.listdir(mnt / directory.name) == []
        assert sorted(os.listdir(mnt)) == sorted(os.listdir(src))
