"""install.sh and uninstall.sh, into private prefixes."""
from __future__ import annotations

import filecmp
import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from mountctl import INSTALL, MANPAGE, UNINSTALL, UNIT, describe, read_unit, run, under_ci


# ---------------------------------------------------------------------------------------------
# (e) install.sh / uninstall.sh, into private prefixes.

def installed_files(prefix: Path, unitdir: Path) -> dict[str, Path]:
    return {"bin": prefix / "bin" / "dtypefs", "man": prefix / "share" / "man" / "man8" / "dtypefs.8",
            "unit": unitdir / "dtypefs@.service"}


def test_install_and_uninstall_into_a_prefix(built_binary, workdir):
    prefix, unitdir = workdir / "usr-local", workdir / "units"
    env = dict(os.environ, UNITDIR=str(unitdir))
    env.pop("DESTDIR", None)
    files = installed_files(prefix, unitdir)
    try:
        for attempt in (1, 2):  # the second run checks idempotence
            result = run(["bash", INSTALL, "--binary", built_binary, prefix], env=env)
            assert result.returncode == 0, f"attempt {attempt}: {describe(result)}"
            for path in files.values():
                assert str(path) in result.stdout, f"install.sh should report {path}:\n{result.stdout}"
            assert "not on mount.fuse3's PATH" in result.stderr, (
                f"a prefix outside mount.fuse3's PATH deserves a warning:\n{describe(result)}")
        assert stat.S_IMODE(files["bin"].stat().st_mode) == 0o755
        assert stat.S_IMODE(files["man"].stat().st_mode) == 0o644
        assert stat.S_IMODE(files["unit"].stat().st_mode) == 0o644
        assert filecmp.cmp(files["bin"], built_binary, shallow=False)
        assert files["man"].read_bytes() == MANPAGE.read_bytes()

        version = run([files["bin"], "--version"])
        assert version.returncode == 0 and "dtypefs" in version.stdout.lower(), describe(version)
        page = run(["man", "-P", "cat", "-l", files["man"]])
        assert page.returncode == 0 and "dtypefs" in page.stdout and not page.stderr.strip(), describe(page)
        # man finds it by name under the prefix, too.
        page = run(["man", "-P", "cat", "dtypefs"], env=dict(os.environ, MANPATH=str(prefix / "share" / "man")))
        assert page.returncode == 0 and "SYNOPSIS" in page.stdout, describe(page)

        unit = read_unit(files["unit"])
        assert shlex.split(unit["Service"]["ExecStart"])[0] == str(files["bin"])
        assert files["unit"].read_text().replace(str(files["bin"]), "/usr/local/bin/dtypefs") == UNIT.read_text()
        analyze = shutil.which("systemd-analyze")
        if analyze:
            result = run([analyze, "verify", files["unit"]],
                         env=dict(os.environ, MANPATH=str(prefix / "share" / "man")))
            assert result.returncode == 0 and not result.stderr.strip(), describe(result)
        elif under_ci():
            pytest.fail("CI must verify the installed unit: systemd-analyze is missing (apt-get install systemd)")

        for attempt in (1, 2):
            result = run(["bash", UNINSTALL, prefix], env=env)
            assert result.returncode == 0, describe(result)
            for name, path in files.items():
                assert not os.path.lexists(path), f"uninstall.sh left {name}: {path}"
        assert "nothing to remove" in result.stdout
    finally:
        if any(os.path.lexists(p) for p in files.values()):
            subprocess.run(["bash", UNINSTALL, str(prefix)], env=env, capture_output=True)


def test_install_with_destdir_and_prefix_usr(built_binary, workdir):
    """Staged packaging layout: PREFIX=/usr puts the unit in /usr/lib/systemd/system and points it
    at /usr/bin/dtypefs; nothing outside DESTDIR changes."""
    destdir = workdir / "stage"
    env = dict(os.environ, DESTDIR=str(destdir))
    env.pop("UNITDIR", None)
    result = run(["bash", INSTALL, "--binary", built_binary, "/usr"], env=env)
    assert result.returncode == 0, describe(result)
    assert "not on mount.fuse3's PATH" not in result.stderr, describe(result)
    staged = sorted(str(p.relative_to(destdir)) for p in destdir.rglob("*") if p.is_file())
    assert staged == ["usr/bin/dtypefs", "usr/lib/systemd/system/dtypefs@.service",
                      "usr/share/man/man8/dtypefs.8"], staged
    unit = read_unit(destdir / "usr/lib/systemd/system/dtypefs@.service")
    assert shlex.split(unit["Service"]["ExecStart"])[0] == "/usr/bin/dtypefs"
    result = run(["bash", UNINSTALL, "/usr"], env=env)
    assert result.returncode == 0, describe(result)
    assert [p for p in destdir.rglob("*") if p.is_file()] == []


def test_uninstall_keeps_a_unit_that_runs_another_binary(built_binary, workdir):
    unitdir = workdir / "units"
    env = dict(os.environ, UNITDIR=str(unitdir))
    env.pop("DESTDIR", None)
    first, second = workdir / "first", workdir / "second"
    try:
        for prefix in (first, second):
            result = run(["bash", INSTALL, "--binary", built_binary, prefix], env=env)
            assert result.returncode == 0, describe(result)
        result = run(["bash", UNINSTALL, first], env=env)
        assert result.returncode == 0, describe(result)
        assert "keeping" in result.stdout, describe(result)
        assert (unitdir / "dtypefs@.service").exists(), "the unit now belongs to the second install"
        assert not (first / "bin" / "dtypefs").exists()
        assert (second / "bin" / "dtypefs").exists()
    finally:
        for prefix in (first, second):
            subprocess.run(["bash", UNINSTALL, str(prefix)], env=env, capture_output=True)


@pytest.mark.parametrize("args, message", [
    (["relative/prefix"], "PREFIX must be an absolute path"),
    (["--binary", "/nonexistent/dtypefs", "/tmp/unused-prefix"], "no executable binary"),
    (["--frobnicate"], "unknown option '--frobnicate'"),
])
def test_install_reports_bad_arguments(workdir, args, message):
    env = dict(os.environ, UNITDIR=str(workdir / "units"))
    result = run(["bash", INSTALL, *args], env=env)
    assert result.returncode != 0, describe(result)
    assert message in result.stderr, describe(result)
    assert not (workdir / "units").exists(), "nothing may be installed after an error"
    assert not Path("/tmp/unused-prefix").exists()


def test_uninstall_refuses_while_an_instance_is_enabled(built_binary, workdir):
    prefix, unitdir = workdir / "p", workdir / "units"
    env = dict(os.environ, UNITDIR=str(unitdir))
    env.pop("DESTDIR", None)
    try:
        result = run(["bash", INSTALL, "--binary", built_binary, prefix], env=env)
        assert result.returncode == 0, describe(result)
        wants = unitdir / "remote-fs.target.wants"
        wants.mkdir()
        os.symlink(unitdir / "dtypefs@.service", wants / "dtypefs@srv-share.service")
        result = run(["bash", UNINSTALL, prefix], env=env)
        assert result.returncode != 0 and "still enabled" in result.stderr, describe(result)
        assert (unitdir / "dtypefs@.service").exists() and (prefix / "bin" / "dtypefs").exists()
        os.unlink(wants / "dtypefs@srv-share.service")
        result = run(["bash", UNINSTALL, prefix], env=env)
        assert result.returncode == 0, describe(result)
    finally:
        subprocess.run(["bash", UNINSTALL, str(prefix)], env=env, capture_output=True)
