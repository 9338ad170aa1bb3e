"""`dtypefs check` against the real thing: on the CIFS emulator it must flag each XSym link by name
and exit 1; through dtypefs (dtype=verify, the default) the same tree must be honest (exit 0); and
through dtype=passthrough it must lie again, which proves the exit-0 result is the mount's doing and
not a blind spot of the check."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import fsmount

# The lying entries of the tree built by `make_tree`, relative to its root: every link made
# through the emulator is an XSym file that getdents reports as DT_REG.
LINKS = {
    "results/linked": ("../source", "directory"),
    "results/link.txt": ("../source/link.txt", "file"),
    "results/dangling": ("../nowhere", None),
    "source/nested/up": ("..", "directory"),
}
# Every entry under the root: 3 directories, 3 files, 4 links (4 directories walked, with the root).
ENTRY_COUNT = 10




def make_tree(root: Path) -> None:
    """The README's example, made with plain os calls so that on the emulator links become XSym."""
    (root / "source" / "nested").mkdir(parents=True)
    (root / "source" / "link.txt").write_text("the file\n")
    (root / "source" / "other.txt").write_text("other\n")
    (root / "results").mkdir()
    (root / "results" / "plain.txt").write_text("plain\n")
    for path, (target, _) in LINKS.items():
        os.symlink(target, root / path)


def check(*args) -> subprocess.CompletedProcess:
    return subprocess.run([fsmount.dtypefs_binary(), "check", *map(str, args)],
                          capture_output=True, timeout=120)


def lying_lines(stdout: bytes) -> list[str]:
    return [line for line in stdout.decode().splitlines() if ": d_type " in line]


def test_check_flags_each_xsym_link_on_the_emulator(workdir):
    src, emu = workdir / "src", workdir / "emu"
    with fsmount.mounted_emulator(src, emu):
        make_tree(emu)
        result = check("-r", emu)
    assert result.returncode == 1, result.stderr.decode()
    assert result.stderr == b""
    lines = lying_lines(result.stdout)
    assert len(lines) == len(LINKS), result.stdout.decode()
    assert f"{emu}/results/linked: d_type DT_REG, lstat symlink -> ../source (directory)" in lines
    assert f"{emu}/results/link.txt: d_type DT_REG, lstat symlink -> ../source/link.txt (file)" in lines
    assert f"{emu}/results/dangling: d_type DT_REG, lstat symlink -> ../nowhere (dangling)" in lines
    assert f"{emu}/source/nested/up: d_type DT_REG, lstat symlink -> .. (directory)" in lines
    out = result.stdout.decode()
    assert f"checked {ENTRY_COUNT} entries in 4 directories" in out
    assert f"{len(LINKS)} entries lie about their type" in out
    assert f"{len(LINKS)}  DT_REG, really symlink" in out
    assert "plain.txt" not in "\n".join(lines)


def test_check_json_on_the_emulator_lists_the_links(workdir):
    src, emu = workdir / "src", workdir / "emu"
    with fsmount.mounted_emulator(src, emu):
        make_tree(emu)
        result = check("--json", "--recursive", emu)
    assert result.returncode == 1, result.stderr.decode()
    report = json.loads(result.stdout)
    assert report["paths"] == [str(emu)]
    assert report["recursive"] is True
    found = {Path(entry["path"]).relative_to(emu).as_posix(): entry for entry in report["entries"]}
    assert set(found) == set(LINKS)
    for path, (target, target_type) in LINKS.items():
        entry = found[path]
        assert (entry["d_type"], entry["reported"], entry["actual"]) == ("DT_REG", "file", "symlink")
        assert entry["target"] == target
        assert entry["target_type"] == target_type
    assert found["results/dangling"]["target_type_error"] == "No such file or directory"
    summary = report["summary"]
    assert summary["entries"] == ENTRY_COUNT
    assert summary["directories"] == 4
    assert summary["lying"] == len(LINKS)
    assert summary["lies_by_type"] == [{"d_type": "DT_REG", "actual": "symlink", "count": len(LINKS)}]
    assert report["errors"] == []
    assert report["exit_status"] == 1


