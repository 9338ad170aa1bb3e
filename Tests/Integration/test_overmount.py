"""Mounting dtypefs over its own source (`dtypefs X X`): the backing root is opened before the
mount, so the overlay shows and changes the directory it hides, and unmounting reveals it again
with every change made through the overlay."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import trees
from fsmount import mount_entry, mounted_dtypefs, mounted_emulator


def snapshot(root: Path) -> dict:
    """Everything a user sees of a tree: type, and content or link target, per relative path."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = os.lstat(path)
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), path.read_bytes())
    return out


def build_plain(root: Path) -> None:
    (root / "dir").mkdir()
    (root / "dir" / "inner.txt").write_bytes(b"inner\n")
    (root / "keep.txt").write_bytes(b"keep\n")
    (root / "delete-me.txt").write_bytes(b"bye\n")
    (root / "rewrite.txt").write_bytes(b"old content\n")
    os.symlink("dir", root / "link_to_dir")
    os.symlink("keep.txt", root / "link_to_file")
    os.symlink("nowhere", root / "dangling")


def test_overmount_plain_directory(workdir):
    x = workdir / "src"
    build_plain(x)
    before = snapshot(x)
    original_entry = mount_entry(x)
    with mounted_dtypefs(x, x) as daemon:
        entry = mount_entry(x)
        assert entry is not None and entry["fstype"] == "fuse.dtypefs", \
            f"X is not covered by dtypefs: {entry}"
        # Same contents through the overlay.
        through = snapshot(x)
        trees.assert_same(sorted(before.items()), sorted(through.items()),
                          "overlay shows other contents")
        types = trees.true_dtypes(x)
        wrong = [(p, dt, types[p]) for p, dt, _ in trees.dtype_listing(x) if dt != types[p]]
        assert not wrong, f"wrong d_type through the overlay: {wrong}"
        # Writable: create, read, modify, delete, mkdir, symlink, rename.
        (x / "new.txt").write_bytes(b"made through the overlay\n")
        assert (x / "new.txt").read_bytes() == b"made through the overlay\n"
        with open(x / "rewrite.txt", "r+b") as f:
            f.write(b"NEW")
        (x / "delete-me.txt").unlink()
        assert not (x / "delete-me.txt").exists()
        (x / "newdir").mkdir()
        (x / "newdir" / "nested.txt").write_bytes(b"nested\n")
        os.symlink("newdir", x / "link_to_newdir")
        os.rename(x / "keep.txt", x / "kept.txt")
        (x / "scratch").write_bytes(b"temporary")
        (x / "scratch").unlink()
        expected_after = snapshot(x)
        assert daemon.process.poll() is None
    # After unmount: the original directory again, with the changes.
    assert mount_entry(x) == original_entry, f"something is still mounted at X: {mount_entry(x)}"
    after = snapshot(x)
    trees.assert_same(sorted(expected_after.items()), sorted(after.items()),
                      "after unmount X does not hold the overlay's changes")
    assert (x / "new.txt").read_bytes() == b"made through the overlay\n"
    assert (x / "rewrite.txt").read_bytes() == b"NEW content\n"
    assert not (x / "delete-me.txt").exists()
    assert (x / "newdir" / "nested.txt").read_bytes() == b"nested\n"
    assert os.readlink(x / "link_to_newdir") == "newdir"
    assert (x / "kept.txt").read_bytes() == b"keep\n" and not (x / "keep.txt").exists()
    assert not (x / "scratch").exists()
    # And the real symlinks are still real symlinks on the backing filesystem.
    assert os.path.islink(x / "link_to_dir") and os.path.islink(x / "link_to_newdir")


def test_overmount_emulator_fixes_types(workdir):
    """`dtypefs EMU EMU` over the CIFS emulator's mount: the same path now walks right; after
    unmounting dtypefs the emulator (and its bug) is back."""
    ref, src, emu = workdir / "ref", workdir / "src", workdir / "emu"
    trees.build_types_tree(ref)
    expected_walk = trees.walk_listing(ref)
    expected_links = trees.find_listing(ref, "-type", "l")
    expected_scan = trees.scandir_listing(ref)
    with mounted_emulator(src, emu):
        trees.build_types_tree(emu)
        assert trees.walk_listing(emu) != expected_walk, "precondition: emulator shows the bug"
        with mounted_dtypefs(emu, emu):
            assert mount_entry(emu)["fstype"] == "fuse.dtypefs"
            walk = trees.walk_listing(emu)
            trees.assert_same(expected_walk, walk, "os.walk through `dtypefs EMU EMU` differs")
            links = trees.find_listing(emu, "-type", "l")
            trees.assert_same(expected_links, links,
                              "find -type l through `dtypefs EMU EMU` differs")
            scan = trees.scandir_listing(emu)
            trees.assert_same(expected_scan, scan, "scandir through `dtypefs EMU EMU` differs")
            # Writes go through both layers: a link made on the overlay is an XSym file below.
            os.symlink("d1", emu / "made-through-overlay")
            assert os.path.isdir(emu / "made-through-overlay")
            assert (src / "made-through-overlay").stat().st_size == 1067
        assert mount_entry(emu)["fstype"] == "fuse.cifs-emulator", "emulator not uncovered"
        assert trees.walk_listing(emu) != expected_walk, "the uncovered emulator lost its bug"
        assert os.readlink(emu / "made-through-overlay") == "d1"
