"""dtypefs's open file descriptors must not grow with the number of inodes the kernel remembers.
libfuse's passthrough_hp keeps one O_PATH fd per inode and loses entries to EMFILE on a big tree;
dtypefs, started with only 1024 fds allowed, must walk a 30k-entry tree completely."""
from __future__ import annotations

import os
import subprocess
import threading
import time

import trees
from fsmount import mounted_dtypefs

DIRS, FILES_PER_DIR = 300, 100
FD_LIMIT = 1024
FD_BOUND = 64


def count_entries(root) -> int:
    result = subprocess.run(f"find '{root}' | wc -l", shell=True, capture_output=True, text=True,
                            check=True)
    return int(result.stdout)


class FdSampler(threading.Thread):
    """Samples the daemon's open fd count until stopped; keeps the maximum."""

    def __init__(self, daemon):
        super().__init__(daemon=True)
        self.target = daemon
        self.maximum = 0
        self.samples = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.maximum = max(self.maximum, self.target.open_fd_count())
                self.samples += 1
            except FileNotFoundError:
                return
            time.sleep(0.005)

    def stop(self):
        self.halt.set()
        self.join()


def drain(stream, sink: list):
    """Read a daemon's pipe in the background so a chatty daemon can never block on it."""
    thread = threading.Thread(target=lambda: sink.append(stream.read()), daemon=True)
    thread.start()
    return thread


def test_walk_huge_tree_with_few_fds(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    entries = trees.build_wide_tree(src, DIRS, FILES_PER_DIR)
    expected = count_entries(src)
    assert expected == entries + 1
    with mounted_dtypefs(src, mnt, prefix=["prlimit", f"--nofile={FD_LIMIT}", "--"]) as daemon:
        errors: list[bytes] = []
        drainer = drain(daemon.process.stderr, errors)
        with open(f"/proc/{daemon.pid}/limits") as limits:
            line = next(l for l in limits if l.startswith("Max open files"))
        assert line.split()[3] == str(FD_LIMIT), f"prlimit did not apply: {line}"
        sampler = FdSampler(daemon)
        sampler.start()
        try:
            found = subprocess.run(f"find '{mnt}' | wc -l", shell=True, capture_output=True,
                                   text=True)
            assert found.stderr == "", f"find reported errors: {found.stderr[:2000]}"
            assert int(found.stdout) == expected, f"find through dtypefs: {found.stdout.strip()} " \
                                                  f"entries, backing dir has {expected}"

            du = subprocess.run(["du", "-s", str(mnt)], capture_output=True, text=True)
            assert du.returncode == 0 and du.stderr == "", f"du -s failed: {du.stderr[:2000]}"
            inodes = subprocess.run(["du", "-s", "--inodes", str(mnt)], capture_output=True,
                                    text=True)
            backing_inodes = subprocess.run(["du", "-s", "--inodes", str(src)],
                                            capture_output=True, text=True)
            assert inodes.returncode == 0, inodes.stderr[:2000]
            assert inodes.stdout.split()[0] == backing_inodes.stdout.split()[0], \
                f"du --inodes: {inodes.stdout.split()[0]} through dtypefs, " \
                f"{backing_inodes.stdout.split()[0]} on the backing dir"

            walk_errors = []
            seen = 1  # the root itself, as find counts it
            for dirpath, dirnames, filenames in os.walk(mnt, onerror=walk_errors.append):
                for name in dirnames + filenames:
                    os.lstat(os.path.join(dirpath, name))  # raises on EMFILE/EIO
                    seen += 1
            assert not walk_errors, f"os.walk errors: {walk_errors[:10]}"
            assert seen == expected, f"os.walk+lstat saw {seen} entries, backing dir has {expected}"
            during = sampler.maximum
        finally:
            sampler.stop()
        # The kernel now remembers ~30k inodes; dtypefs must not be holding an fd for each.
        after = daemon.open_fd_count()
        print(f"{expected} entries; dtypefs fds: at most {during} during the walk "
              f"({sampler.samples} samples), {after} after")
        assert sampler.samples > 10, "fd sampling did not run"
        assert during <= FD_BOUND, f"dtypefs held up to {during} fds during the walk (bound " \
                                   f"{FD_BOUND}); it must not grow with remembered inodes"
        assert after <= FD_BOUND, f"dtypefs holds {after} fds after the walk (bound {FD_BOUND})"
        assert daemon.process.poll() is None, "dtypefs died"
    drainer.join(timeout=10)
    log = b"".join(errors).decode(errors="replace")
    for sign in ("EMFILE", "Too many open files"):
        assert sign not in log, f"dtypefs logged {sign}:\n{log[-3000:]}"


def test_abandoned_listings_release_their_descriptors(workdir):
    """Directories have no handles: a listing left half-read (`ls | head`) parks its backing
    descriptor between READDIR requests, and must give it back within seconds, unasked."""
    src, mnt = workdir / "src", workdir / "mnt"
    trees.build_wide_tree(src, 40, 2000)

    def backing_descriptors(pid) -> int:
        """The daemon's descriptors of directories below SOURCE (not the root it keeps open)."""
        count = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except FileNotFoundError:
                continue
            count += target.startswith(str(src) + "/")
        return count

    with mounted_dtypefs(src, mnt) as daemon:
        iterators = []
        for index in range(40):
            iterator = os.scandir(mnt / f"dir{index:04d}")
            next(iterator)  # one getdents: the first reply, the rest of the listing parked
            iterators.append(iterator)
        parked = backing_descriptors(daemon.pid)
        assert parked >= 1, "no listing was parked: the test did not exercise the stream cache"
        assert parked <= 32, f"{parked} parked listings hold descriptors (bound 32)"
        deadline = time.monotonic() + 10
        while backing_descriptors(daemon.pid) > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert backing_descriptors(daemon.pid) == 0, \
            f"{backing_descriptors(daemon.pid)} descriptors still held 10 s after the listings stopped"
        # A listing resumed after its stream was closed reopens and continues where it was.
        for iterator in iterators[:3]:
            rest = sum(1 for _ in iterator)
            assert rest == 2000, f"a resumed listing returned {rest} more entries, expected 2000"
        for iterator in iterators:
            iterator.close()
