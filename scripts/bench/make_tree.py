#!/usr/bin/env python3
"""Generate a deterministic benchmark tree of N entries under ROOT.

The mix (of N, the root itself not counted): ~9% directories nested as a random recursive tree
(depth grows like ln N, a few very wide directories near the top, as in real source trees), ~80%
regular files of a few KiB, ~5% symlinks to directories, ~5% symlinks to files and ~1% dangling
symlinks. Every symlink target is relative, so the tree means the same through any mount, and no
link points at one of its own ancestors (no cycles for walkers that follow links).

The same --seed and --entries always give the same names, targets and sizes. The counts by type
are written as JSON to --manifest (default: stdout), so the benchmark can check that every system
reports the whole tree with the right types.

--link-root: create the symlinks beneath this directory instead of ROOT (same relative paths).
Used for the CIFS emulator: directories and files go straight into the backing directory, links go
through the emulator's mount so that they are stored as XSym files, as Linux CIFS writes them.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

DIR_SHARE, LINK_DIR_SHARE, LINK_FILE_SHARE, DANGLING_SHARE = 0.09, 0.05, 0.05, 0.01


def plan(entries: int, seed: int, min_size: int, max_size: int):
    """The tree as lists of relative paths: dirs (parents first), files with sizes, links with
    targets. Pure: no I/O, so the same arguments always give the same plan."""
    rng = random.Random(seed)
    n_dirs = max(1, round(entries * DIR_SHARE))
    n_ldir = round(entries * LINK_DIR_SHARE)
    n_lfile = round(entries * LINK_FILE_SHARE)
    n_dangling = round(entries * DANGLING_SHARE)
    n_files = max(1, entries - n_dirs - n_ldir - n_lfile - n_dangling)

    dirs = [""]  # "" is the root; dirs[i] for i >= 1 are the created directories
    for i in range(1, n_dirs + 1):
        parent = dirs[rng.randrange(len(dirs))]
        dirs.append(os.path.join(parent, f"d{i:07d}"))

    files = []
    for i in range(n_files):
        parent = dirs[rng.randrange(len(dirs))]
        files.append((os.path.join(parent, f"f{i:07d}.dat"), rng.randint(min_size, max_size)))

    def relative(target: str, link_dir: str) -> str:
        return os.path.relpath(target or ".", link_dir or ".")

    links = []
    def is_self_or_ancestor(target: str, link_dir: str) -> bool:
        return link_dir == target or link_dir.startswith(target + "/")

    for i in range(n_ldir):
        link_dir = dirs[rng.randrange(len(dirs))]
        target = dirs[rng.randrange(1, len(dirs))]
        for _ in range(100):  # no link to its own directory or an ancestor: no cycles
            if not is_self_or_ancestor(target, link_dir):
                break
            target = dirs[rng.randrange(1, len(dirs))]
        else:
            link_dir = ""  # the root is never beneath another directory
        links.append((os.path.join(link_dir, f"ld{i:07d}"), relative(target, link_dir)))
    for i in range(n_lfile):
        link_dir = dirs[rng.randrange(len(dirs))]
        target = files[rng.randrange(len(files))][0]
        links.append((os.path.join(link_dir, f"lf{i:07d}"), relative(target, link_dir)))
    for i in range(n_dangling):
        link_dir = dirs[rng.randrange(len(dirs))]
        links.append((os.path.join(link_dir, f"lx{i:07d}"), f"missing-{i:07d}/nothing"))

    return dirs[1:], files, links


def build(root: str, link_root: str, entries: int, seed: int, min_size: int, max_size: int) -> dict:
    dirs, files, links = plan(entries, seed, min_size, max_size)
    os.makedirs(root, exist_ok=True)
    for d in dirs:  # parents always come before their children
        os.mkdir(os.path.join(root, d))
    chunk = (b"dtypefs-bench " * ((max_size // 14) + 2))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for path, size in files:
        fd = os.open(os.path.join(root, path), flags, 0o644)
        try:
            if size:
                os.write(fd, chunk[:size])
        finally:
            os.close(fd)
    dir_links = file_links = dangling = 0
    for path, target in links:
        os.symlink(target, os.path.join(link_root, path))
        name = os.path.basename(path)
        if name.startswith("lx"):
            dangling += 1
        elif name.startswith("ld"):
            dir_links += 1
        else:
            file_links += 1
    return {
        "entries": len(dirs) + len(files) + len(links),
        "dirs": len(dirs),
        "files": len(files),
        "links": len(links),
        "links_to_dirs": dir_links,
        "links_to_files": file_links,
        "links_dangling": dangling,
        "file_bytes": sum(size for _, size in files),
        "seed": seed,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="directory to fill (created if missing; must be empty)")
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-size", type=int, default=1024, help="smallest file, bytes")
    parser.add_argument("--max-size", type=int, default=4096, help="largest file, bytes")
    parser.add_argument("--link-root", help="create the symlinks beneath this directory instead")
    parser.add_argument("--manifest", help="write the counts as JSON here (default: stdout)")
    args = parser.parse_args(argv)
    if os.path.isdir(args.root) and os.listdir(args.root):
        parser.error(f"{args.root} is not empty")
    counts = build(args.root, args.link_root or args.root, args.entries, args.seed,
                   args.min_size, args.max_size)
    text = json.dumps(counts, indent=2) + "\n"
    if args.manifest:
        with open(args.manifest, "w") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
