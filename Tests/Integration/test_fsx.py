"""fsx-style random I/O through dtypefs, checked against an in-memory model (see fsx.py).

CI runs FSX_OPS operations (default 20000) with FSX_SEED (default fixed, so a failure replays);
scripts/fsx.sh runs 100k+ through a fresh mount. A failure prints the seed and the operation log.
"""
from __future__ import annotations

import mmap
import os

import pytest

import fsx
from fsmount import mounted_dtypefs, mounted_emulator

OPS = int(os.environ.get("FSX_OPS", "20000"))
SEED = int(os.environ.get("FSX_SEED", "20250601"))


def run_fsx(directory, seed, ops, backing, log_path, disabled=()):
    engine = fsx.Fsx(str(directory), seed, ops, backing=str(backing), log_path=str(log_path),
                     disabled=disabled)
    try:
        return engine.run()
    except fsx.Mismatch as error:
        flags = "".join(f" --disable {op}" for op in disabled)
        pytest.fail(f"fsx seed {seed}: {error} (operation log: {log_path}; replay: "
                    f"python3 Tests/Integration/fsx.py --ops {ops} --seed {seed}{flags} DIR)")
    finally:
        engine.cleanup()


def test_fsx_through_dtypefs(workdir):
    with mounted_dtypefs(workdir / "src", workdir / "mnt") as dtypefs:
        result = run_fsx(workdir / "mnt", SEED, OPS, workdir / "src", workdir / "fsx.log")
        assert dtypefs.process.poll() is None
    # A passthrough must accept every fallocate mode its backing filesystem accepts.
    assert result["fallocate_modes"] == fsx.probe_fallocate(str(workdir / "src"))
    assert all(result["counts"].get(op, 0) > 0 for op in fsx.WEIGHTS)


def test_fsx_through_dtypefs_without_append_mappings(workdir):
    """The same run minus shared mappings of O_APPEND descriptors, which test_mmap_write_through_
    append_descriptor covers alone: one failure there must not hide others here."""
    with mounted_dtypefs(workdir / "src", workdir / "mnt") as dtypefs:
        run_fsx(workdir / "mnt", SEED, OPS, workdir / "src", workdir / "fsx.log",
                disabled=["mmap_write_append_fd"])
        assert dtypefs.process.poll() is None


def test_fsx_through_dtypefs_over_emulator(workdir):
    # What users run: dtypefs over a CIFS mount, here the emulator, a second FUSE layer.
    with mounted_emulator(workdir / "src", workdir / "emu"):
        with mounted_dtypefs(workdir / "emu", workdir / "mnt") as dtypefs:
            result = run_fsx(workdir / "mnt", SEED + 1, max(1000, OPS // 4), workdir / "emu",
                             workdir / "fsx-emu.log")
            assert dtypefs.process.poll() is None
            assert result["fallocate_modes"] == fsx.probe_fallocate(str(workdir / "emu"))


def mmap_write_through_append_descriptor(directory) -> tuple[int, bytes]:
    path = os.path.join(directory, "appended.bin")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    try:
        os.ftruncate(fd, 2 * mmap.PAGESIZE)
        with mmap.mmap(fd, 2 * mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
            m[0:mmap.PAGESIZE] = b"A" * mmap.PAGESIZE
            m.flush()
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        data = f.read()
    return len(data), data[:mmap.PAGESIZE]


def test_mmap_write_through_append_descriptor(workdir):
    """Pages written through a shared mapping go back to their offsets even when the only
    descriptor was opened O_APPEND; on a local disk they do."""
    control = mmap_write_through_append_descriptor(workdir / "ref")
    assert control == (2 * mmap.PAGESIZE, b"A" * mmap.PAGESIZE)
    with mounted_dtypefs(workdir / "src", workdir / "mnt"):
        mounted = mmap_write_through_append_descriptor(workdir / "mnt")
    assert mounted == control, f"size {mounted[0]}, first page {mounted[1][:8]!r}..."


def test_fsx_reports_a_change_behind_its_back(tmp_path, capsys):
    """The checker itself must catch a wrong byte, and say which seed and operations led there."""
    engine = fsx.Fsx(str(tmp_path), 99, 2000, sabotage_at=1000, log_path=str(tmp_path / "log"))
    with pytest.raises(fsx.Mismatch):
        engine.run()
    err = capsys.readouterr().err
    assert "seed 99" in err and "last operations" in err and str(tmp_path / "log") in err
    log = (tmp_path / "log").read_text()
    assert "sabotage" in log and log.count("\n") > 1000
