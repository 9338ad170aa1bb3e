"""CPython's filesystem test modules inside dtypefs over the CIFS emulator, against the same modules
on the raw emulator.

    cd MNT && python3 -m test --tempdir MNT --junit-xml OUT MODULES...

A test failing through dtypefs must also fail on the raw emulator: then it is a limitation of the
emulator (what a CIFS mount does differently from a local disk), not of dtypefs. A test failing
through dtypefs only is a dtypefs bug. The report lists both sets.

The reverse direction is reported too: tests the raw emulator fails and dtypefs passes are what
dtypefs fixes (os.walk and friends meeting a symlink listed as DT_REG).

Slow (several minutes): marked `slow`.
"""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from fsmount import mounted_dtypefs, mounted_emulator

MODULES = ["test_os", "test_shutil", "test_glob", "test_pathlib", "test_tarfile", "test_posix", "test_stat",
           "test_fileinput", "test_tempfile", "test_zipfile"]
TIMEOUT = 3600


def have_test_package() -> bool:
    return subprocess.run([sys.executable, "-c", "import test.test_os"], capture_output=True).returncode == 0


def run_suite(directory, junit, log) -> dict[str, str]:
    """Run the modules with `directory` as working and temp directory; test id -> outcome."""
    with open(log, "w") as out:
        # TMPDIR stays as it is: regrtest's --tempdir already puts each test's files in the mount,
        # while with TMPDIR there test_shutil dies on import (os_helper.can_xattr removes a
        # directory holding a file it unlinked while open: on the emulator, as on CIFS, that file
        # lives on under a hidden name and the directory is not empty).
        subprocess.run([sys.executable, "-m", "test", "--tempdir", str(directory), "--junit-xml", str(junit),
                        *MODULES], cwd=directory, stdout=out, stderr=subprocess.STDOUT, timeout=TIMEOUT,
                       stdin=subprocess.DEVNULL)
    outcomes = {}
    for case in ET.parse(junit).iter("testcase"):
        tags = {child.tag for child in case}
        outcome = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
        outcomes[case.get("name")] = outcome
    return outcomes


def failed(outcomes) -> set[str]:
    return {name for name, outcome in outcomes.items() if outcome == "failed"}


def silent_modules(outcomes) -> list[str]:
    return [m for m in MODULES if not any(name.startswith(f"test.{m}.") for name in outcomes)]


# A share with unstable inode numbers and one whose names fold case (issue 12), beside the plain one.
@pytest.mark.slow
@pytest.mark.skipif(not have_test_package(), reason="this Python has no test package (Debian: libpython3-testsuite)")
@pytest.mark.parametrize("share", ["plain", "noserverino", "nocase"])
def test_cpython_filesystem_suite_over_emulator(workdir, share):
    backing, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    (backing / "raw").mkdir()
    (backing / "through").mkdir()
    with mounted_emulator(backing, emu, options=[] if share == "plain" else [share]):
        raw = run_suite(emu / "raw", workdir / "raw.xml", workdir / "raw.log")
        with mounted_dtypefs(emu, mnt) as dtypefs:
            through = run_suite(mnt / "through", workdir / "through.xml", workdir / "through.log")
            assert dtypefs.process.poll() is None, "dtypefs died during the suite"
    assert len(through) > 1000, f"the suite hardly ran; see {workdir / 'through.log'}"
    # A module that dies on import or setup leaves no test cases at all: count it as failing.
    silent_raw, silent_through = silent_modules(raw), silent_modules(through)
    print(f"\nmodules with no results (crashed): raw emulator {silent_raw}, through dtypefs {silent_through}")
    emulator_limits = sorted(failed(through) & failed(raw))
    dtypefs_only = sorted(failed(through) - failed(raw))
    fixed = sorted(failed(raw) - failed(through))
    print(f"failing on the raw emulator and through dtypefs (emulator limitations): {len(emulator_limits)}")
    print("\n".join(f"  {name}" for name in emulator_limits))
    print(f"failing only through dtypefs: {len(dtypefs_only)}")
    print("\n".join(f"  {name}" for name in dtypefs_only))
    print(f"failing only on the raw emulator (fixed by dtypefs): {len(fixed)}")
    print("\n".join(f"  {name}" for name in fixed))
    assert dtypefs_only == [], f"dtypefs-only failures; logs: {workdir / 'through.log'}"
    assert set(silent_through) <= set(silent_raw), f"modules crashing only through dtypefs; see {workdir / 'through.log'}"
