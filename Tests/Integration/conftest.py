"""Integration tests mount for real. Where mounting is impossible (no root or no /dev/fuse) they are
skipped, except under CI, where that is an error: mount tests must never be skipped silently there."""
import contextlib
import fcntl
import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fsmount  # noqa: E402  (needs the path above)
from mountctl import SYSTEM_BIN  # noqa: E402


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


@pytest.fixture(scope="module")
def built_binary() -> str:
    path = fsmount.dtypefs_binary()
    assert os.access(path, os.X_OK), f"{path} is not executable"
    return path


@pytest.fixture(scope="module")
def system_binary(built_binary):
    """The binary under test at /usr/local/bin/dtypefs, where mount.fuse3 finds it; whatever was
    there is moved aside and restored afterwards."""
    shadow = Path("/usr/local/sbin/dtypefs")
    if shadow.exists():
        pytest.fail(f"{shadow} exists and comes first on mount.fuse3's PATH: these tests would run it "
                    "instead of the binary under test; move it away")
    SYSTEM_BIN.parent.mkdir(parents=True, exist_ok=True)
    lock = open("/run/lock/dtypefs-test-usr-local-bin.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    backup = SYSTEM_BIN.with_name(f".dtypefs.test-backup.{os.getpid()}")
    existed = os.path.lexists(SYSTEM_BIN)
    same = existed and SYSTEM_BIN.is_file() and filecmp.cmp(SYSTEM_BIN, built_binary, shallow=False)
    installed_ino = None
    try:
        if not same:
            if existed:
                os.rename(SYSTEM_BIN, backup)
            staging = SYSTEM_BIN.with_name(f".dtypefs.test-new.{os.getpid()}")
            shutil.copyfile(built_binary, staging)
            os.chmod(staging, 0o755)
            os.rename(staging, SYSTEM_BIN)
            installed_ino = os.stat(SYSTEM_BIN).st_ino
        yield SYSTEM_BIN
    finally:
        try:
            if installed_ino is not None:
                with contextlib.suppress(FileNotFoundError):
                    if os.lstat(SYSTEM_BIN).st_ino == installed_ino:
                        os.unlink(SYSTEM_BIN)
                if existed:
                    os.rename(backup, SYSTEM_BIN)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
