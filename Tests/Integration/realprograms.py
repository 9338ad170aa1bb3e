"""Real programs run over one tree held three ways, with their outputs normalised for comparison.

The tree is built with the same operations (mkdir, write, chmod, symlink) in:
- a plain directory with real symlinks: the reference;
- the CIFS emulator, where each symlink becomes a 1067-byte XSym file listed as DT_REG;
- dtypefs over the emulator, which must list the same tree as the reference.

Each program is a function `program(root) -> output` whose output names paths relative to `root`
and holds no timestamps, inode numbers or block counts, so that outputs from the three roots can be
compared with `==`. Programs are in two groups:
- TRUSTS_DTYPE: tools that take a known d_type at its word. On the raw emulator they must give a
  different (wrong) answer; that is what proves the test can fail.
- EQUALITY_ONLY: tools that are right even on the raw emulator (du, ls -l, tar, rsync, cp -a lstat
  every entry), so their tests only demand equality with the reference.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

# (kind, relative path, payload): payload is bytes for files, the target for links.
TREE = [
    ("dir", "dir", None),
    ("file", "dir/a.txt", b"alpha\n"),
    ("dir", "dir/sub", None),
    ("file", "dir/sub/b.txt", b"bravo\n"),
    ("symlink", "dir/up_file", "../top.txt"),
    ("symlink", "dir/sub/deep_link", "../../deep/a/b"),
    ("dir", "deep", None),
    ("dir", "deep/a", None),
    ("dir", "deep/a/b", None),
    ("dir", "deep/a/b/c", None),
    ("file", "deep/a/b/c/leaf.txt", b"leaf\n"),
    ("file", "deep/a/b/note.md", b"# note\n"),
    ("file", "top.txt", b"top\n"),
    ("file", "run.sh", b"#!/bin/sh\necho hi\n"),
    ("file", "empty", b""),
    # A regular file of exactly the XSym size but not in the XSym format: still a regular file.
    ("file", "decoy.bin", b"x" * 1067),
    ("file", ".hidden", b"hidden\n"),
    ("symlink", "link_file", "top.txt"),
    ("symlink", "link_dir", "dir"),
    ("symlink", "link_deep", "deep/a"),
    ("symlink", "link_link", "link_file"),
    ("symlink", "dangling", "missing/target"),
    ("dir", "empty_dir", None),
]
MODES = {"run.sh": 0o755, "dir/sub": 0o750, "top.txt": 0o600}
LINKS = [path for kind, path, _ in TREE if kind == "symlink"]
XSYM_SIZE = 1067


def build_tree(root: Path) -> None:
    """Make TREE under `root` (created if missing) with ordinary system calls."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for kind, rel, payload in TREE:
        path = root / rel
        if kind == "dir":
            path.mkdir()
        elif kind == "file":
            path.write_bytes(payload)
        else:
            os.symlink(payload, path)
    for rel, mode in MODES.items():
        os.chmod(root / rel, mode)


def assert_backing_holds_xsym(backing_tree: Path) -> None:
    """The emulator's backing store must hold each link as an XSym file, or the emulator is not
    emulating and every comparison below would pass for the wrong reason."""
    for rel in LINKS:
        st = os.lstat(backing_tree / rel)
        assert stat.S_ISREG(st.st_mode) and st.st_size == XSYM_SIZE, f"{rel} is not an XSym file"
        assert (backing_tree / rel).read_bytes().startswith(b"XSym\n")


def tree_listing(root) -> list[str]:
    """An lstat-only listing (never d_type): type, path, permissions, and content hash or target."""
    root = os.fspath(root)
    out = []

    def visit(rel: str) -> None:
        path = os.path.join(root, rel) if rel else root
        for name in sorted(os.listdir(path)):
            child = os.path.join(rel, name) if rel else name
            full = os.path.join(root, child)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                out.append(f"l {child} -> {os.readlink(full)}")
            elif stat.S_ISDIR(st.st_mode):
                out.append(f"d {child} {stat.S_IMODE(st.st_mode):o}")
                visit(child)
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()[:16]
                out.append(f"f {child} {stat.S_IMODE(st.st_mode):o} {st.st_size} {digest}")
            else:
                out.append(f"? {child} {stat.S_IFMT(st.st_mode):o}")

    visit("")
    return out


