"""Mount flags through dtypefs act on the backing as they would on a local filesystem."""
from __future__ import annotations

import os
import time

import pytest

from fsmount import mounted_dtypefs


@pytest.mark.parametrize("flag, updated", [("noatime", False), ("strictatime", True)])
def test_reading_through_the_mount_follows_its_atime_rule(workdir, flag, updated):
    # xfstests generic/120: with noatime a read (or an exec) must not update the access time.
    src, mnt = workdir / "src", workdir / "mnt"
    (src / "f").write_text("data\n")
    two_days_ago = time.time() - 2 * 86400
    os.utime(src / "f", (two_days_ago, two_days_ago))
    with mounted_dtypefs(src, mnt, options=[flag]):
        assert (mnt / "f").read_text() == "data\n"
        atime = os.stat(src / "f").st_atime
    assert (atime > two_days_ago + 3600) == updated, (flag, atime, two_days_ago)