def test_check_through_dtypefs_is_honest(workdir):
    src, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    with fsmount.mounted_emulator(src, emu):
        make_tree(emu)
        assert check("-r", emu).returncode == 1  # the control: the share itself lies
        with fsmount.mounted_dtypefs(emu, mnt):
            text = check("-r", mnt)
            as_json = check("--json", "-r", mnt)
    assert text.returncode == 0, text.stdout.decode() + text.stderr.decode()
    assert lying_lines(text.stdout) == []
    assert f"checked {ENTRY_COUNT} entries in 4 directories" in text.stdout.decode()
    assert "no entry lies about its type" in text.stdout.decode()
    assert as_json.returncode == 0
    report = json.loads(as_json.stdout)
    assert report["entries"] == []
    assert report["summary"]["entries"] == ENTRY_COUNT
    assert report["summary"]["lying"] == 0
    assert report["summary"]["unknown"] == 0


def test_check_sees_the_lies_through_dtype_passthrough(workdir):
    """dtype=passthrough forwards the share's d_type: the check must catch it through FUSE too."""
    src, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    with fsmount.mounted_emulator(src, emu):
        make_tree(emu)
        with fsmount.mounted_dtypefs(emu, mnt, options=("dtype=passthrough",)):
            result = check("-r", mnt)
    assert result.returncode == 1, result.stdout.decode() + result.stderr.decode()
    assert f"{mnt}/results/linked: d_type DT_REG, lstat symlink -> ../source (directory)" \
        in lying_lines(result.stdout)


def test_check_counts_dtype_unknown_as_honest(workdir):
    src, emu, mnt = workdir / "src", workdir / "emu", workdir / "mnt"
    with fsmount.mounted_emulator(src, emu):
        make_tree(emu)
        with fsmount.mounted_dtypefs(emu, mnt, options=("dtype=unknown",)):
            result = check("--json", "-r", mnt)
    assert result.returncode == 0, result.stderr.decode()
    summary = json.loads(result.stdout)["summary"]
    assert summary["lying"] == 0
    assert summary["unknown"] == summary["entries"] == ENTRY_COUNT


def test_check_names_non_utf8_links_byte_exactly(workdir):
    src, emu = workdir / "src", workdir / "emu"
    name = b"bad\xff\nname"
    with fsmount.mounted_emulator(src, emu):
        os.symlink(b"target", os.fsencode(emu) + b"/" + name)
        text = check(emu)
        as_json = check("--json", emu)
    assert text.returncode == 1
    assert lying_lines(text.stdout) == [f"{emu}/bad\\xff\\x0aname: d_type DT_REG, lstat symlink -> target (dangling)"]
    assert as_json.returncode == 1
    (entry,) = json.loads(as_json.stdout)["entries"]
    # Invalid bytes travel as lone surrogates (surrogateescape): fsencode gives the exact name back.
    assert os.fsencode(entry["path"]) == os.fsencode(emu) + b"/" + name


def test_check_errors_exit_2_and_name_the_path(workdir):
    src, emu = workdir / "src", workdir / "emu"
    with fsmount.mounted_emulator(src, emu):
        make_tree(emu)
        not_dir = check(emu / "results" / "plain.txt")
        missing = check(emu / "absent", emu)
    assert not_dir.returncode == 2
    assert f"{emu}/results/plain.txt: cannot open as a directory: Not a directory" in not_dir.stderr.decode()
    # The other PATH is still checked, and its lies still reported, but an incomplete check is 2.
    assert missing.returncode == 2
    assert f"{emu}/absent: cannot open as a directory: No such file or directory" in missing.stderr.decode()
    assert "checked 2 entries in 1 directory" in missing.stdout.decode()
    assert "no entry lies about its type" in missing.stdout.decode()  # non-recursive: no link at the top
