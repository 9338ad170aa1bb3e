"""dtypefs over a real SMB share: Samba's smbd on loopback, mounted with smbnetfs (sambashare.py).
Every check runs on the bare share too, as the control: dtypefs over the share must behave as the
share does, nothing worse. smbnetfs has no symlinks, so the d_type lie itself stays the emulator's
to show (test_types.py); what this shows for real is everything else a share does — inode numbers
that change after a forget, names that fold case, no hard links or xattrs, a server that restarts.
"""
from __future__ import annotations

import errno
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import sambashare
from fsmount import is_mounted, mounted_dtypefs
from scenarios import SCENARIOS, drop_caches

pytestmark = pytest.mark.skipif(bool(sambashare.missing_programs()) and not os.environ.get("CI"),
                                reason=f"missing {sambashare.missing_programs()} (apt-get install samba smbnetfs smbclient)")


class Share:
    def __init__(self, base: Path, conf: Path, bare: Path, through: Path, dtypefs):
        self.base, self.conf, self.bare, self.through, self.dtypefs = base, conf, bare, through, dtypefs

    def views(self, name: str) -> dict[str, Path]:
        """The same directory of the share, bare and through dtypefs."""
        return {"bare": self.bare / name, "dtypefs": self.through / name}


@pytest.fixture(scope="module")
def share():
    missing = sambashare.missing_programs()
    if missing:
        pytest.fail(f"CI must run the SMB share tests: missing {missing} (apt-get install samba smbnetfs smbclient)")
    base = Path(tempfile.mkdtemp(prefix="dtypefs-smb-"))
    os.chmod(base, 0o755)
    (base / "smb").mkdir()
    (base / "mnt").mkdir()
    try:
        with sambashare.running_smbd(base) as conf, sambashare.mounted_smbnetfs(base, base / "smb") as bare, \
                mounted_dtypefs(bare, base / "mnt") as dtypefs:
            yield Share(base, conf, bare, base / "mnt", dtypefs)
            assert dtypefs.process.poll() is None, "dtypefs died during the module"
    finally:
        if not is_mounted(base / "mnt") and not is_mounted(base / "smb"):
            subprocess.run(["rm", "-rf", str(base)])


def fresh(share: Share, name: str) -> dict[str, Path]:
    """An empty directory per view, made on the server side (the share's own directory)."""
    views = {}
    for view in ("bare", "dtypefs"):
        path = share.base / "share" / f"{name}-{view}"
        path.mkdir()
        views[view] = share.bare / path.name if view == "bare" else share.through / path.name
    return views


def outcome(action):
    try:
        return action()
    except OSError as error:
        return "!" + errno.errorcode.get(error.errno, str(error.errno))


def populate(server_dir: Path) -> None:
    for d in ("alpha/beta/gamma", "Mixed Case/Sub", "empty"):
        (server_dir / d).mkdir(parents=True)
    for i in range(40):
        (server_dir / "alpha" / f"file{i:02d}.txt").write_text(f"{i}\n")
    (server_dir / "alpha" / "beta" / "gamma" / "deep.txt").write_text("deep\n")
    (server_dir / "Mixed Case" / "Sub" / "File Name.TXT").write_text("mixed\n")


