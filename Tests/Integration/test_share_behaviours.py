"""What a real CIFS share does besides listing XSym links as DT_REG (design.md section 6), each
reproduced by an option of the CIFS emulator, shown on the raw emulator first (so the test can
fail), then required of dtypefs over it:

- noserverino: inode numbers made up per kernel inode, new after every forget;
- nocase: names match without regard to case;
- noxattr: extended attributes fail with EOPNOTSUPP;
- nolink: hard links fail with EPERM;
- fifo_dirs: directories listed as DT_FIFO (SMB 3.1.1 POSIX extensions before Linux 6.16);
- outage=PATH: the server away (EHOSTDOWN) while PATH exists, as while CIFS reconnects.

Each test mounts its own emulator and dtypefs on its own temp directories; the mount helpers undo
them whatever happens.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from fsmount import dtypefs_binary, errno_of, mounted_dtypefs, mounted_emulator
from scenarios import drop_caches

ALL_SHARE_OPTIONS = ["noserverino", "nocase", "noxattr", "nolink"]


@contextlib.contextmanager
def share(workdir: Path, emulator_options=(), dtypefs_options=()):
    """The emulator over workdir/src at workdir/emu, dtypefs over it at workdir/mnt."""
    with mounted_emulator(workdir / "src", workdir / "emu", options=list(emulator_options)), \
            mounted_dtypefs(workdir / "emu", workdir / "mnt", options=list(dtypefs_options)) as dtypefs:
        yield dtypefs



def make_tree(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f").write_text("hi\n")
    (root / "a" / "b" / "g").write_text("gee\n")


def walk(top: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        rel = os.path.relpath(dirpath, top)
        found += [os.path.normpath(os.path.join(rel, n)) + ("/" if n in dirnames else "") for n in dirnames + filenames]
    return sorted(found)


# (1) noserverino: the failure of issue 12, and what must hold instead.

def test_raw_emulator_noserverino_changes_numbers_after_a_forget(workdir):
    make_tree(workdir / "src")
    with mounted_emulator(workdir / "src", workdir / "emu", options=["noserverino"]):
        before = os.stat(workdir / "emu" / "a" / "b").st_ino
        drop_caches()
        after = os.stat(workdir / "emu" / "a" / "b").st_ino
    assert before != after, "precondition: with noserverino a forgotten inode comes back with a new number"


@pytest.mark.parametrize("inodes", ["auto", "unstable"])
def test_a_cwd_and_an_open_directory_survive_a_forget_over_noserverino(workdir, inodes):
    make_tree(workdir / "src")
    with share(workdir, ["noserverino"], [f"inodes={inodes}"]):
        inside = workdir / "mnt" / "a" / "b"
        fd = os.open(inside, os.O_RDONLY | os.O_DIRECTORY)
        old_cwd = os.getcwd()
        os.chdir(inside)
        try:
            drop_caches()
            assert sorted(os.listdir(".")) == ["f", "g"]
            assert sorted(os.listdir(fd)) == ["f", "g"]
            assert Path("f").read_text() == "hi\n"
            assert os.stat(inside / "f").st_size == 3
            Path("new").write_text("made in cwd\n")
            assert (workdir / "src" / "a" / "b" / "new").read_text() == "made in cwd\n"
            time.sleep(2.2)  # past the attribute and entry timeouts
            drop_caches()
            assert stat.S_ISDIR(os.stat(".").st_mode)
            assert sorted(os.listdir(".")) == ["f", "g", "new"]
            os.rename("new", "renamed")
            assert sorted(os.listdir(fd)) == ["f", "g", "renamed"]
        finally:
            os.chdir(old_cwd)
            os.close(fd)
        assert walk(workdir / "mnt") == walk(workdir / "src")


def test_stable_numbers_asked_for_over_noserverino_show_the_old_failure(workdir):
    # The control: with inodes=stable dtypefs trusts the numbers and loses the cwd, as before.
    make_tree(workdir / "src")
    with share(workdir, ["noserverino"], ["inodes=stable"]):
        old_cwd = os.getcwd()
        os.chdir(workdir / "mnt" / "a" / "b")
        try:
            drop_caches()
            assert errno_of(lambda: Path("f").read_text()) == errno.ENOENT
        finally:
            os.chdir(old_cwd)


def test_over_noserverino_a_name_that_now_reaches_another_type_is_not_the_old_node(workdir):
    make_tree(workdir / "src")
    with share(workdir, ["noserverino"]):
        inside = workdir / "mnt" / "a" / "b"
        fd = os.open(inside, os.O_RDONLY | os.O_DIRECTORY)
        try:
            # Another client replaces the directory by a file of the same name.
            shutil.rmtree(workdir / "src" / "a" / "b")
            (workdir / "src" / "a" / "b").write_text("a file now\n")
            drop_caches()
            time.sleep(1.2)
            # The open directory is gone (no name reaches a directory), never answered as the file.
            assert errno_of(lambda: os.listdir(fd)) in (errno.ENOENT, errno.ESTALE)
            assert (workdir / "mnt" / "a" / "b").read_text() == "a file now\n"
        finally:
            os.close(fd)


# (2) names that fold case.

def test_case_insensitive_names(workdir):
    (workdir / "src" / "Dir").mkdir()
    (workdir / "src" / "Dir" / "File.txt").write_text("content\n")
    with mounted_emulator(workdir / "src", workdir / "emu", options=["nocase"]):
        assert (workdir / "emu" / "DIR" / "FILE.TXT").read_text() == "content\n", "precondition: nocase"
    with share(workdir, ["nocase", "noserverino"]):
        mnt = workdir / "mnt"
        for spelling in ("Dir/File.txt", "DIR/FILE.TXT", "dir/file.txt"):
            assert (mnt / spelling).read_text() == "content\n", spelling
            assert stat.S_ISREG(os.stat(mnt / spelling).st_mode)
        assert walk(mnt) == ["Dir/", "Dir/File.txt"], "each entry once, as the server spells it"
        os.rename(mnt / "Dir", mnt / "dir")  # a rename that only changes case
        assert os.listdir(mnt) == ["dir"]
        assert (mnt / "DIR" / "file.TXT").read_text() == "content\n"
        (mnt / "DIR" / "NEW").write_text("x")
        assert sorted(os.listdir(workdir / "src" / "dir")) == ["File.txt", "NEW"]


# (3) no extended attributes: passed through, so ls asks once per mount, not once per entry.

def getxattr_calls_of_ls(tree: Path) -> int:
    result = subprocess.run(["strace", "-f", "-c", "-e", "trace=getxattr,lgetxattr,fgetxattr", "ls", "-lR", str(tree)],
                            capture_output=True, text=True, check=True)
    calls = 0
    for line in result.stderr.splitlines():
        fields = line.split()
        if fields and fields[-1] in ("getxattr", "lgetxattr", "fgetxattr"):
            calls += int(fields[3]) if len(fields) >= 5 else 0
    return calls


def test_missing_xattrs_pass_through_and_ls_asks_once(workdir):
    for i in range(50):
        (workdir / "src" / f"file{i}").write_text("x")
    with share(workdir, ["noxattr"]):
        assert errno_of(lambda: os.getxattr(workdir / "emu" / "file0", "security.selinux")) == errno.EOPNOTSUPP
        assert errno_of(lambda: os.getxattr(workdir / "mnt" / "file0", "security.selinux")) == errno.EOPNOTSUPP
        assert errno_of(lambda: os.setxattr(workdir / "mnt" / "file0", "user.x", b"1")) == errno.EOPNOTSUPP
        raw, through = getxattr_calls_of_ls(workdir / "emu"), getxattr_calls_of_ls(workdir / "mnt")
    assert through == raw, (raw, through)
    assert through <= 4, f"ls -lR of 50 files asked for xattrs {through} times: EOPNOTSUPP must reach it"


# (4) no hard links.

def test_no_hard_links_passes_the_errno_and_creates_nothing(workdir):
    (workdir / "src" / "f").write_text("x")
    with share(workdir, ["nolink"]):
        assert errno_of(lambda: os.link(workdir / "emu" / "f", workdir / "emu" / "g")) == errno.EPERM
        assert errno_of(lambda: os.link(workdir / "mnt" / "f", workdir / "mnt" / "g")) == errno.EPERM
        assert os.listdir(workdir / "mnt") == ["f"]
        assert os.listdir(workdir / "src") == ["f"]


# (5) a file removed while open.

@pytest.mark.parametrize("emulator_options", [[], ["noserverino"]], ids=["serverino", "noserverino"])
def test_a_file_removed_while_open_keeps_working(workdir, emulator_options):
    (workdir / "src" / "f").write_text("before\n")
    with share(workdir, emulator_options):
        with open(workdir / "mnt" / "f", "r+") as f:
            os.unlink(workdir / "mnt" / "f")
            assert not (workdir / "mnt" / "f").exists()
            f.seek(0)
            assert f.read() == "before\n"
            f.write("after\n")
            f.flush()
            f.seek(0)
            assert f.read() == "before\nafter\n"
            assert os.fstat(f.fileno()).st_size == len("before\nafter\n")


# (6) other lies of the same class: directories listed as DT_FIFO.

def test_directories_listed_as_fifo_are_corrected(workdir):
    (workdir / "src" / "sub").mkdir()
    (workdir / "src" / "file").write_text("x")
    with share(workdir, ["fifo_dirs"]):
        with os.scandir(workdir / "emu") as entries:
            raw = {e.name: e.is_dir(follow_symlinks=False) for e in entries}
        assert raw == {"sub": False, "file": False}, "precondition: the raw emulator hides the directory"
        with os.scandir(workdir / "mnt") as entries:
            through = {e.name: (e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False)) for e in entries}
        assert through == {"sub": (True, False), "file": (False, True)}
        assert walk(workdir / "mnt") == ["file", "sub/"]


# (7) the server comes and goes.

def test_an_outage_fails_with_the_backings_errno_and_nothing_stays_broken(workdir):
    make_tree(workdir / "src")
    down = workdir / "server-down"
    with share(workdir, [f"outage={down}"], ["negative_timeout=1"]) as dtypefs:
        mnt = workdir / "mnt"
        inside = mnt / "a" / "b"
        held = open(inside / "f")
        old_cwd = os.getcwd()
        os.chdir(inside)
        try:
            down.touch()
            time.sleep(1.2)  # past every cache
            failures = {errno_of(lambda: os.stat(mnt / "a" / "b" / "g")), errno_of(lambda: os.listdir("."))}
            assert failures <= {errno.EHOSTDOWN, errno.EIO}, failures
            assert errno_of(lambda: os.stat(mnt / "a" / "b" / "never-seen")) in (errno.EHOSTDOWN, errno.EIO)
            time.sleep(3)  # a longer outage, with requests failing all along
            assert errno_of(lambda: os.listdir(mnt)) in (errno.EHOSTDOWN, errno.EIO)
            down.unlink()
            # Back: every path, the cwd and the open file work again, with no remount; nothing
            # seen during the outage is cached as missing.
            assert sorted(os.listdir(".")) == ["f", "g"]
            assert os.stat(mnt / "a" / "b" / "g").st_size == 4
            held.seek(0)
            assert held.read() == "hi\n"
            (workdir / "src" / "a" / "b" / "never-seen").write_text("now\n")
            assert (mnt / "a" / "b" / "never-seen").read_text() == "now\n"
            assert walk(mnt) == walk(workdir / "src")
        finally:
            os.chdir(old_cwd)
            held.close()
            down.unlink(missing_ok=True)
        assert dtypefs.process.poll() is None


def test_an_outage_that_starts_mid_listing(workdir):
    (workdir / "src" / "big").mkdir()
    for i in range(3000):
        (workdir / "src" / "big" / f"entry-{i:05d}").write_text("")
    down = workdir / "server-down"
    with share(workdir, [f"outage={down}"]):
        big = workdir / "mnt" / "big"
        seen = []
        failure = None
        with os.scandir(big) as entries:
            try:
                for entry in entries:
                    seen.append(entry.name)
                    if len(seen) == 100:
                        down.touch()
            except OSError as error:
                failure = error.errno
        down.unlink()
        # Either the listing had been read whole already, or it failed with the backing's errno.
        assert failure in (None, errno.EHOSTDOWN, errno.EIO)
        assert len(set(seen)) == len(seen), "an entry listed twice"
        time.sleep(1.2)
        assert sorted(os.listdir(big)) == sorted(os.listdir(workdir / "src" / "big"))


# (8) everything at once: the walkers still see the truth.

def test_all_share_behaviours_at_once(workdir):
    make_tree(workdir / "src")
    with share(workdir, ALL_SHARE_OPTIONS + ["fifo_dirs"]):
        mnt = workdir / "mnt"
        os.symlink("a/b", mnt / "link-to-b")
        drop_caches()
        with os.scandir(mnt) as entries:
            kinds = {e.name: ("link" if e.is_symlink() else "dir" if e.is_dir(follow_symlinks=False) else "file")
                     for e in entries}
        assert kinds == {"a": "dir", "link-to-b": "link"}
        assert walk(mnt) == ["a/", "a/b/", "a/b/f", "a/b/g", "link-to-b/", "link-to-b/f", "link-to-b/g"]
        found = subprocess.run(["find", str(mnt), "-type", "l"], capture_output=True, text=True, check=True).stdout
        assert found.split() == [str(mnt / "link-to-b")]
        assert (mnt / "A" / "B" / "F").read_text() == "hi\n"


@pytest.mark.parametrize("options", [[o] for o in ALL_SHARE_OPTIONS + ["fifo_dirs"]] + [ALL_SHARE_OPTIONS + ["fifo_dirs"]],
                         ids=lambda o: ",".join(o))
def test_check_finds_the_lies_raw_and_none_through_dtypefs(workdir, options):
    make_tree(workdir / "src")
    with share(workdir, options):
        os.symlink("a/b", workdir / "mnt" / "link-to-b")
        raw = subprocess.run([dtypefs_binary(), "check", "-r", str(workdir / "emu")], capture_output=True, text=True)
        through = subprocess.run([dtypefs_binary(), "check", "-r", str(workdir / "mnt")], capture_output=True, text=True)
    assert raw.returncode == 1 and "link-to-b" in raw.stdout, raw.stdout + raw.stderr
    assert through.returncode == 0 and "no entry lies" in through.stdout, through.stdout + through.stderr
