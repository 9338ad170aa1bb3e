"""Real programs over the CIFS emulator, through dtypefs, against the same tree with real symlinks.

Layout of the module's mounts (all in one private temp directory):
    ref/      plain directory: the reference, with real symlinks
    backing/  the emulator's backing store (links are XSym files here)
    emu/      the CIFS emulator over backing/        -> shows the bug
    mnt/      dtypefs over emu/                      -> must equal ref/

Every program's output through dtypefs must equal its output on ref/. For the programs that trust
d_type, the same program on emu/ must differ from ref/: that shows the test can fail, and that the
emulator still emulates.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

import realprograms as rp
from fsmount import mounted_dtypefs, mounted_emulator

# Read-only programs share one tree per root, built before dtypefs mounts so no cache is stale.
SHARED = "tree"
# Mutating tests get their own copy per root, built at setup the same way.
MUTABLE = ["rmtree", "git"]


class Roots:
    def __init__(self, base: Path):
        self.base = base
        self.ref = base / "ref"
        self.backing = base / "backing"
        self.emu = base / "emu"
        self.mnt = base / "mnt"
        self.outside = base / "outside"

    def trees(self, name: str) -> dict[str, Path]:
        """The three views of tree `name`: reference, raw emulator, dtypefs over the emulator.
        The emulator's and dtypefs's copies are distinct trees when a test mutates them."""
        if name == SHARED:
            return {"ref": self.ref / name, "emu": self.emu / name, "dtypefs": self.mnt / name}
        return {"ref": self.ref / name, "emu": self.emu / f"{name}-emu", "dtypefs": self.mnt / f"{name}-dt"}


# dtype=unknown is the documented fallback (every entry DT_UNKNOWN, programs lstat themselves):
# the programs must be right with it too. "share" adds what a real share does besides the link
# lie (test_share_behaviours.py): unstable inode numbers, case-folding names, no xattrs, no hard
# links. (Directories listed as DT_FIFO would fool the raw-emulator controls below as well:
# test_share_behaviours.py covers that lie.)
SHARE_OPTIONS = ["noserverino", "nocase", "noxattr", "nolink"]
SETUPS = {"dtype=verify": ("dtype=verify", []), "dtype=unknown": ("dtype=unknown", []),
          "share": ("dtype=verify", SHARE_OPTIONS)}


@pytest.fixture(scope="module", params=sorted(SETUPS))
def roots(request, tmp_path_factory):
    dtype, emulator_options = SETUPS[request.param]
    base = tmp_path_factory.mktemp("realprograms")
    r = Roots(base)
    for d in (r.ref, r.backing, r.emu, r.mnt, r.outside):
        d.mkdir()
    with mounted_emulator(r.backing, r.emu, options=emulator_options) as emulator:
        for name in [SHARED, *MUTABLE]:
            rp.build_tree(r.ref / name)
            rp.build_tree(r.emu / (name if name == SHARED else f"{name}-emu"))
            if name != SHARED:
                rp.build_tree(r.emu / f"{name}-dt")
        rp.assert_backing_holds_xsym(r.backing / SHARED)
        with mounted_dtypefs(r.emu, r.mnt, options=[dtype]) as dtypefs:
            yield r
            assert dtypefs.process.poll() is None, "dtypefs died during the module"
        assert emulator.process.poll() is None


def outputs(program, trees):
    return {view: program(root) for view, root in trees.items()}


@pytest.mark.parametrize("program", rp.TRUSTS_DTYPE, ids=lambda p: p.__name__)
def test_dtype_trusting_program(roots, program):
    out = outputs(program, roots.trees(SHARED))
    assert out["dtypefs"] == out["ref"]
    assert out["emu"] != out["ref"], (
        f"{program.__name__} gives the right answer on the raw emulator: this test could not fail")


@pytest.mark.parametrize("program", rp.EQUALITY_ONLY, ids=lambda p: p.__name__)
def test_program_that_stats_every_entry(roots, program):
    # These are right even on the raw emulator (see realprograms.EQUALITY_ONLY): equality only.
    out = outputs(program, roots.trees(SHARED))
    assert out["dtypefs"] == out["ref"]
    assert out["emu"] == out["ref"]


def test_rmtree_removes_links_not_their_targets(roots):
    # shutil.rmtree asks is_dir(follow_symlinks=False): DT_REG and DT_LNK both answer no, so it is
    # right on the raw emulator too; what is checked is that nothing behind a link is removed.
    target = roots.outside / "keep"
    target.mkdir()
    (target / "precious.txt").write_bytes(b"keep me\n")
    results = {}
    for view, tree in roots.trees("rmtree").items():
        os.symlink(str(target), tree / "to_outside")
        os.symlink(str(target / "precious.txt"), tree / "dir" / "to_outside_file")
        shutil.rmtree(tree)
        results[view] = (tree.exists(), sorted(os.listdir(tree.parent)).count(tree.name),
                         rp.tree_listing(roots.outside))
    assert results["dtypefs"] == results["ref"]
    assert results["emu"] == results["ref"]
    assert results["ref"][0] is False and (target / "precious.txt").read_bytes() == b"keep me\n"


GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
}


def git(root, *args) -> str:
    env = {**os.environ, **GIT_ENV}
    return rp.run(["git", "-C", str(root), *args], env=env)


def git_session(root):
    git(root, "init", "-q")
    out = {"untracked": sorted(git(root, "status", "--porcelain", "--untracked-files=all").splitlines())}
    git(root, "add", "-A")
    out["index"] = git(root, "ls-files", "-s").splitlines()
    git(root, "commit", "-q", "-m", "tree with symlinks")
    out["tree"] = git(root, "rev-parse", "HEAD^{tree}").strip()
    out["clean"] = git(root, "status", "--porcelain", "--untracked-files=all")
    (root / "link_dir").unlink()
    os.symlink("deep", root / "link_dir")
    out["changed"] = git(root, "status", "--porcelain").splitlines()
    return out


def test_git_repository_holding_symlinks(roots):
    # git's untracked scan takes d_type, but treats DT_REG and DT_LNK alike (both are leaves) and
    # lstats before indexing: right on the raw emulator, so equality only. The index must record
    # the links as mode 120000, the commit must be clean, and a retargeted link must show modified.
    out = {view: git_session(tree) for view, tree in roots.trees("git").items()}
    assert out["dtypefs"] == out["ref"]
    assert out["emu"] == out["ref"]
    modes = {line.split("\t")[1]: line.split()[0] for line in out["ref"]["index"]}
    assert all(modes[link] == "120000" for link in rp.LINKS)
    assert out["ref"]["clean"] == "" and out["ref"]["changed"] == [" M link_dir"]


def test_git_clone_checks_out_symlinks(roots):
    source = roots.base / "git-source"
    rp.build_tree(source)
    git(source, "init", "-q")
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "source")
    out = {}
    for view, parent in (("ref", roots.ref), ("emu", roots.emu), ("dtypefs", roots.mnt)):
        clone = parent / f"clone-{view}"
        rp.run(["git", "clone", "-q", str(source), str(clone)], env={**os.environ, **GIT_ENV})
        out[view] = {"status": git(clone, "status", "--porcelain", "--untracked-files=all"),
                     "listing": [line for line in rp.tree_listing(clone) if not line.split()[1].startswith(".git")],
                     "walk": rp.py_os_walk(clone)}
    assert out["dtypefs"] == out["ref"]
    assert out["ref"]["status"] == ""
    # The clone on the raw emulator is listed wrongly by os.walk (links among the files).
    assert out["emu"]["walk"] != out["ref"]["walk"]
    assert out["emu"]["listing"] == out["ref"]["listing"]


def copy_in_tar(src: Path, dest: Path):
    dest.mkdir()
    archive = subprocess.run(["tar", "-C", str(src), "-cf", "-", "."], capture_output=True, check=True)
    subprocess.run(["tar", "-C", str(dest), "-xf", "-"], input=archive.stdout, check=True)


def copy_in_python_tarfile(src: Path, dest: Path):
    archive = dest.parent / f"{dest.name}.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(src, arcname=".")
    dest.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="tar") if hasattr(tarfile, "tar_filter") else tar.extractall(dest)
    archive.unlink()


def copy_in_copytree(src: Path, dest: Path):
    shutil.copytree(src, dest, symlinks=True)


def copy_in_rsync(src: Path, dest: Path):
    rp.run(["rsync", "-a", f"{src}/", f"{dest}/"])


def copy_in_cp(src: Path, dest: Path):
    rp.run(["cp", "-a", str(src), str(dest)])


@pytest.mark.parametrize("copy", [copy_in_tar, copy_in_python_tarfile, copy_in_copytree, copy_in_rsync,
                                  copy_in_cp], ids=lambda c: c.__name__[len("copy_in_"):])
def test_copy_into_mount(roots, copy):
    """Links created through dtypefs (stored as XSym by the emulator) must read back as links, and
    walkers must then list them as links."""
    name = f"into-{copy.__name__}"
    src = roots.ref / SHARED
    dests = {"ref": roots.ref / name, "emu": roots.emu / f"{name}-emu", "dtypefs": roots.mnt / f"{name}-dt"}
    for dest in dests.values():
        copy(src, dest)
    listings = {view: rp.tree_listing(dest) for view, dest in dests.items()}
    walks = {view: rp.py_os_walk(dest) for view, dest in dests.items()}
    assert listings["dtypefs"] == listings["ref"]
    assert walks["dtypefs"] == walks["ref"]
    assert listings["emu"] == listings["ref"]
    assert walks["emu"] != walks["ref"]
    rp.assert_backing_holds_xsym(roots.backing / f"{name}-dt")
