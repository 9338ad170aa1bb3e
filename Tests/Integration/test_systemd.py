"""The systemd template unit (systemd-analyze, its commands run by hand), the manual page's fstab
examples through systemd-fstab-generator, and the manual page itself."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

import fsmount

from mountctl import (
    read_unit,
    EMULATOR_FSTYPE,
    FSTYPE,
    MANPAGE,
    TRUE_TYPES,
    UNIT,
    assert_emulator_lies,
    cleanup_daemons,
    describe,
    listed_types,
    mounts_at,
    populate_share,
    run,
    the_daemon,
    top_fstype,
    under_ci,
    wait_gone,
    write_fstab,
)


# ---------------------------------------------------------------------------------------------
# (d) the systemd unit.


def test_unit_declares_the_overlay():
    """A minimal reading of the unit: the keys that make it correct, whatever tools exist."""
    unit = read_unit(UNIT)
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    assert unit["Unit"]["RequiresMountsFor"] == "%f"
    assert "remote-fs.target" in unit["Unit"]["Before"].split()
    assert unit["Unit"]["Documentation"] == "man:dtypefs(8)"
    service = unit["Service"]
    # Type=forking with no -f: started means mounted (dtypefs returns once the mount is up).
    assert service["Type"] == "forking"
    exec_start = shlex.split(service["ExecStart"])
    assert exec_start[:3] == ["/usr/local/bin/dtypefs", "%f", "%f"], exec_start
    assert "-f" not in exec_start and "-d" not in exec_start
    assert shlex.split(service["ExecStop"].lstrip("-"))[0:2] == ["/usr/bin/fusermount3", "-u"]
    assert service["Restart"] == "on-failure"
    assert "remote-fs.target" in unit["Install"]["WantedBy"].split()


def unit_command(key: str, path: Path, binary: str) -> list[str]:
    """The unit's ExecStart/ExecStop/ExecStopPost as systemd would run it for the instance `path`."""
    line = read_unit(UNIT)["Service"][key].lstrip("-")
    words = shlex.split(line)
    expanded = []
    for word in words:
        word = word.replace("$$", "\0").replace("%f", str(path)).replace("\0", "$")
        expanded.append(word)
    if expanded and expanded[0] == "/usr/local/bin/dtypefs":
        expanded[0] = binary
    # $DTYPEFS_OPTIONS unset/empty: systemd drops an empty unquoted $VAR word.
    return [w for w in expanded if w != "$DTYPEFS_OPTIONS"]


def test_unit_commands_run_the_overlay(built_binary, workdir):
    """ExecStart, ExecStop and ExecStopPost, run by hand on an emulated share: start overlays it,
    stop uncovers it, and the crash cleanup removes a dead overlay but never the share."""
    backing, share = workdir / "src", workdir / "emu"
    with fsmount.mounted_emulator(backing, share), cleanup_daemons(share, share):
        populate_share(share)
        assert_emulator_lies(share)

        start = run(unit_command("ExecStart", share, built_binary), stdin=subprocess.DEVNULL)
        assert start.returncode == 0, describe(start)
        assert top_fstype(share) == FSTYPE, "Type=forking: mounted once ExecStart returns"
        pid = the_daemon(share, share)
        assert listed_types(share) == TRUE_TYPES

        stop = run(unit_command("ExecStop", share, built_binary))
        assert stop.returncode == 0, describe(stop)
        assert wait_gone(pid), "ExecStop must end the daemon"
        assert top_fstype(share) == EMULATOR_FSTYPE

        # ExecStopPost when the overlay is already gone: the share must survive it.
        post = run(unit_command("ExecStopPost", share, built_binary))
        assert post.returncode == 0, describe(post)
        assert top_fstype(share) == EMULATOR_FSTYPE, "ExecStopPost must never unmount the share"

        # A crashed daemon leaves a dead mount; ExecStopPost detaches it.
        start = run(unit_command("ExecStart", share, built_binary), stdin=subprocess.DEVNULL)
        assert start.returncode == 0, describe(start)
        pid = the_daemon(share, share)
        os.kill(pid, signal.SIGKILL)
        assert wait_gone(pid)
        assert top_fstype(share) == FSTYPE, "precondition: a killed daemon leaves its mount"
        post = run(unit_command("ExecStopPost", share, built_binary))
        assert post.returncode == 0, describe(post)
        assert top_fstype(share) == EMULATOR_FSTYPE, f"dead overlay not removed: {mounts_at(share)}"
        assert listed_types(share)["f"] == "file"


def require_tool(path: str, package: str) -> str:
    found = shutil.which(path) or (path if os.access(path, os.X_OK) else None)
    if found:
        return found
    message = f"{path} is missing (apt-get install {package})"
    if under_ci():
        pytest.fail(f"CI must check the systemd files: {message}")
    pytest.skip(message)


