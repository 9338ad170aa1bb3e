"""The CIFS emulator fixture must reproduce Linux CIFS `mfsymlinks` faithfully, or the dtypefs tests
built on it prove nothing: links stored as 1067-byte XSym files, lstat saying symlink while
getdents says DT_REG, and an otherwise ordinary passthrough. It must also cost what CIFS costs:
readdir primes the kernel's caches for ordinary entries but not for 1067-byte files, which an
lstat must ask the server about, and names and attributes stay cached for about a second."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

import fsmount
import trees

XSYM_SIZE = 1067




def expected_xsym(target: bytes) -> bytes:
    """The XSym file Linux's format_mf_symlink writes, computed independently of the emulator."""
    body = b"XSym\n%04d\n%s\n" % (len(target), hashlib.md5(target).hexdigest().encode()) + target
    if len(body) < XSYM_SIZE:
        body += b"\n"
    return body + b" " * (XSYM_SIZE - len(body))


def make_tree(root: Path, link) -> None:
    """source/ holding a file, and results/linked -> ../source made with `link`."""
    (root / "source").mkdir()
    (root / "source" / "data.txt").write_text("payload\n")
    (root / "results").mkdir()
    (root / "results" / "plain.txt").write_text("plain\n")
    link("../source", root / "results" / "linked")


# (1) the on-disk format

# Lengths around MD5's 55/56/64-byte padding boundaries, plus the 1024 maximum where no newline fits.
@pytest.mark.parametrize("length", [1, 9, 55, 56, 63, 64, 119, 120, 1023, 1024])
def test_symlink_is_stored_as_exact_xsym_file(workdir, length):
    src, mnt = workdir / "src", workdir / "mnt"
    target = ("../" + "t" * 1024)[:length] if length > 9 else "../source"[:length]
    with fsmount.mounted_emulator(src, mnt):
        os.symlink(target, mnt / "linked")
    raw = os.lstat(src / "linked")
    assert stat.S_ISREG(raw.st_mode)
    assert stat.S_IMODE(raw.st_mode) == 0o644
    assert raw.st_size == XSYM_SIZE
    assert (src / "linked").read_bytes() == expected_xsym(target.encode())


def test_results_linked_layout(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "results").mkdir()
    with fsmount.mounted_emulator(src, mnt):
        os.symlink("../source", mnt / "results" / "linked")
    data = (src / "results" / "linked").read_bytes()
    assert len(data) == XSYM_SIZE
    assert data[:10] == b"XSym\n0009\n"
    assert data[10:43] == hashlib.md5(b"../source").hexdigest().encode() + b"\n"
    assert data[43:53] == b"../source\n"
    assert data[53:] == b" " * (XSYM_SIZE - 53)


# (2) what lstat, readlink and stat say through the mount

