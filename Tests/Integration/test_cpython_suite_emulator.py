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

import os
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
        subprocess.run([sys.executable, "-m", "test", "--tempdir", str(directory), "--junit-xml", str(junit),
                        *MODULES], cwd=directory, stdout=out, stderr=subprocess.STDOUT, timeout=TIMEOUT,
                       env={**os.environ, "TMPDIR": str(directory)})
    outcomes = {}
    for case in ET.parse(junit).iter("testcase"):
        tags = {child.tag for child in case}
        outcome = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
        outcomes[case.get("name")] = outcome
    return outcomes


def failed(outcomes) -> set[str]:
    return {name for name, outcome in outcomes.items() if outcome == "failed"}


@pytest.mark.slow
@pytest.mark.skipif(not have_test_package(), reason="this Python has no test package (Debian: libpython3-testsuite)")
def test_cpython_filesystem_suite_over_emulator(workdir):
    backing, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    (backing / "raw").mkdir()
    (backing / "through").mkdir()
    with mounted_emulator(backing, emu):
        raw = run_suite(emu / "raw", workdir / "raw.xml", workdir / "raw.log")
        with mounted_dtypefs(emu, mnt) as dtypefs:
            through = run_suite(mnt / "through", workdir / "through.xml", workdir / "through.log")
            assert dtypefs.process.poll() is None, "dtypefs died during the suite"
    assert len(through) > 1000, f"the suite hardly ran; see {workdir / 'through.log'}"
    emulator_limits = sorted(failed(through) & failed(raw))
    dtypefs_only = sorted(failed(through) - failed(raw))
    fixed = sorted(failed(raw) - failed(through))
    print(f"\nfailing on the raw emulator and through dtypefs (emulator limitations): {len(emulator_limits)}")
    print("\n".join(f"  {name}" for name in emulator_limits))
    print(f"failing only through dtypefs: {len(dtypefs_only)}")
    print("\n".join(f"  {name}" for name in dtypefs_only))
    print(f"failing only on the raw emulator (fixed by dtypefs): {len(fixed)}")
    print("\n".join(f"  {name}" for name in fixed))
    assert dtypefs_only == [], f"dtypefs-only failures; logs: {workdir / 'through.log'}"
