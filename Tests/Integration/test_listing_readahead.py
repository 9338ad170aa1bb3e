"""Listings read ahead of a walk (readahead_listings): a walk through the mount is served from
memory, yet every listing shows what a program changed through the mount before it, and what
changed behind the mount once attr_timeout has passed. Each test also checks, from the daemon's
statistics, that listings were really read ahead: otherwise it would prove nothing."""
from __future__ import annotations

import os
import re
import stat
import time

import pytest

import fsmount


def unmount_log(daemon: fsmount.Mounted) -> str:
    """Stops the daemon; its log, with the statistics of its unmount line."""
    assert daemon.stop() == 0
    return daemon.process.stderr.read().decode(errors="replace")


def counted(log: str, what: str) -> tuple[int, int]:
    """(listings, link targets or xattr answers read ahead, used) from an unmount line."""
    found = re.findall(what + r" read ahead: (\d+) \((\d+) used", log)
    assert found, f"no read-ahead statistics in the daemon's log:\n{log}"
    return int(found[-1][0]), int(found[-1][1])


def read_ahead_counts(daemon: fsmount.Mounted, what: str = "listings") -> tuple[int, int]:
    """(listings or link targets read ahead, used) from the daemon's unmount line; stops the daemon."""
    return counted(unmount_log(daemon), what)


def wait_for_read_ahead(daemon: fsmount.Mounted) -> None:
    """Read-ahead runs in the background: give it time to finish (a local listing takes µs)."""
    time.sleep(0.5)


def walk(top) -> list[tuple[str, list[str], list[str]]]:
    return [(os.path.relpath(root, top), sorted(dirs), sorted(files)) for root, dirs, files in os.walk(top)]


def make_linked_tree(src) -> None:
    """16 leaf directories two levels down, each with a file and links to a directory (up and
    across: a d_type-trusting walk's trap), to the file, and to nothing."""
    for top in range(4):
        for sub in range(4):
            leaf = src / f"d{top}" / f"s{sub}"
            leaf.mkdir(parents=True)
            (leaf / "file").write_text("x")
            os.symlink("..", leaf / "up")
            os.symlink(f"../../d{(top + 1) % 4}", leaf / "to-dir")
            os.symlink("file", leaf / "to-file")
            os.symlink("missing", leaf / "dangling")