def test_lstat_readlink_and_stat_through_mount(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    with fsmount.mounted_emulator(src, mnt):
        make_tree(mnt, os.symlink)
        link = mnt / "results" / "linked"
        st = os.lstat(link)
        assert stat.S_ISLNK(st.st_mode)
        assert st.st_size == len("../source")
        assert os.readlink(link) == "../source"
        followed = os.stat(link)
        assert stat.S_ISDIR(followed.st_mode)
        assert followed.st_ino == os.stat(mnt / "source").st_ino
        assert (link / "data.txt").read_text() == "payload\n"
        # Inode numbers are the backing ones, in lstat and in the listing alike.
        assert st.st_ino == os.lstat(src / "results" / "linked").st_ino
        by_name = {e.name: e.inode() for e in os.scandir(mnt / "results")}
        assert by_name["linked"] == st.st_ino


# (3) the bug itself

def test_readdir_reports_xsym_link_as_regular_file(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    with fsmount.mounted_emulator(src, mnt):
        make_tree(mnt, os.symlink)
        entries = {e.name: e for e in os.scandir(mnt / "results")}
        linked = entries["linked"]
        # The d_type is DT_REG, so scandir answers without stat: wrong, exactly as on CIFS.
        assert linked.is_symlink() is False
        assert linked.is_file() is True
        assert linked.is_dir() is False
        # ...while lstat on the same name knows better.
        assert stat.S_ISLNK(os.lstat(linked.path).st_mode)
        # Once the kernel knows the name is a link, the listing still says DT_REG, as on CIFS
        # (cifs_filldir takes the type from the directory reply, never from its caches).
        again = {e.name: e for e in os.scandir(mnt / "results")}["linked"]
        assert again.is_symlink() is False
        assert dict((n, t) for n, t, _ in trees.read_dtypes(mnt / "results"))["linked"] == trees.DT_REG


def test_find_type_l_misses_xsym_links(workdir):
    src, mnt, ref = workdir / "src", workdir / "mnt", workdir / "ref"
    make_tree(ref, os.symlink)

    def find(root, kind):
        out = subprocess.run(["find", ".", "-type", kind], cwd=root, check=True,
                             capture_output=True, text=True).stdout
        return sorted(out.split())

    with fsmount.mounted_emulator(src, mnt):
        make_tree(mnt, os.symlink)
        emulated = find(mnt, "l"), find(mnt, "f")
    assert find(ref, "l") == ["./results/linked"]
    assert emulated == ([], ["./results/linked", "./results/plain.txt", "./source/data.txt"])


def walk_results(root: Path) -> tuple[list[str], list[str]]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        if Path(dirpath) == root / "results":
            return sorted(dirnames), sorted(filenames)
    raise AssertionError(f"os.walk never reached {root / 'results'}")


def test_os_walk_misfiles_symlinked_directory(workdir):
    src, mnt, ref = workdir / "src", workdir / "mnt", workdir / "ref"
    make_tree(ref, os.symlink)
    with fsmount.mounted_emulator(src, mnt):
        make_tree(mnt, os.symlink)
        emulated = walk_results(mnt)
    control = walk_results(ref)
    assert control == (["linked"], ["plain.txt"])
    assert emulated == ([], ["linked", "plain.txt"])


def test_real_symlinks_in_backing_pass_through(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    make_tree(src, os.symlink)  # real symlinks, made beside the emulator, not through it
    with fsmount.mounted_emulator(src, mnt):
        entry = {e.name: e for e in os.scandir(mnt / "results")}["linked"]
        assert entry.is_symlink() is True
        assert os.readlink(mnt / "results" / "linked") == "../source"
        assert walk_results(mnt) == (["linked"], ["plain.txt"])


# (4) the length limit

def test_target_over_1024_bytes_is_enametoolong(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    with fsmount.mounted_emulator(src, mnt):
        with pytest.raises(OSError) as failure:
            os.symlink("x" * 1025, mnt / "toolong")
        assert failure.value.errno == errno.ENAMETOOLONG
        assert not os.path.lexists(mnt / "toolong")
    assert not os.path.lexists(src / "toolong")


# (5) what is not a link stays a regular file

def corrupt_variants() -> dict[str, bytes]:
    good = expected_xsym(b"../source")
    bad_md5 = bytearray(good)
    bad_md5[10:12] = b"00" if good[10:12] != b"00" else b"11"
    too_long = b"XSym\n1025\n" + good[10:]
    return {
        "bad-magic": b"XSyn" + good[4:],
        "bad-md5": bytes(bad_md5),
        "length-over-1024": too_long,
        "uppercase-md5": good[:10] + good[10:42].upper() + good[42:],
        "one-byte-short": good[:-1],
        "one-byte-long": good + b" ",
    }


@pytest.mark.parametrize("name", sorted(corrupt_variants()))
def test_corrupt_xsym_stays_regular_file(workdir, name):
    src, mnt = workdir / "src", workdir / "mnt"
    content = corrupt_variants()[name]
    (src / name).write_bytes(content)
    with fsmount.mounted_emulator(src, mnt):
        st = os.lstat(mnt / name)
        assert stat.S_ISREG(st.st_mode)
        assert st.st_size == len(content)
        assert (mnt / name).read_bytes() == content
        with pytest.raises(OSError) as failure:
            os.readlink(mnt / name)
        assert failure.value.errno == errno.EINVAL


def test_xsym_written_by_another_client_is_a_link(workdir):
    """A share holds XSym files written by other clients; the emulator must see those as links too."""
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "other").write_bytes(expected_xsym(b"/elsewhere/target"))
    with fsmount.mounted_emulator(src, mnt):
        assert stat.S_ISLNK(os.lstat(mnt / "other").st_mode)
        assert os.readlink(mnt / "other") == "/elsewhere/target"


# (6) latency

def test_latency_option_delays_requests_and_keeps_concurrency(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    delay = 0.4
    for i in range(4):
        (src / f"d{i}").mkdir()
        (src / f"probe{i}").mkdir()
    with fsmount.mounted_emulator(src, mnt, latency_us=int(delay * 1e6)) as mounted:
        assert "latency_us" not in fsmount.mount_entry(mnt)["super_options"]
        os.symlink("d0", mnt / "link")
        assert os.readlink(mnt / "link") == "d0"
        (mnt / "d1" / "f").write_text("x")
        assert sorted(os.listdir(mnt)) == ["d0", "d1", "d2", "d3", "link",
                                           "probe0", "probe1", "probe2", "probe3"]

        # One fresh lookup cannot be faster than one round trip: proves the option is applied.
        started = time.monotonic()
        assert not os.path.lexists(mnt / "absent")
        assert time.monotonic() - started >= delay

        # Four lookups in four directories (the kernel serialises lookups within one directory,
        # so the directories are opened first): one after another they would take four round
        # trips, so finishing well below that shows the daemon served them concurrently.
        dir_fds = [os.open(mnt / f"probe{i}", os.O_RDONLY | os.O_DIRECTORY) for i in range(4)]
        try:
            outcomes = []

            def probe(fd):
                try:
                    os.stat("missing", dir_fd=fd, follow_symlinks=False)
                    outcomes.append("found")
                except OSError as error:
                    outcomes.append(errno.errorcode.get(error.errno, str(error.errno)))

            threads = [threading.Thread(target=probe, args=(fd,)) for fd in dir_fds]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
        finally:
            for fd in dir_fds:
                os.close(fd)
        assert outcomes == ["ENOENT"] * 4
        # Serialised they take at least 4 delays; the bound leaves 2.5 delays for a loaded machine.
        assert elapsed < 3.5 * delay, f"4 concurrent lookups took {elapsed:.2f}s: requests serialised"
        assert mounted.process.poll() is None


def test_xsym_check_costs_three_round_trips(workdir):
    """CIFS opens, reads and closes a 1067-byte file to learn whether it is a link: the lstat of
    one costs three round trips (its readlink then none: CIFS keeps the target). Only lower bounds
    are checked (a loaded machine can only make requests slower)."""
    src, mnt = workdir / "src", workdir / "mnt"
    delay = 0.2
    (src / "dir").mkdir()
    (src / "linked").write_bytes(expected_xsym(b"dir"))
    (src / "not-a-link").write_bytes(b"x" * XSYM_SIZE)
    with fsmount.mounted_emulator(src, mnt, latency_us=int(delay * 1e6)):
        for name in ("linked", "not-a-link"):
            started = time.monotonic()
            os.lstat(mnt / name)  # uncached: one LOOKUP, whose getattr checks the file
            assert time.monotonic() - started >= 3 * delay, f"lstat of {name} took one round trip"
        assert os.readlink(mnt / "linked") == "dir"


# (7) the kernel's caches: primed by readdir for ordinary entries, never for XSym candidates

class DebugLog:
    """The `-d` output of a running emulator: what the kernel asked, request by request."""

    def __init__(self, path: Path):
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size

    def since(self, mark: int = 0) -> str:
        with open(self.path, "rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")

    @staticmethod
    def names_asked(text: str) -> set[str]:
        """Names the kernel sent a LOOKUP or GETATTR for (libfuse logs the path of each)."""
        return {m.group(2).rsplit("/", 1)[-1]
                for m in re.finditer(r"^(LOOKUP|getattr\[[^\]]*\]) (\S+)$", text, re.MULTILINE)}

    @staticmethod
    def names_looked_up(text: str) -> set[str]:
        return {m.group(1).rsplit("/", 1)[-1] for m in re.finditer(r"^LOOKUP (\S+)$", text, re.MULTILINE)}


@contextlib.contextmanager
def debug_emulator(emulator: str, src: Path, mnt: Path, *options: str):
    log_path = mnt.parent / f"{mnt.name}-debug.log"
    args = [emulator, str(src), str(mnt), "-f", "-d"]
    if options:
        args += ["-o", ",".join(options)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            fsmount.wait_for_mount(mnt, "fuse.cifs-emulator", process)
            yield DebugLog(log_path)
        finally:
            fsmount.unmount(mnt, process)


def make_mixed_directory(src: Path) -> None:
    """Beside the mount: ordinary entries of every kind, an XSym link, a 1067-byte file that is not
    one, and files one byte either side of the XSym size."""
    (src / "dir").mkdir()
    (src / "plain.txt").write_text("plain\n")
    (src / "size1066").write_bytes(b"x" * (XSYM_SIZE - 1))
    (src / "size1068").write_bytes(b"x" * (XSYM_SIZE + 1))
    os.symlink("dir", src / "real-link")
    os.mkfifo(src / "fifo")
    (src / "linked").write_bytes(expected_xsym(b"dir"))
    (src / "not-a-link").write_bytes(b"n" * XSYM_SIZE)


ORDINARY = {"dir", "plain.txt", "size1066", "size1068", "real-link", "fifo"}
CANDIDATES = {"linked", "not-a-link"}


def test_readdir_primes_ordinary_entries_but_not_xsym_candidates(workdir, emulator_built):
    """The listing is a READDIRPLUS that gives ordinary entries their attributes, so their lstat
    right after it sends nothing; the 1067-byte files are listed without (node id 0), so their
    lstat is a LOOKUP, answered S_IFLNK for the XSym link. Long timeouts here, so that only the
    priming is under test; the default timeouts are tested below."""
    src, mnt = workdir / "src", workdir / "mnt"
    make_mixed_directory(src)
    with debug_emulator(emulator_built, src, mnt, "entry_timeout=600", "attr_timeout=600") as log:
        before = log.mark()
        listed = {name: dt for name, dt, _ in trees.read_dtypes(mnt)}
        listing = log.since(before)
        assert "opcode: READDIRPLUS" in listing, "the kernel was not offered READDIRPLUS"
        assert listed == {"dir": trees.DT_DIR, "plain.txt": trees.DT_REG, "size1066": trees.DT_REG,
                          "size1068": trees.DT_REG, "real-link": trees.DT_LNK,
                          "fifo": trees.DT_FIFO, "linked": trees.DT_REG, "not-a-link": trees.DT_REG}

        after_listing = log.mark()
        kinds = {name: stat.S_IFMT(os.lstat(mnt / name).st_mode) for name in sorted(listed)}
        asked = log.since(after_listing)
        assert DebugLog.names_asked(asked) == CANDIDATES, \
            f"requests after the listing:\n{asked}"
        assert DebugLog.names_looked_up(asked) == CANDIDATES
        assert kinds["linked"] == stat.S_IFLNK
        assert kinds["not-a-link"] == stat.S_IFREG
        assert kinds["real-link"] == stat.S_IFLNK and kinds["dir"] == stat.S_IFDIR

        # A second listing says DT_REG again and primes nothing over the kernel's symlink inode.
        assert {n: t for n, t, _ in trees.read_dtypes(mnt)}["linked"] == trees.DT_REG
        assert stat.S_ISLNK(os.lstat(mnt / "linked").st_mode)


def test_default_caching_lasts_about_a_second(workdir, emulator_built):
    """By default names and attributes are cached like CIFS's actimeo=1: an lstat right after the
    listing sends nothing, one made after more than a second asks again. (The first half is
    retried when the machine is so loaded that a second passed between the listing and the lstat.)"""
    src, mnt = workdir / "src", workdir / "mnt"
    with debug_emulator(emulator_built, src, mnt) as log:
        for attempt in range(5):
            name = f"plain{attempt}"
            (src / name).write_text("plain\n")
            started = time.monotonic()
            assert name in os.listdir(mnt)
            mark = log.mark()
            os.lstat(mnt / name)
            asked = DebugLog.names_asked(log.since(mark))
            if time.monotonic() - started < 0.8:
                break
        assert name not in asked, "an lstat right after the listing was not served from the cache"
        time.sleep(1.5)
        mark = log.mark()
        os.lstat(mnt / name)
        assert name in DebugLog.names_asked(log.since(mark)), "the cache outlived its second"


# (8) the rest of the passthrough

def test_hard_links(workdir):
    """The high-level API gives each name its own kernel inode and attributes stay cached for a
    second, so the emulator invalidates the other names' caches when a file changes through one:
    without that, every stat below through the other name would be stale (CIFS shares one inode)."""
    src, mnt = workdir / "src", workdir / "mnt"
    with fsmount.mounted_emulator(src, mnt):
        (mnt / "a").write_text("shared\n")
        assert os.stat(mnt / "a").st_nlink == 1  # cached now
        os.link(mnt / "a", mnt / "b")
        a, b = os.stat(mnt / "a"), os.stat(mnt / "b")
        assert a.st_ino == b.st_ino
        assert (a.st_nlink, b.st_nlink) == (2, 2)
        os.chmod(mnt / "b", 0o600)
        assert stat.S_IMODE(os.stat(mnt / "a").st_mode) == 0o600
        with open(mnt / "b", "a") as appended:
            appended.write("more\n")
        assert os.stat(mnt / "a").st_size == len("shared\nmore\n")
        assert (mnt / "a").read_text() == "shared\nmore\n"
        os.truncate(mnt / "a", 3)
        assert os.stat(mnt / "b").st_size == 3
        os.link(mnt / "b", mnt / "c")
        os.rename(mnt / "c", mnt / "d")
        os.unlink(mnt / "a")
        assert os.stat(mnt / "b").st_nlink == 2
        (mnt / "e").write_text("e")
        os.rename(mnt / "e", mnt / "d")  # replaces one of the two names
        assert os.stat(mnt / "b").st_nlink == 1
    assert os.stat(src / "b").st_ino == b.st_ino


def test_hard_links_made_beside_the_mount(workdir):
    """Names the emulator learnt from a listing (READDIRPLUS) are kept coherent too."""
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "sub").mkdir()
    (src / "sub" / "x").write_text("old\n")
    os.link(src / "sub" / "x", src / "y")
    with fsmount.mounted_emulator(src, mnt):
        assert sorted(os.listdir(mnt)) == ["sub", "y"]
        assert os.listdir(mnt / "sub") == ["x"]
        assert os.stat(mnt / "y").st_size == 4  # primed by the listing, cached
        with open(mnt / "sub" / "x", "a") as appended:
            appended.write("new\n")
        assert os.stat(mnt / "y").st_size == 8
        assert (mnt / "y").read_text() == "old\nnew\n"


def test_user_xattrs(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "dir").mkdir()
    (src / "f").write_text("x")
    with fsmount.mounted_emulator(src, mnt):
        for name in ("f", "dir"):
            path = mnt / name
            os.setxattr(path, "user.colour", b"blue")
            assert os.getxattr(path, "user.colour") == b"blue"
            assert "user.colour" in os.listxattr(path)
            assert os.getxattr(src / name, "user.colour") == b"blue"
            os.removexattr(path, "user.colour")
            assert "user.colour" not in os.listxattr(path)
            with pytest.raises(OSError) as failure:
                os.getxattr(path, "user.colour")
            assert failure.value.errno == errno.ENODATA


def test_plain_file_operations(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    with fsmount.mounted_emulator(src, mnt):
        (mnt / "sub").mkdir(mode=0o750)
        f = mnt / "sub" / "file"
        f.write_bytes(b"0123456789")
        os.truncate(f, 4)
        os.chmod(f, 0o600)
        os.utime(f, ns=(1_000_000_000, 2_000_000_000))
        os.rename(f, mnt / "sub" / "renamed")
        with open(mnt / "sub" / "renamed", "r+b") as handle:
            handle.seek(2)
            handle.write(b"XY")
            handle.flush()
            os.fsync(handle.fileno())
            os.unlink(mnt / "sub" / "renamed")
            # Unlinked while open: the handle still reads and stats the data.
            handle.seek(0)
            assert handle.read() == b"01XY"
            assert os.fstat(handle.fileno()).st_size == 4
        os.mkfifo(mnt / "fifo")
        assert stat.S_ISFIFO(os.lstat(mnt / "fifo").st_mode)
        assert os.statvfs(mnt).f_bsize > 0
        (mnt / "sub" / "keep").write_text("k")
        with pytest.raises(OSError) as failure:
            os.rmdir(mnt / "sub")
        assert failure.value.errno == errno.ENOTEMPTY
    sub = os.stat(src / "sub")
    assert stat.S_IMODE(sub.st_mode) == 0o750
    assert not (src / "sub" / "renamed").exists()
    assert sorted(os.listdir(src)) == ["fifo", "sub"]  # no .fuse_hidden leftovers


def test_large_directory_listing_is_complete(workdir):
    """Listings span several READDIR replies; the resume offsets must lose and repeat nothing."""
    src, mnt = workdir / "src", workdir / "mnt"
    names = {f"entry-{i:04d}-{'n' * 40}" for i in range(1500)}
    for name in names:
        (src / name).touch()
    with fsmount.mounted_emulator(src, mnt):
        listed = os.listdir(mnt)
    assert len(listed) == len(names)
    assert set(listed) == names


# Mount identity and overlay

def test_mount_type_and_source(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    with fsmount.mounted_emulator(src, mnt):
        entry = fsmount.mount_entry(mnt)
        assert entry["fstype"] == "fuse.cifs-emulator"
        assert entry["source"] == str(src.resolve())


def test_overlays_its_own_backing_path(workdir):
    src = workdir / "src"
    (src / "target").mkdir()
    with fsmount.mounted_emulator(src, src):
        assert fsmount.is_mounted(src, "fuse.cifs-emulator")
        os.symlink("target", src / "link")
        assert stat.S_ISLNK(os.lstat(src / "link").st_mode)
        assert not {e.name: e for e in os.scandir(src)}["link"].is_symlink()
    assert not fsmount.is_mounted(src, "fuse.cifs-emulator")
    assert (src / "link").stat().st_size == XSYM_SIZE


def test_missing_backing_fails_clearly(workdir, emulator_built):
    missing = workdir / "does-not-exist"
    result = subprocess.run([emulator_built, str(missing), str(workdir / "mnt"), "-f"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert str(missing) in result.stderr
    assert "No such file or directory" in result.stderr
    assert not fsmount.is_mounted(workdir / "mnt")