def rel(root, path) -> str:
    root = os.fspath(root).rstrip("/")
    path = os.fspath(path).rstrip("/")
    if path == root:
        return "."
    assert path.startswith(root + "/"), (root, path)
    return path[len(root) + 1:]


def run(args, cwd=None, env=None) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                            errors="surrogateescape")
    if result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}: {result.stderr}")
    return result.stdout


def run_status(args, cwd=None) -> tuple[int, str, str]:
    """For tools whose non-zero exit is part of the answer (find on a dangling link with -L)."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, errors="surrogateescape")
    return result.returncode, result.stdout, result.stderr


def lines_relative(root, text: str) -> list[str]:
    return sorted(rel(root, line) for line in text.splitlines() if line)


# ---------------------------------------------------------------------------------------------
# Python's standard library: scandir's DirEntry answers is_dir/is_file/is_symlink from d_type.

def py_os_walk(root):
    return sorted((rel(root, d), sorted(dirs), sorted(files)) for d, dirs, files in os.walk(root))


def py_os_walk_followlinks(root):
    return sorted((rel(root, d), sorted(dirs), sorted(files))
                  for d, dirs, files in os.walk(root, followlinks=True))


def py_os_fwalk(root):
    return sorted((rel(root, d), sorted(dirs), sorted(files)) for d, dirs, files, _ in os.fwalk(root))


def py_os_fwalk_follow(root):
    return sorted((rel(root, d), sorted(dirs), sorted(files))
                  for d, dirs, files, _ in os.fwalk(root, follow_symlinks=True))


def py_scandir(root):
    out = []

    def visit(path):
        with os.scandir(path) as entries:
            for entry in entries:
                out.append((rel(root, entry.path), entry.is_dir(), entry.is_file(), entry.is_symlink(),
                            entry.is_dir(follow_symlinks=False), entry.is_file(follow_symlinks=False)))
                if entry.is_dir(follow_symlinks=False):
                    visit(entry.path)

    visit(root)
    return sorted(out)


PATHLIB_PATTERNS = ["**/*", "*/*", "**/*/*", "**"]


def py_pathlib_glob(root):
    root = Path(root)
    return {pattern: sorted(rel(root, p) for p in root.glob(pattern)) for pattern in PATHLIB_PATTERNS}


def py_pathlib_rglob(root):
    root = Path(root)
    return sorted(rel(root, p) for p in root.rglob("*"))


GLOB_PATTERNS = ["**", "**/", "*/*", "**/*.txt"]


def py_glob_recursive(root):
    return {pattern: sorted(glob.glob(pattern, root_dir=root, recursive=True, include_hidden=True))
            for pattern in GLOB_PATTERNS}


def py_copytree_symlinks(root):
    """copytree(symlinks=True) out of `root` into a plain directory; the copy's lstat listing, or
    the errors copytree raised (on the emulator it opens links to directories as files)."""
    with tempfile.TemporaryDirectory(prefix="copytree-") as tmp:
        dest = Path(tmp) / "copy"
        try:
            shutil.copytree(root, dest, symlinks=True)
        except shutil.Error as error:
            return {"errors": sorted(rel(root, src) for src, _dst, _why in error.args[0]),
                    "listing": tree_listing(dest)}
        except OSError as error:
            return {"error": f"{type(error).__name__}: {error.strerror}", "listing": []}
        return {"errors": [], "listing": tree_listing(dest)}


# ---------------------------------------------------------------------------------------------
# GNU find uses gnulib fts, which trusts d_type for -type when it needs nothing else.

FIND_QUERIES = {
    "type_l": ["-type", "l"],
    "type_d": ["-type", "d"],
    "type_f": ["-type", "f"],
    "xtype_d": ["-xtype", "d"],
}


def gnu_find(query):
    def program(root):
        return lines_relative(root, run(["find", str(root), *FIND_QUERIES[query]]))
    program.__name__ = f"find_{query}"
    return program


def gnu_find_follow(root):
    # -L makes find stat through links; the dangling link then makes find exit 1 with a message
    # that names it, which is part of the answer.
    result = {}
    for query in ("-type d", "-type f", "-type l"):
        code, out, err = run_status(["find", "-L", str(root), *query.split()])
        result[query] = {"exit": code, "paths": lines_relative(root, out),
                         "errors": sorted(line.replace(str(root), "ROOT") for line in err.splitlines())}
    return result


# ---------------------------------------------------------------------------------------------
# fd and ripgrep walk with Rust's `ignore` crate, which takes the type from the directory entry.

FD_QUERIES = {
    "type_l": ["-t", "l"],
    "type_d": ["-t", "d"],
    "type_f": ["-t", "f"],
    "follow_type_f": ["-L", "-t", "f"],
    "follow_type_d": ["-L", "-t", "d"],
}


def fdfind(query):
    def program(root):
        out = run(["fdfind", "-H", "-I", "--color", "never", *FD_QUERIES[query], ".", str(root)])
        return lines_relative(root, out)
    program.__name__ = f"fdfind_{query}"
    return program


def rg_files(root):
    return lines_relative(root, run(["rg", "--files", "-uuu", str(root)]))


def rg_files_follow(root):
    # Following links, rg reports the dangling one on stderr and exits 2: part of the answer.
    code, out, err = run_status(["rg", "--files", "-uuu", "-L", str(root)])
    return {"exit": code, "paths": lines_relative(root, out),
            "errors": sorted(line.replace(str(root), "ROOT") for line in err.splitlines())}


# ---------------------------------------------------------------------------------------------
# Node: Dirent types come straight from uv_fs_scandir / readdir's d_type.

NODE_READDIR = r"""
const fs = require('fs'), path = require('path');
const root = process.argv[1], out = [];
function kind(d) { return [d.isFile(), d.isDirectory(), d.isSymbolicLink()]; }
function walk(dir) {
  for (const d of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, d.name);
    out.push([path.relative(root, p), ...kind(d)]);
    if (d.isDirectory()) walk(p);
  }
}
walk(root);
out.sort();
console.log(JSON.stringify(out));
"""

NODE_OPENDIR = r"""
const fs = require('fs'), path = require('path');
const root = process.argv[1];
async function walk(dir, out) {
  const handle = await fs.promises.opendir(dir);
  for await (const d of handle) {
    const p = path.join(dir, d.name);
    out.push([path.relative(root, p), d.isFile(), d.isDirectory(), d.isSymbolicLink()]);
    if (d.isDirectory()) await walk(p, out);
  }
  return out;
}
walk(root, []).then(out => { out.sort(); console.log(JSON.stringify(out)); });
"""


def node_readdir_withfiletypes(root):
    return json.loads(run(["node", "-e", NODE_READDIR, str(root)]))


def node_opendir(root):
    return json.loads(run(["node", "-e", NODE_OPENDIR, str(root)]))


# ---------------------------------------------------------------------------------------------
# ls: -l lstats every entry; --file-type only needs the type, which GNU ls then takes from d_type.

def ls_long(root):
    out = run(["ls", "-lAR", "--time-style=+", str(root)], env={"LC_ALL": "C", "PATH": os.environ["PATH"]})
    lines = []
    for line in out.replace(str(root), "ROOT").splitlines():
        # "total" counts blocks, which differ between an XSym file and a real link.
        if line.startswith("total "):
            continue
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[0][0] in "-dlbcps":
            # mode, size, name[ -> target]; link counts and owners are not what is under test.
            lines.append(f"{fields[0]} {fields[4]} {fields[5].strip()}")
        else:
            lines.append(line)
    return lines


def ls_file_type(root):
    return run(["ls", "-AR", "--file-type", str(root)],
               env={"LC_ALL": "C", "PATH": os.environ["PATH"]}).replace(str(root), "ROOT").splitlines()


# Colours for directories, links and orphans only: with every colour that needs the mode (ex, su,
# sg, ca, tw, ow, st, mh) switched off, GNU ls colours by d_type without calling lstat.
LS_COLORS_BY_TYPE = "rs=0:di=01;34:ln=01;36:or=40;31;01:mi=00:fi=0:ex=00:su=00:sg=00:ca=00:tw=00:ow=00:st=00:mh=00"


def ls_color(root):
    env = {"LC_ALL": "C", "PATH": os.environ["PATH"], "LS_COLORS": LS_COLORS_BY_TYPE}
    return run(["ls", "-AR", "--color=always", str(root)], env=env).replace(str(root), "ROOT").splitlines()


# ---------------------------------------------------------------------------------------------
# du, tar, rsync, cp -a: each lstats every entry, so they are right even on the raw emulator.

def du_apparent(root):
    # Directory sizes are the backing filesystem's, the same for the three roots (all on one fs),
    # except that a FUSE root may differ: the root's own line is left out.
    out = run(["du", "-ab", str(root)])
    rows = [line.split("\t", 1) for line in out.splitlines()]
    return sorted((rel(root, path), size) for size, path in rows if rel(root, path) != ".")


def du_inodes(root):
    out = run(["du", "-a", "--inodes", str(root)])
    return sorted((rel(root, path), count) for count, path in (l.split("\t", 1) for l in out.splitlines()))


def tar_round_trip(root):
    with tempfile.TemporaryDirectory(prefix="tar-") as tmp:
        archive = subprocess.run(["tar", "-C", str(root), "-cf", "-", "."], capture_output=True)
        assert archive.returncode == 0, archive.stderr
        members = subprocess.run(["tar", "-tvf", "-"], input=archive.stdout, capture_output=True)
        subprocess.run(["tar", "-C", tmp, "-xf", "-"], input=archive.stdout, check=True)
        # Member types and link targets as tar recorded them (t -v: mode column and "->").
        kinds = sorted(" ".join([line.split()[0][0], *line.split()[5:]])
                       for line in members.stdout.decode(errors="surrogateescape").splitlines())
        return {"members": kinds, "extracted": tree_listing(tmp)}


def rsync_archive(root):
    with tempfile.TemporaryDirectory(prefix="rsync-") as tmp:
        run(["rsync", "-a", f"{root}/", f"{tmp}/copy/"])
        return tree_listing(Path(tmp) / "copy")


def cp_archive(root):
    with tempfile.TemporaryDirectory(prefix="cp-") as tmp:
        run(["cp", "-a", str(root), f"{tmp}/copy"])
        return tree_listing(Path(tmp) / "copy")


TRUSTS_DTYPE = [
    py_os_walk, py_os_walk_followlinks, py_os_fwalk, py_os_fwalk_follow, py_scandir, py_pathlib_glob,
    py_glob_recursive, py_copytree_symlinks,
    gnu_find("type_l"), gnu_find("type_f"), gnu_find_follow,
    fdfind("type_l"), fdfind("type_f"), fdfind("follow_type_f"), fdfind("follow_type_d"),
    rg_files, rg_files_follow,
    node_readdir_withfiletypes, node_opendir,
    ls_file_type, ls_color,
]
# Right on the raw emulator too, so only equality with the reference is demanded:
# - pathlib's rglob("*") lists every name and recurses only into real directories, either way;
# - find/fd -type d trust d_type, but DT_REG and DT_LNK both say "not a directory";
# - find -xtype, ls -l, du, tar, rsync and cp -a lstat every entry.
EQUALITY_ONLY = [py_pathlib_rglob, gnu_find("type_d"), gnu_find("xtype_d"), fdfind("type_d"), ls_long,
                 du_apparent, du_inodes, tar_round_trip, rsync_archive, cp_archive]
