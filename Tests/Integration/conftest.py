"""Integration tests mount for real. Where mounting is impossible (no root or no /dev/fuse) they are
skipped, except under CI, where that is an error: mount tests must never be skipped silently there."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fsmount  # noqa: E402  (needs the path above)


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "not root"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _can_mount()
    if reason is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI must run the mount tests, but cannot mount: {reason}")
    skip = pytest.mark.skip(reason=f"cannot mount here: {reason}")
    for item in items:
        item.add_marker(skip)


@pytest.fixture
def workdir(tmp_path):
    """A private temp directory with src/ (backing), mnt/ (mount point) and ref/ (control)."""
    for name in ("src", "mnt", "ref", "emu"):
        (tmp_path / name).mkdir()
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def emulator_built():
    """The CIFS emulator fixture, built (or refreshed: the script only rebuilds when a source is
    newer) once per session, unless CIFS_EMULATOR_BIN names a binary of its own."""
    if not os.environ.get("CIFS_EMULATOR_BIN"):
        subprocess.run([str(fsmount.REPO / "scripts" / "build-emulator.sh")], check=True,
                       stdout=subprocess.DEVNULL)
    return fsmount.emulator_binary()