def walked(top: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        out += [os.path.normpath(os.path.join(rel, n)) + "/" for n in dirnames]
        out += [os.path.normpath(os.path.join(rel, n)) for n in filenames]
    return sorted(out)


def test_walkers_see_the_share_as_it_is(share):
    server = share.base / "share" / "walk"
    populate(server)
    results = {}
    for view, top in share.views("walk").items():
        find = subprocess.run(["find", ".", "-type", "f"], cwd=top, capture_output=True, text=True, check=True)
        ls = subprocess.run(["ls", "-R"], cwd=top, capture_output=True, text=True, check=True)
        results[view] = (walked(top), sorted(find.stdout.split("\n")), ls.stdout)
    assert results["dtypefs"] == results["bare"]
    assert "alpha/beta/gamma/deep.txt" in results["dtypefs"][0]


@pytest.mark.parametrize("view", ["bare", "dtypefs"])
def test_a_cwd_and_an_open_directory_survive_a_forget(share, view):
    server = share.base / "share" / f"cwd-{view}"
    (server / "a" / "b").mkdir(parents=True)
    (server / "a" / "b" / "f").write_text("hi\n")
    inside = share.views(f"cwd-{view}")[view] / "a" / "b"
    fd = os.open(inside, os.O_RDONLY | os.O_DIRECTORY)
    old_cwd = os.getcwd()
    os.chdir(inside)
    try:
        before = os.stat(".").st_ino
        drop_caches()
        assert os.listdir(".") == ["f"]
        assert os.listdir(fd) == ["f"]
        assert Path("f").read_text() == "hi\n"
        Path("g").write_text("made in cwd\n")
        time.sleep(2.2)
        drop_caches()
        assert sorted(os.listdir(".")) == ["f", "g"]
        assert (server / "a" / "b" / "g").read_text() == "made in cwd\n"
        print(f"{view}: inode of the cwd {before} -> {os.stat('.').st_ino}")
    finally:
        os.chdir(old_cwd)
        os.close(fd)


def test_the_share_errnos_pass_through(share):
    server = share.base / "share" / "errnos"
    server.mkdir()
    (server / "File.Txt").write_text("x")
    results = {}
    for view, top in share.views("errnos").items():
        results[view] = {
            "link": outcome(lambda: os.link(top / "File.Txt", top / f"hard-{view}")),
            "symlink": outcome(lambda: os.symlink("File.Txt", top / f"soft-{view}")),
            "getxattr": outcome(lambda: os.getxattr(top / "File.Txt", "security.selinux")),
            "other case": outcome(lambda: (top / "FILE.TXT").read_text()),
            "listing": sorted(os.listdir(top)),
        }
    assert results["dtypefs"] == results["bare"]
    print(results["bare"])


# Before the scenarios: after them smbnetfs itself answers EIO for new directories for a while
# (the bare share as much as dtypefs over it).
def test_a_server_restart_is_survived(share):
    server = share.base / "share" / "restart"
    (server / "d").mkdir(parents=True)
    (server / "d" / "f").write_text("before\n")
    inside = share.through / "restart" / "d"
    old_cwd = os.getcwd()
    assert outcome(lambda: os.listdir(share.bare / "restart" / "d")) == ["f"], "the bare share lost its footing first"
    os.chdir(inside)
    try:
        assert Path("f").read_text() == "before\n"
        sambashare.stop_smbd(share.base)
        time.sleep(1.2)
        during = {"bare": outcome(lambda: os.listdir(share.bare / "restart" / "d")),
                  "dtypefs": outcome(lambda: os.listdir("."))}
        sambashare.start_smbd(share.conf)
        deadline = time.monotonic() + 30
        while outcome(lambda: os.listdir(share.bare / "restart" / "d")) != ["f"]:
            assert time.monotonic() < deadline, "the bare share did not come back"
            time.sleep(0.5)
        # Back on the same mount: the cwd, paths and new files work again, with no remount.
        assert os.listdir(".") == ["f"]
        assert Path("f").read_text() == "before\n"
        Path("g").write_text("after\n")
        assert (server / "d" / "g").read_text() == "after\n"
        print(f"while the server was away: {during}")
    finally:
        os.chdir(old_cwd)


# The scenarios of test_operations.py, on the bare share and through dtypefs. A scenario the share
# itself cannot run (no symlinks, no mknod, ...) must fail the same way through dtypefs.
# Scenarios that compare ownership by other uids or need root's view of the backing are left out:
# smbnetfs maps every file to its mounting user.
NOT_ON_SMBNETFS = {
    "setattr_chown": "smbnetfs shows every file as its mounting user's",
    "unprivileged_caller": "smbnetfs shows every file as its mounting user's",
    "setid_bits_cleared": "needs chown to another uid",
    "forget_after_drop_caches": "compares inode numbers, which smbnetfs makes up per kernel inode",
}


# Where the bare share fails and dtypefs over it does not: what dtypefs does better, by name.
BARE_SHARE_FAILS = {
    "copy_range": "smbnetfs answers the kernel's copy_file_range with EIO; dtypefs copies between "
                  "its backing descriptors, which the kernel does by splicing",
}


@pytest.mark.parametrize("name", sorted(set(SCENARIOS) - set(NOT_ON_SMBNETFS)))
def test_scenario_matches_the_bare_share(share, name):
    results = {}
    for view, directory in fresh(share, name).items():
        old = os.umask(0o022)
        try:
            results[view] = SCENARIOS[name](directory)
        except Exception as error:  # noqa: BLE001 - the control's limits are data here
            code = errno.errorcode.get(getattr(error, "errno", None) or 0, "")
            results[view] = f"raised {type(error).__name__} {code}".strip()
        finally:
            os.umask(old)
    if name in BARE_SHARE_FAILS:
        assert str(results["bare"]).startswith("raised"), f"the bare share can do {name} now: compare again"
        assert not str(results["dtypefs"]).startswith("raised"), results["dtypefs"]
        return
    assert results["dtypefs"] == results["bare"]
