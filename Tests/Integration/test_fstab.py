"""dtypefs through mount(8) and mount.fuse3, from private fstab files (/etc/fstab is never touched):
the share at a hidden path, the overlay at the share's own path, errors, remounts."""
from __future__ import annotations

import os

import pytest

import fsmount

from mountctl import (
    EMULATOR_FSTYPE,
    FSTYPE,
    MOUNT_FUSE_PATH,
    TRUE_TYPES,
    assert_emulator_lies,
    cleanup_daemons,
    daemon_pids,
    describe,
    listed_types,
    mounts_at,
    populate_share,
    run,
    the_daemon,
    top_fstype,
    wait_gone,
    walked,
    write_fstab,
)


# ---------------------------------------------------------------------------------------------
# (a) hidden-path layout: the share (the emulator) at SRC, dtypefs from fstab at MNT.

def test_fstab_hidden_path_layout_fixes_types(system_binary, workdir):
    backing, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    fstab = write_fstab(workdir / "fstab", [(
        emu, mnt, FSTYPE,
        f"defaults,nofail,_netdev,x-systemd.requires-mounts-for={emu},dtype=verify", 0, 0)])
    with fsmount.mounted_emulator(backing, emu), cleanup_daemons(emu, mnt):
        populate_share(emu)
        assert_emulator_lies(emu)

        result = run(["mount", "--fstab", fstab, mnt])
        assert result.returncode == 0, describe(result)
        entry = fsmount.mount_entry(mnt)
        assert entry and entry["fstype"] == FSTYPE, f"after mount(8): {entry}"
        assert entry["source"] == str(emu), f"default fsname should be the source path: {entry}"
        # mount(8) returned, and the daemon it started serves in the background.
        pid = the_daemon(emu, mnt)

        assert listed_types(mnt) == TRUE_TYPES
        assert (mnt / "f").read_text() == "hello\n"
        assert (mnt / "link-to-dir" / "inner").read_text() == "inner\n"
        assert "link-to-dir/inner" in walked(mnt), "os.walk(followlinks=True) must enter link-to-dir"
        assert "link-to-dir/inner" not in walked(emu), "precondition: the share alone hides it"

        result = run(["umount", mnt])
        assert result.returncode == 0, describe(result)
        assert top_fstype(mnt) != FSTYPE
        assert wait_gone(pid), f"dtypefs (pid {pid}) still runs after `umount {mnt}`"
        assert fsmount.is_mounted(emu, EMULATOR_FSTYPE), "the share must stay mounted"


OPTION_SETS = {
    # options in fstab -> (flags expected in the mount's options, whether allow_other is on, writable)
    "restrictive": ("ro,noatime,nosuid,nodev,noexec,dtype=verify,attr_timeout=2,entry_timeout=2,"
                    "negative_timeout=0,max_threads=4,fsname=dtypefs-test-share,allow_other,"
                    "nofail,_netdev,x-systemd.automount,x-mount.mkdir",
                    {"ro", "noatime", "nosuid", "nodev", "noexec"}, True, False),
    "permissive": ("rw,relatime,atime,exec,suid,dev,noallow_other,dtype=unknown,fsname=dtypefs-test-share",
                   {"rw", "relatime"}, False, True),
}


@pytest.mark.parametrize("name", sorted(OPTION_SETS))
def test_fstab_passes_every_contract_option(system_binary, workdir, name):
    """Every option of the contract, written in fstab, reaches dtypefs through mount.fuse3 and is
    accepted; the kernel-level ones show up in the mount table."""
    options, flags, allow_other, writable = OPTION_SETS[name]
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "f").write_text("x\n")
    fstab = write_fstab(workdir / "fstab", [(src, mnt, FSTYPE, options, 0, 0)])
    with cleanup_daemons(src, mnt):
        result = run(["mount", "--fstab", fstab, mnt])
        assert result.returncode == 0, describe(result)
        entry = fsmount.mount_entry(mnt)
        assert entry and entry["fstype"] == FSTYPE, entry
        assert entry["source"] == "dtypefs-test-share", entry
        assert flags <= set(entry["options"].split(",")), entry
        assert ("allow_other" in entry["super_options"].split(",")) == allow_other, entry
        assert (mnt / "f").read_text() == "x\n"
        if writable:
            (mnt / "new").write_text("rw\n")
            assert (src / "new").read_text() == "rw\n"
        else:
            with pytest.raises(OSError):
                (mnt / "new").write_text("must fail: ro")
            assert not (src / "new").exists()
        result = run(["umount", mnt])
        assert result.returncode == 0, describe(result)