def test_a_walk_is_served_from_listings_read_ahead_and_stays_exact(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    make_linked_tree(src)
    with fsmount.mounted_dtypefs(src, mnt) as daemon:
        assert walk(mnt) == walk(src)
        # find -type l and os.walk again: the same answers as the backing tree.
        assert walk(mnt) == walk(src)
        read_ahead, used = read_ahead_counts(daemon)
    assert used >= 8, f"only {used} of {read_ahead} listings read ahead were used"


CHANGES = {
    "create": lambda d: (d / "new").write_text("new"),
    "mkdir": lambda d: (d / "new").mkdir(),
    "symlink": lambda d: os.symlink("old", d / "new"),
    "link": lambda d: os.link(d / "old", d / "new"),
    "unlink": lambda d: (d / "old").unlink(),
    "rename": lambda d: (d / "old").rename(d / "new"),
    "rename-in": lambda d: (d.parent / "elsewhere").rename(d / "new"),
    "chmod": lambda d: (d / "old").chmod(0o600),
    "truncate": lambda d: os.truncate(d / "old", 0),
    "write": lambda d: (d / "old").write_text("longer contents"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_through_the_mount_shows_in_the_next_listing(workdir, change):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "elsewhere").write_text("moved in")
    (src / "a" / "b" / "old").write_text("old")
    with fsmount.mounted_dtypefs(src, mnt) as daemon:
        os.listdir(mnt)
        os.listdir(mnt / "a")  # a walk: a/b is read ahead now
        wait_for_read_ahead(daemon)
        CHANGES[change](mnt / "a" / "b")
        with os.scandir(mnt / "a" / "b") as entries:
            seen = {e.name: (e.is_dir(follow_symlinks=False), e.is_symlink(), e.stat(follow_symlinks=False)) for e in entries}
        expected = {e.name: (e.is_dir(follow_symlinks=False), e.is_symlink(), e.stat(follow_symlinks=False))
                    for e in os.scandir(src / "a" / "b")}
        assert seen.keys() == expected.keys()
        for name, (is_dir, is_link, status) in seen.items():
            want_dir, want_link, want = expected[name]
            assert (is_dir, is_link) == (want_dir, want_link), name
            assert (stat.S_IMODE(status.st_mode), status.st_size) == (stat.S_IMODE(want.st_mode), want.st_size), name
        read_ahead, used = read_ahead_counts(daemon)
    assert read_ahead >= 1, "a/b was not read ahead: the test proved nothing"
    assert used == 0, "a listing read before the change was served after it"


def test_a_change_behind_the_mount_shows_after_attr_timeout(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "old").write_text("old")
    with fsmount.mounted_dtypefs(src, mnt, options=("attr_timeout=0.5",)) as daemon:
        os.listdir(mnt)
        os.listdir(mnt / "a")
        wait_for_read_ahead(daemon)
        os.symlink("old", src / "a" / "b" / "behind")  # another client of the share
        time.sleep(0.6)
        names = sorted(os.listdir(mnt / "a" / "b"))
        read_ahead, used = read_ahead_counts(daemon)
    assert names == ["behind", "old"]
    assert (read_ahead, used) == (1, 0), "the old listing was served, or none was read ahead"


def followed_walk(top) -> list[tuple[str, str, bool, str | None]]:
    """os.walk, which stats every link to learn whether it leads to a directory, plus each link's target."""
    seen = []
    for root, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            target = os.readlink(path) if os.path.islink(path) else None
            seen.append((os.path.relpath(root, top), name, name in dirs, target))
    return sorted(seen)


def test_links_followed_by_a_walk_are_answered_from_their_listings(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    make_linked_tree(src)
    with fsmount.mounted_dtypefs(src, mnt) as daemon:
        assert followed_walk(mnt) == followed_walk(src)
        log = unmount_log(daemon)
    kept, used = counted(log, "link targets")
    assert used >= 8, f"only {used} of {kept} link targets read with listings were used"
    # Where they lead was looked up ahead too: 16 leaves with 3 links each that lead somewhere
    # beneath the root (the fourth dangles).
    resolved = int(re.findall(r"link target paths resolved ahead: (\d+)", log)[-1])
    assert 8 <= resolved <= 16 * 3, f"{resolved} link target paths resolved ahead"


def test_a_link_replaced_behind_the_mount_shows_after_attr_timeout(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "a" / "b").mkdir(parents=True)
    os.symlink("b", src / "a" / "first")
    os.symlink("old-target", src / "a" / "b" / "link")
    with fsmount.mounted_dtypefs(src, mnt, options=("attr_timeout=0.5", "entry_timeout=0.5")) as daemon:
        os.listdir(mnt)
        assert os.path.isdir(mnt / "a" / "first")  # a link followed: listings read targets now
        os.listdir(mnt / "a")  # a walk: a/b is read ahead, with its link's target
        time.sleep(0.1)  # read ahead by now, and still younger than attr_timeout
        os.listdir(mnt / "a" / "b")  # keeps b/link's target for a READLINK
        os.unlink(src / "a" / "b" / "link")  # another client of the share
        os.symlink("the-new-target", src / "a" / "b" / "link")
        time.sleep(0.6)
        target = os.readlink(mnt / "a" / "b" / "link")
        kept, used = read_ahead_counts(daemon, "link targets")
    assert target == "the-new-target"
    assert kept >= 1, "no link target was read with a listing: the test proved nothing"
    assert used == 0, "the replaced link's old target was served"


def test_readahead_listings_0_reads_nothing_ahead(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    for sub in ("a/b", "a/c", "d"):
        (src / sub).mkdir(parents=True)
    with fsmount.mounted_dtypefs(src, mnt, options=("readahead_listings=0",)) as daemon:
        assert walk(mnt) == walk(src)
        assert read_ahead_counts(daemon) == (0, 0)


def ls_lR(top) -> str:
    """`ls -lR` run inside `top`: the same text for the mount and its source."""
    import subprocess
    return subprocess.run(["ls", "-lR", "--time-style=full-iso"], cwd=top, check=True,
                          capture_output=True, text=True).stdout


def test_ls_l_is_answered_from_xattrs_read_with_listings_and_stays_exact(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    make_linked_tree(src)
    import subprocess
    # An ACL (ls shows "+") and a user attribute on some of the files: answers that are values.
    subprocess.run(["setfacl", "-m", "u:nobody:r", src / "d1" / "s2" / "file", src / "d3" / "s0" / "file"], check=True)
    os.setxattr(src / "d2" / "s1" / "file", "user.tag", b"v")
    with fsmount.mounted_dtypefs(src, mnt) as daemon:
        through = ls_lR(mnt)
        log = unmount_log(daemon)
    assert through == ls_lR(src)
    assert through.count("+ ") == 2
    read, used = counted(log, "xattr answers")
    assert used >= 16, f"only {used} of {read} xattr answers read with listings were used"


def ask_then_read_ahead(mnt) -> None:
    """A walker that asks xattrs: the first entry asked, then a/b read ahead with its answers."""
    os.listdir(mnt)
    try:
        os.getxattr(mnt / "first", "user.tag", follow_symlinks=False)
    except OSError:
        pass
    os.listdir(mnt / "a")  # a walk: a/b is read ahead now, with the answers for user.tag
    time.sleep(0.2)


def test_an_xattr_set_through_the_mount_is_read_after_its_listing(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "a" / "b").mkdir(parents=True)
    (src / "first").write_text("x")
    (src / "a" / "b" / "file").write_text("x")
    with fsmount.mounted_dtypefs(src, mnt) as daemon:
        ask_then_read_ahead(mnt)
        os.listdir(mnt / "a" / "b")  # keeps the answers for b/file
        os.setxattr(mnt / "a" / "b" / "file", "user.tag", b"set-through")
        value = os.getxattr(mnt / "a" / "b" / "file", "user.tag")
        read, used = read_ahead_counts(daemon, "xattr answers")
    assert value == b"set-through"
    assert read >= 1, "no xattr answer was read with a listing: the test proved nothing"
    assert used == 0, "an answer read before the change was served after it"


def test_an_xattr_set_behind_the_mount_shows_after_attr_timeout(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "a" / "b").mkdir(parents=True)
    (src / "first").write_text("x")
    (src / "a" / "b" / "file").write_text("x")
    with fsmount.mounted_dtypefs(src, mnt, options=("attr_timeout=0.5",)) as daemon:
        ask_then_read_ahead(mnt)
        os.listdir(mnt / "a" / "b")
        os.setxattr(src / "a" / "b" / "file", "user.tag", b"behind")  # another client of the share
        time.sleep(0.6)
        value = os.getxattr(mnt / "a" / "b" / "file", "user.tag")
        read, used = read_ahead_counts(daemon, "xattr answers")
    assert value == b"behind"
    assert read >= 1, "no xattr answer was read with a listing: the test proved nothing"
    assert used == 0