def man_tree(workdir: Path) -> Path:
    root = workdir / "man"
    (root / "man8").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MANPAGE, root / "man8" / "dtypefs.8")
    return root


def test_unit_passes_systemd_analyze_verify(system_binary, workdir):
    analyze = require_tool("systemd-analyze", "systemd")
    env = dict(os.environ, MANPATH=str(man_tree(workdir)))
    # The template itself (verified as instance "i") and a real instance next to its share's mount
    # unit, as the fstab generator would write it.
    units = workdir / "units"
    units.mkdir()
    shutil.copyfile(UNIT, units / "dtypefs@.service")
    os.symlink("dtypefs@.service", units / "dtypefs@srv-share.service")
    (units / "srv-share.mount").write_text(
        "[Mount]\nWhat=//server/share\nWhere=/srv/share\nType=cifs\nOptions=mfsymlinks,_netdev\n")
    for target in (UNIT, units / "dtypefs@srv-share.service"):
        result = run([analyze, "verify", target], env=dict(env, SYSTEMD_UNIT_PATH=f"{units}:"))
        assert result.returncode == 0 and not result.stderr.strip(), describe(result)


def manpage_fstab_lines() -> list[list[str]]:
    """The fstab lines of the manual page's hidden-path example."""
    text = MANPAGE.read_text().replace("\\-", "-")
    block = text.split('.SS "Share at a hidden path (fstab only)"', 1)[1].split(".EE", 1)[0]
    return [line.split() for line in block.splitlines() if line.startswith(("/", "//"))]


def test_manpage_fstab_example_makes_remote_mount_units(workdir):
    """Run systemd's fstab generator on the manual page's example: the dtypefs mount must be a
    remote mount (after the network), mounted after the share it requires."""
    generator = require_tool("/lib/systemd/system-generators/systemd-fstab-generator", "systemd")
    lines = manpage_fstab_lines()
    assert [fields[2] for fields in lines] == ["cifs", FSTYPE], lines
    assert "mfsymlinks" in lines[0][3].split(",")
    fstab = write_fstab(workdir / "fstab", [tuple(fields) for fields in lines])
    out = workdir / "generated"
    out.mkdir()
    result = run([generator, out, out, out], env=dict(os.environ, SYSTEMD_FSTAB=str(fstab),
                                                     SYSTEMD_LOG_LEVEL="warning"))
    assert result.returncode == 0, describe(result)
    share_dir = lines[1][1]
    unit_name = run(["systemd-escape", "--path", "--suffix=mount", share_dir]).stdout.strip()
    raw_name = run(["systemd-escape", "--path", "--suffix=mount", lines[0][1]]).stdout.strip()
    unit = read_unit(out / unit_name)
    assert unit["Mount"]["Type"] == FSTYPE
    assert unit["Mount"]["What"] == lines[0][1]
    assert lines[0][1] in unit["Unit"]["RequiresMountsFor"].split()
    assert (out / "remote-fs.target.wants" / unit_name).exists(), (
        f"{unit_name} must be a remote mount (needs _netdev): {sorted(p.name for p in out.rglob('*'))}")
    assert (out / "remote-fs.target.wants" / raw_name).exists()
    assert not (out / "local-fs.target.wants" / unit_name).exists()
    analyze = shutil.which("systemd-analyze")
    if analyze:
        result = run([analyze, "verify", "--man=no", out / unit_name],
                     env=dict(os.environ, SYSTEMD_UNIT_PATH=f"{out}:"))
        assert result.returncode == 0 and not result.stderr.strip(), describe(result)


# ---------------------------------------------------------------------------------------------
# The manual page.

def test_manpage_renders_cleanly():
    groff = require_tool("groff", "groff")
    result = run([groff, "-man", "-Tutf8", "-ww", "-z", MANPAGE])
    assert result.returncode == 0 and not result.stderr.strip(), describe(result)
    man = require_tool("man", "man-db")
    result = run([man, "-P", "cat", "-l", MANPAGE], env=dict(os.environ, MANWIDTH="100"))
    assert result.returncode == 0 and not result.stderr.strip(), describe(result)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FSTAB", "SYSTEMD", "EXIT STATUS",
                    "SIGNALS", "LOGGING", "FILES", "SEE ALSO"):
        assert re.search(rf"^{section}$", result.stdout, re.MULTILINE), f"section {section} missing"
    for option in ("dtype=verify", "allow_other", "noallow_other", "attr_timeout=", "entry_timeout=",
                   "negative_timeout=", "max_threads=", "fsname=", "-f", "-d", "--help", "--version",
                   "--json", "--recursive", "x-systemd.requires-mounts-for=", "mount.fuse3(8)",
                   "mount.cifs(8)", "fusermount3(1)", "mount --fstab"):
        assert option in result.stdout, f"{option} is not documented"