# ---------------------------------------------------------------------------------------------
# (b) same-path overlay: the share at X, dtypefs X X over it, from an fstab file by hand.

def test_fstab_same_path_overlay(system_binary, workdir):
    backing, share = workdir / "src", workdir / "emu"
    fstab = write_fstab(workdir / "fstab", [(share, share, FSTYPE, "defaults,nofail,_netdev", 0, 0)])
    with fsmount.mounted_emulator(backing, share), cleanup_daemons(share, share):
        populate_share(share)
        assert_emulator_lies(share)

        result = run(["mount", "--fstab", fstab, share])
        assert result.returncode == 0, describe(result)
        assert mounts_at(share)[-2:] == [EMULATOR_FSTYPE, FSTYPE], mounts_at(share)
        pid = the_daemon(share, share)
        assert listed_types(share) == TRUE_TYPES
        assert (share / "link-to-dir" / "inner").read_text() == "inner\n"
        (share / "written-through-overlay").write_text("overlay\n")

        result = run(["umount", share])
        assert result.returncode == 0, describe(result)
        assert top_fstype(share) == EMULATOR_FSTYPE, f"umount must uncover the share: {mounts_at(share)}"
        assert wait_gone(pid), f"dtypefs (pid {pid}) still runs after `umount {share}`"
        assert (share / "written-through-overlay").read_text() == "overlay\n"
        assert listed_types(share)["link-to-dir"] == "file", "the share itself is back, lies included"


# ---------------------------------------------------------------------------------------------
# (c) errors through mount(8): a message from dtypefs, a non-zero exit, nothing mounted or running.

@pytest.mark.parametrize("case", ["missing-source", "bad-option"])
def test_mount_error_is_reported(system_binary, workdir, case):
    src, mnt = workdir / "src", workdir / "mnt"
    if case == "missing-source":
        source, options, expected = workdir / "does-not-exist", "defaults", str(workdir / "does-not-exist")
    else:
        source, options, expected = src, "dtype=bogus", "dtype"
    fstab = write_fstab(workdir / "fstab", [(source, mnt, FSTYPE, options, 0, 0)])
    with cleanup_daemons(source, mnt):
        result = run(["mount", "--fstab", fstab, mnt])
        assert result.returncode != 0, describe(result)
        assert expected in result.stderr, f"dtypefs's message should name {expected!r}:\n{describe(result)}"
        assert top_fstype(mnt) != FSTYPE, "nothing may be mounted after a failed mount"
        assert daemon_pids(source, mnt) == [], "no daemon may be left after a failed mount"


def test_remount_changes_mount_point_flags(system_binary, workdir):
    """xfstests generic/003: `mount -o remount,nodiratime` reaches dtypefs through mount.fuse3 as
    `-o ...,remount,nodiratime`; the flags change, the daemon keeps serving. Flags libfuse 3.14
    cannot pass (nodiratime, strictatime) are set right after mounting."""
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "f").write_text("x\n")
    fstab = write_fstab(workdir / "fstab", [(src, mnt, FSTYPE, "nodiratime,noatime", 0, 0)])
    with cleanup_daemons(src, mnt):
        result = run(["mount", "--fstab", fstab, mnt])
        assert result.returncode == 0, describe(result)
        assert {"nodiratime", "noatime"} <= set(fsmount.mount_entry(mnt)["options"].split(",")), fsmount.mount_entry(mnt)
        pids = daemon_pids(src, mnt)
        result = run(["mount", "-o", "remount,ro,strictatime", mnt])
        assert result.returncode == 0, describe(result)
        # Silent, as any filesystem's remount (xfstests compares the output of remounts).
        assert result.stdout == "" and result.stderr == "", describe(result)
        options = set(fsmount.mount_entry(mnt)["options"].split(","))
        assert "ro" in options and "noatime" not in options and "relatime" not in options, options
        with pytest.raises(OSError):
            (mnt / "new").write_text("must fail: ro")
        result = run(["mount", "-o", "remount,rw", mnt])
        assert result.returncode == 0, describe(result)
        (mnt / "new").write_text("rw\n")
        assert (src / "new").read_text() == "rw\n"
        assert daemon_pids(src, mnt) == pids, "a remount must not start or stop a daemon"
        result = run(["umount", mnt])
        assert result.returncode == 0, describe(result)
        result = run(["dtypefs", src, mnt, "-o", "remount,nodiratime"], env={**os.environ, "PATH": MOUNT_FUSE_PATH})
        assert result.returncode == 1 and "not a dtypefs mount" in result.stderr, describe(result)
