"""POSIX ACLs through dtypefs: with `-o acl` the kernel enforces and inherits them as on a local
filesystem (xfstests generic/099, 319, 375, 444, 697); without it (the default) they are stored
and listed, but the mode alone decides and the caller's umask always applies."""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from fsmount import dtypefs_binary, errno_of, mounted_dtypefs
from scenarios import as_user


def setfacl(*arguments) -> None:
    subprocess.run(["setfacl", *map(str, arguments)], check=True, capture_output=True)


@pytest.mark.parametrize("acl", [True, False])
def test_a_default_acl_replaces_the_umask_only_with_acl(workdir, acl):
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "inherits").mkdir()
    setfacl("-d", "-m", "u::rwx,g::rwx,o::rwx", src / "inherits")
    old = os.umask(0o022)
    try:
        with mounted_dtypefs(src, mnt, options=["acl" if acl else "noacl"]):
            (mnt / "inherits" / "file").touch()
            (mnt / "inherits" / "dir").mkdir()
            (mnt / "plain").touch()
            modes = {name: os.stat(mnt / name).st_mode & 0o777 for name in ["inherits/file", "inherits/dir", "plain"]}
    finally:
        os.umask(old)
    # No default ACL: the umask applies either way.
    assert modes["plain"] == 0o644
    if acl:
        assert (modes["inherits/file"], modes["inherits/dir"]) == (0o666, 0o777), modes
    else:
        assert (modes["inherits/file"], modes["inherits/dir"]) == (0o644, 0o755), modes


@pytest.fixture
def open_workdir():
    """src/ and mnt/ in a directory other users can reach (pytest's tmp_path is private)."""
    with tempfile.TemporaryDirectory(prefix="dtypefs-acl-") as name:
        base = Path(name)
        base.chmod(0o755)
        for sub in ("src", "mnt"):
            (base / sub).mkdir(mode=0o755)
        yield base


@pytest.mark.parametrize("acl", [True, False])
def test_an_acl_entry_denies_access_only_with_acl(open_workdir, acl):
    src, mnt = open_workdir / "src", open_workdir / "mnt"
    (src / "secret").write_text("x\n")
    os.chmod(src / "secret", 0o644)
    setfacl("-m", "u:65534:---", src / "secret")
    with mounted_dtypefs(src, mnt, options=["acl" if acl else "noacl"]):
        denied = as_user(65534, 65534, errno_of, lambda: (mnt / "secret").read_text())
        allowed = as_user(65533, 65534, errno_of, lambda: (mnt / "secret").read_text())
    assert allowed is None
    assert denied == (13 if acl else None), denied  # EACCES: what the same ACL does locally


def test_acl_without_extended_attributes_is_refused(workdir):
    src, mnt = workdir / "src", workdir / "mnt"
    result = subprocess.run([dtypefs_binary(), str(src), str(mnt), "-f", "-o", "acl,xattr=off"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 2 and "option acl needs extended attributes" in result.stderr, result


@pytest.mark.parametrize("acl", [True, False])
def test_setting_an_acl_clears_setgid_for_an_owner_outside_the_group(open_workdir, acl):
    # xfstests generic/375: the kernel asks for it with a flag libfuse 3.14 does not pass on.
    src, mnt = open_workdir / "src", open_workdir / "mnt"
    for name in ("outside", "inside"):
        (src / name).touch()
        os.chown(src / name, 100, 100)
        os.chmod(src / name, 0o2755)
    with mounted_dtypefs(src, mnt, options=["acl" if acl else "noacl"]):
        def set_acl(path):
            return subprocess.run(["setfacl", "-m", "u::rwx,g::rwx,o::rwx", str(path)], capture_output=True).returncode
        assert as_user(100, 101, set_acl, mnt / "outside") == 0
        assert as_user(100, 100, set_acl, mnt / "inside") == 0
        modes = {name: os.stat(mnt / name).st_mode & 0o7777 for name in ("outside", "inside")}
    assert modes == {"outside": 0o777, "inside": 0o2777}, {k: oct(v) for k, v in modes.items()}
