"""8 walkers and 4 writers at once through dtypefs (see stress.py); scripts/stress.sh runs 10 minutes.

CI runs STRESS_SECONDS (default 40) over the CIFS emulator, the case dtypefs exists for, and a
shorter run over a plain directory. Required: no error but the races' own ENOENT/EEXIST, the
writers' trees exactly as they made them, the daemon alive, and its descriptor count and RSS flat
from the first sample (a quarter into the run, once the tree has reached its steady size) to the
last.
"""
from __future__ import annotations

import errno
import os
import threading

import stress
from fsmount import mounted_dtypefs, mounted_emulator

SECONDS = float(os.environ.get("STRESS_SECONDS", "40"))
# "Flat": a few descriptors of slack for requests in flight at the sampling instant; RSS may
# wobble with the allocator, but a leak per operation (hundreds of thousands here) would not fit.
FD_SLACK = 16
RSS_SLACK_RATIO = 1.25
RSS_SLACK_KIB = 4096


def assert_clean(result):
    assert result["error_count"] == 0, "\n".join(result["errors"][:40])
    assert result["model_problem_count"] == 0, "\n".join(result["model_problems"][:40])
    assert result["stuck_threads"] == []
    assert result["writer_ops"] > 0 and result["walks"] > 0


def assert_flat(samples):
    """First sample under load against the last one under load, and against the idle one."""
    load = [s for s in samples if s["phase"] == "load"]
    idle = [s for s in samples if s["phase"] == "idle"]
    assert len(load) >= 2 and idle, samples
    first, last = load[0], load[-1]
    assert last["fds"] <= first["fds"] + FD_SLACK, f"descriptors grew: {samples}"
    assert idle[0]["fds"] <= first["fds"] + FD_SLACK, f"descriptors kept after the load: {samples}"
    assert last["rss_kib"] <= first["rss_kib"] * RSS_SLACK_RATIO + RSS_SLACK_KIB, f"RSS grew: {samples}"


def test_stress_over_emulator(workdir):
    with mounted_emulator(workdir / "src", workdir / "emu"):
        with mounted_dtypefs(workdir / "emu", workdir / "mnt") as dtypefs:
            result = stress.run_stress(str(workdir / "mnt"), SECONDS, pid=dtypefs.pid,
                                       sample_every=SECONDS / 4, log=print)
            assert dtypefs.process.poll() is None, "dtypefs died under stress"
    assert_clean(result)
    assert_flat(result["samples"])


def test_stress_over_plain_directory(workdir):
    with mounted_dtypefs(workdir / "src", workdir / "mnt") as dtypefs:
        result = stress.run_stress(str(workdir / "mnt"), SECONDS / 2, pid=dtypefs.pid,
                                   sample_every=SECONDS / 8, log=print)
        assert dtypefs.process.poll() is None, "dtypefs died under stress"
    assert_clean(result)
    assert_flat(result["samples"])


def test_stress_catches_wrong_types_on_raw_emulator(workdir):
    """Control: on the raw emulator, links listed as DT_REG must be reported, or the walkers'
    type check could never fail."""
    with mounted_emulator(workdir / "src", workdir / "emu"):
        result = stress.run_stress(str(workdir / "emu"), 5, walkers=2, writers=2)
    assert any("listed as f, lstat says l" in e for e in result["errors"])


def make_and_remove_directories(root, threads: int = 2, rounds: int = 2000) -> list[str]:
    errors = []

    def worker(index):
        home = os.path.join(root, f"t{index}")
        os.mkdir(home)
        for i in range(rounds):
            path = os.path.join(home, f"d{i}")
            try:
                os.mkdir(path)
                os.rmdir(path)
            except OSError as error:
                errors.append(f"{path}: {errno.errorcode.get(error.errno, error.errno)}")

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return errors


def test_concurrent_mkdir_rmdir_in_sibling_directories(workdir):
    """The smallest form of what the writers above do: two threads each make and remove fresh
    directories in a directory of their own, so no operation can fail on a local disk. The backing
    fs hands a removed directory's inode number to the next new one at once, often before the
    kernel has sent FORGET for the old node: a node table keyed by inode number alone then answers
    the new directory with the old node (EEXIST or ESTALE from the kernel, a directory left behind).
    A race: passing once proves little, failing proves a bug."""
    assert make_and_remove_directories(workdir / "ref") == []
    with mounted_dtypefs(workdir / "src", workdir / "mnt") as dtypefs:
        errors = make_and_remove_directories(workdir / "mnt")
        assert dtypefs.process.poll() is None
    left = sorted(os.path.join(t, name) for t in ("t0", "t1") for name in os.listdir(workdir / "src" / t))
    assert errors == [] and left == [], f"{len(errors)} errors: {errors[:10]}; left behind: {left[:10]}"
