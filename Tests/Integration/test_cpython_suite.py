"""CPython's own filesystem tests, run inside a dtypefs mount over a plain directory: thousands of
POSIX edge cases (hard links, renames, utimensat, xattrs, chmod/chown, sparse files, tar and zip
round trips) written by people who were not thinking of dtypefs. Natively they take about 20 s."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from fsmount import mounted_dtypefs

SUITE = ["test_os", "test_shutil", "test_glob", "test_pathlib", "test_tarfile", "test_posix",
         "test_stat", "test_fileinput", "test_tempfile", "test_zipfile"]
TIMEOUT = 1500  # seconds; natively the suite takes ~20 s on this machine kind


def have_cpython_tests() -> str | None:
    probe = subprocess.run([sys.executable, "-c", "import test.support, test.libregrtest"],
                           capture_output=True, text=True)
    return None if probe.returncode == 0 else probe.stderr


def failing_cases(output: str, limit: int = 12000) -> str:
    """Each unittest 'ERROR:'/'FAIL:' block (its traceback) from regrtest's -W output."""
    lines = output.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.startswith(("ERROR: ", "FAIL: ")):
            end = i + 1
            while end < len(lines) and not lines[end].startswith(("=====", "-----", "Ran ")) \
                    or end == i + 1:
                end += 1
            # the dashes line after the header, then the traceback up to the next separator
            while end < len(lines) and not lines[end].startswith(("=====", "Ran ")):
                end += 1
            blocks.append("\n".join(lines[i:end]))
    text = "\n".join(blocks) or "(no ERROR:/FAIL: blocks found)"
    return text if len(text) <= limit else text[:limit] + "\n... (cut)"


@pytest.mark.slow
def test_cpython_filesystem_suite_inside_mount(workdir):
    missing = have_cpython_tests()
    assert missing is None, (
        f"{sys.executable} has no `test` package (CPython's regression tests), so this test cannot "
        f"run. Run pytest with a Python that ships it (the image's /root/.pyenv CPython does; for "
        f"Debian's /usr/bin/python3.11: apt-get install libpython3.11-testsuite):\n{missing}")
    src, mnt = workdir / "src", workdir / "mnt"
    with mounted_dtypefs(src, mnt) as daemon:
        started = time.monotonic()
        try:
            result = subprocess.run(
                # -W: show a failing test file's own output (which case, which errno), no rerun.
                [sys.executable, "-m", "test", "-W", "--tempdir", str(mnt), *SUITE],
                cwd=mnt, capture_output=True, text=True, timeout=TIMEOUT,
                stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as expired:
            out = (expired.stdout or b"")
            out = out.decode(errors="replace") if isinstance(out, bytes) else out
            pytest.fail(f"CPython suite did not finish within {TIMEOUT}s; output tail:\n"
                        f"{out[-6000:]}")
        elapsed = time.monotonic() - started
        alive = daemon.process.poll() is None
    output = result.stdout + result.stderr
    print(f"CPython suite through dtypefs: {elapsed:.1f}s, exit {result.returncode}")
    print(output[-3000:])
    assert alive, "dtypefs died during the CPython suite"
    assert result.returncode == 0 and "Result: SUCCESS" in output, \
        f"CPython suite failed through dtypefs (exit {result.returncode}, {elapsed:.0f}s).\n" \
        f"Failing cases:\n{failing_cases(output)}\nSummary:\n{result.stdout[-1500:]}"
