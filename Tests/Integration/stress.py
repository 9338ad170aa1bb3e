#!/usr/bin/env python3
"""Concurrent walkers and writers on one directory tree, for a fixed time.

    python3 Tests/Integration/stress.py DIR --minutes 10 [--pid DAEMON_PID] [--json OUT]

Writers (default 4) each own a subtree `wN/` where they create files and symlinks, write, rename,
unlink, mkdir and rmdir with names never reused, keeping a model of what they made; there every
error counts. They also race each other in `shared/` over a small pool of names, where only the
races' own ENOENT and EEXIST are allowed.

Walkers (default 8) walk the whole tree over and over (scandir recursion, os.walk, os.fwalk),
lstat every entry and read links and files. A name outside `shared/` never changes type, so the
type a listing gives must equal lstat's; an entry vanishing between listing and use (ENOENT) is the
only error allowed.

With --pid, the daemon's open descriptors and RSS are sampled and printed every --sample seconds
under load, and once more when the workers have stopped ("idle").
At the end the writers' subtrees must match their models exactly. Exit status 0 when clean.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import random
import stat
import sys
import threading
import time

ALLOWED_RACE_ERRORS = {errno.ENOENT, errno.EEXIST}
# The name libfuse's high-level API (and so the CIFS emulator) gives a file unlinked while open.
HIDDEN_PREFIX = ".fuse_hidden"
POOL_FILES = [f"p{i}" for i in range(12)]
POOL_DIRS = [f"pd{i}" for i in range(6)]


def daemon_sample(pid: int) -> dict:
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss = 0
    threads = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return {"fds": fds, "rss_kib": rss, "threads": threads}


class Errors:
    def __init__(self, limit: int = 200):
        self.lock = threading.Lock()
        self.items: list[str] = []
        self.count = 0
        self.limit = limit

    def add(self, text: str) -> None:
        with self.lock:
            self.count += 1
            if len(self.items) < self.limit:
                self.items.append(text)


def describe(error: OSError) -> str:
    return errno.errorcode.get(error.errno, str(error.errno))


class Writer(threading.Thread):
    def __init__(self, index: int, root: str, seed: int, stop: threading.Event, errors: Errors,
                 population: int = 150, shared_fraction: float = 0.25):
        super().__init__(name=f"writer{index}", daemon=True)
        self.index = index
        self.root = root
        self.home = f"w{index}"
        self.rng = random.Random(seed * 1000 + index)
        self.stop = stop
        self.errors = errors
        self.population = population
        self.shared_fraction = shared_fraction
        self.counter = 0
        # The model of the private subtree: relative path -> ("f", bytes) | ("l", target) | ("d",).
        self.model: dict[str, tuple] = {self.home: ("d",)}
        self.ops = 0
        self.race_errors = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.index}-{self.counter}"

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def dirs(self) -> list[str]:
        return [p for p, v in self.model.items() if v[0] == "d"]

    def leaves(self, kind: str) -> list[str]:
        return [p for p, v in self.model.items() if v[0] == kind]

    def empty_dirs(self) -> list[str]:
        parents = {os.path.dirname(p) for p in self.model}
        return [d for d in self.dirs() if d not in parents and d != self.home]

    def run(self) -> None:
        os.makedirs(self.path(self.home), exist_ok=True)
        while not self.stop.is_set():
            self.ops += 1
            try:
                if self.rng.random() < self.shared_fraction:
                    self.shared_op()
                else:
                    self.private_op()
            except OSError as error:
                self.errors.add(f"{self.name}: {describe(error)} {error.filename}: {error}")

    # -- private subtree: every error is a bug --------------------------------------------------

    def private_op(self) -> None:
        rng = self.rng
        crowded = len(self.model) > self.population
        choice = rng.choices(
            ["create", "symlink", "write", "rename", "unlink", "mkdir", "rmdir"],
            [3, 3, 4, 4, 8 if crowded else 2, 1 if crowded else 2, 4 if crowded else 1])[0]
        parent = rng.choice(self.dirs())
        if choice == "create":
            rel = os.path.join(parent, self.fresh("f"))
            data = os.urandom(rng.choice([0, 1, 100, 4096, 5000]))
            fd = os.open(self.path(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            self.model[rel] = ("f", data)
        elif choice == "symlink":
            rel = os.path.join(parent, self.fresh("l"))
            target = rng.choice(["../x", "target", "a/b/c", "." * 3, "x" * rng.randint(1, 300)])
            os.symlink(target, self.path(rel))
            self.model[rel] = ("l", target)
        elif choice == "write":
            files = self.leaves("f")
            if not files:
                return
            rel = rng.choice(files)
            extra = os.urandom(rng.randint(1, 3000))
            with open(self.path(rel), "ab") as f:
                f.write(extra)
            self.model[rel] = ("f", self.model[rel][1] + extra)
        elif choice == "rename":
            candidates = [p for p in self.model if p != self.home]
            if not candidates:
                return
            rel = rng.choice(candidates)
            kind = self.model[rel][0]
            # A directory moves only within its parent, so it can never land inside itself.
            dest_parent = os.path.dirname(rel) if kind == "d" else rng.choice(self.dirs())
            dest = os.path.join(dest_parent, self.fresh("r" + kind))
            os.rename(self.path(rel), self.path(dest))
            moved = {p: v for p, v in self.model.items() if p == rel or p.startswith(rel + "/")}
            for p in moved:
                del self.model[p]
            for p, v in moved.items():
                self.model[dest + p[len(rel):]] = v
        elif choice == "unlink":
            leaves = self.leaves("f") + self.leaves("l")
            if not leaves:
                return
            rel = rng.choice(leaves)
            os.unlink(self.path(rel))
            del self.model[rel]
        elif choice == "mkdir":
            if parent.count("/") > 6:
                return
            rel = os.path.join(parent, self.fresh("d"))
            os.mkdir(self.path(rel))
            self.model[rel] = ("d",)
        elif choice == "rmdir":
            empty = self.empty_dirs()
            if not empty:
                return
            rel = rng.choice(empty)
            try:
                os.rmdir(self.path(rel))
            except OSError as error:
                if error.errno != errno.ENOTEMPTY or not self.held_open_by_a_walker(rel):
                    raise
                self.race_errors += 1
                return
            del self.model[rel]

    def held_open_by_a_walker(self, rel: str) -> bool:
        """After ENOTEMPTY on a directory the model says is empty: true if what keeps it non-empty
        is only the backing fs's hidden names for files unlinked while a walker had them open
        (libfuse's .fuse_hidden*, which the CIFS emulator keeps like a CIFS server keeps a
        delete-pending file), or was, and the directory now goes away."""
        extras = [n for n in os.listdir(self.path(rel)) if os.path.join(rel, n) not in self.model]
        if not extras:
            os.rmdir(self.path(rel))
            del self.model[rel]
            return True
        return all(n.startswith(HIDDEN_PREFIX) for n in extras)

    # -- shared pool: writers race; ENOENT and EEXIST are the races' own -------------------------

    def shared_op(self) -> None:
        rng = self.rng
        name = rng.choice(POOL_FILES)
        path = os.path.join(self.root, "shared", name)
        try:
            choice = rng.choice(["create", "symlink", "rename", "unlink", "mkdir", "rmdir"])
            if choice == "create":
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    os.write(fd, b"shared\n")
                finally:
                    os.close(fd)
            elif choice == "symlink":
                os.symlink(rng.choice(POOL_FILES), path)
            elif choice == "rename":
                os.rename(path, os.path.join(self.root, "shared", rng.choice(POOL_FILES)))
            elif choice == "unlink":
                os.unlink(path)
            elif choice == "mkdir":
                os.mkdir(os.path.join(self.root, "shared", rng.choice(POOL_DIRS)))
            else:
                os.rmdir(os.path.join(self.root, "shared", rng.choice(POOL_DIRS)))
        except OSError as error:
            if error.errno not in ALLOWED_RACE_ERRORS:
                raise
            self.race_errors += 1

    def verify(self) -> list[str]:
        """After the run: the subtree on disk must be exactly the model."""
        problems = []
        found = {}
        for dirpath, dirnames, filenames in os.walk(self.path(self.home)):
            rel_dir = os.path.relpath(dirpath, self.root)
            found[rel_dir] = "d"
            for name in dirnames + filenames:
                found[os.path.join(rel_dir, name)] = None
        for rel in list(found):
            try:
                st = os.lstat(self.path(rel))
            except FileNotFoundError:
                if os.path.basename(rel).startswith(HIDDEN_PREFIX):
                    del found[rel]  # released since the listing
                    continue
                raise
            found[rel] = "l" if stat.S_ISLNK(st.st_mode) else "d" if stat.S_ISDIR(st.st_mode) else "f"
        for rel, value in self.model.items():
            if found.get(rel) != value[0]:
                problems.append(f"{rel}: expected {value[0]}, found {found.get(rel)}")
            elif value[0] == "f":
                with open(self.path(rel), "rb") as f:
                    if f.read() != value[1]:
                        problems.append(f"{rel}: content differs")
            elif value[0] == "l" and os.readlink(self.path(rel)) != value[1]:
                problems.append(f"{rel}: link target differs")
        for rel in found.keys() - self.model.keys():
            if not os.path.basename(rel).startswith(HIDDEN_PREFIX):
                problems.append(f"{rel}: not made by the writer")
        return problems


class Walker(threading.Thread):
    STYLES = ["scandir", "walk", "fwalk", "scandir"]

    def __init__(self, index: int, root: str, seed: int, stop: threading.Event, errors: Errors):
        super().__init__(name=f"walker{index}", daemon=True)
        self.root = root
        self.style = self.STYLES[index % len(self.STYLES)]
        self.rng = random.Random(seed * 2000 + index)
        self.stop = stop
        self.errors = errors
        self.entries = 0
        self.walks = 0
        self.vanished = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                getattr(self, f"walk_{self.style}")()
                self.walks += 1
            except OSError as error:
                # os.fwalk lets a listing error through (a directory removed while open).
                if error.errno == errno.ENOENT:
                    self.vanished += 1
                    continue
                self.errors.add(f"{self.name}: {describe(error)} {error.filename}: {error}")

    def tolerate(self, error: OSError) -> None:
        if error.errno != errno.ENOENT:
            raise error
        self.vanished += 1

    def in_shared(self, path: str) -> bool:
        return os.path.relpath(path, self.root).split(os.sep)[0] == "shared"

    def check_entry(self, path: str, listed: str | None) -> None:
        """lstat (and readlink or read) one listed entry; its type must be the listed one."""
        try:
            st = os.lstat(path)
        except OSError as error:
            return self.tolerate(error)
        self.entries += 1
        actual = "l" if stat.S_ISLNK(st.st_mode) else "d" if stat.S_ISDIR(st.st_mode) else "f"
        if listed is not None and actual != listed and not self.in_shared(path):
            self.errors.add(f"{self.name}: {path} listed as {listed}, lstat says {actual}")
        try:
            if actual == "l":
                os.readlink(path)
            elif actual == "f" and self.rng.random() < 0.1:
                with open(path, "rb") as f:
                    f.read(8192)
        except OSError as error:
            # In the pool a name can become a directory, a file or a link (to itself, say)
            # between lstat and use.
            if self.in_shared(path) and error.errno in (errno.EINVAL, errno.EISDIR, errno.ELOOP):
                return
            self.tolerate(error)

    def walk_scandir(self, path: str | None = None) -> None:
        path = path or self.root
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as error:
            return self.tolerate(error)
        for entry in entries:
            if self.stop.is_set():
                return
            listed = ("l" if entry.is_symlink() else "d" if entry.is_dir(follow_symlinks=False) else "f")
            self.check_entry(entry.path, listed)
            if listed == "d":
                self.walk_scandir(entry.path)

    def walk_walk(self) -> None:
        for dirpath, dirnames, filenames in os.walk(self.root, onerror=self.tolerate):
            if self.stop.is_set():
                return
            for name in dirnames + filenames:
                self.check_entry(os.path.join(dirpath, name), None)

    def walk_fwalk(self) -> None:
        for dirpath, dirnames, filenames, dirfd in os.fwalk(self.root, onerror=self.tolerate):
            if self.stop.is_set():
                return
            for name in filenames:
                try:
                    os.lstat(name, dir_fd=dirfd)
                    self.entries += 1
                except OSError as error:
                    self.tolerate(error)


def run_stress(root: str, seconds: float, walkers: int = 8, writers: int = 4, pid: int | None = None,
               sample_every: float = 60.0, seed: int = 1, log=print, shared_fraction: float = 0.25) -> dict:
    os.makedirs(os.path.join(root, "shared"), exist_ok=True)
    stop = threading.Event()
    errors = Errors()
    writer_threads = [Writer(i, root, seed, stop, errors, shared_fraction=shared_fraction)
                      for i in range(writers)]
    walker_threads = [Walker(i, root, seed, stop, errors) for i in range(walkers)]
    samples = []
    started = time.monotonic()
    for t in writer_threads + walker_threads:
        t.start()
    next_sample = started + sample_every
    deadline = started + seconds
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if pid is not None and now >= next_sample:
                sample = {"t": round(now - started), "phase": "load", **daemon_sample(pid)}
                samples.append(sample)
                log(f"stress: t={sample['t']}s fds={sample['fds']} rss={sample['rss_kib']} KiB "
                    f"threads={sample['threads']} errors={errors.count}")
                next_sample += sample_every
            time.sleep(min(0.5, max(0.01, min(deadline, next_sample) - now)))
    finally:
        stop.set()
        for t in writer_threads + walker_threads:
            t.join(timeout=60)
    if pid is not None:
        sample = {"t": round(time.monotonic() - started), "phase": "idle", **daemon_sample(pid)}
        samples.append(sample)
        log(f"stress: end t={sample['t']}s fds={sample['fds']} rss={sample['rss_kib']} KiB "
            f"threads={sample['threads']}")
    stuck = [t.name for t in writer_threads + walker_threads if t.is_alive()]
    model_problems = []
    for w in writer_threads:
        if not w.is_alive():
            model_problems += w.verify()
    return {
        "seconds": round(time.monotonic() - started, 1),
        "errors": errors.items, "error_count": errors.count, "stuck_threads": stuck,
        "model_problems": model_problems[:100], "model_problem_count": len(model_problems),
        "writer_ops": sum(w.ops for w in writer_threads),
        "race_errors": sum(w.race_errors for w in writer_threads),
        "walks": sum(w.walks for w in walker_threads),
        "entries_checked": sum(w.entries for w in walker_threads),
        "vanished": sum(w.vanished for w in walker_threads),
        "samples": samples,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float)
    length.add_argument("--seconds", type=float)
    parser.add_argument("--walkers", type=int, default=8)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--pid", type=int, help="daemon whose fds and RSS to sample")
    parser.add_argument("--sample", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shared-fraction", type=float, default=0.25,
                        help="share of writer operations racing in shared/ (default 0.25)")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else 60 * (args.minutes or 1)
    result = run_stress(args.dir, seconds, args.walkers, args.writers, args.pid, args.sample, args.seed,
                        log=lambda line: print(line, flush=True), shared_fraction=args.shared_fraction)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)
    print(f"stress: {result['seconds']} s, {result['writer_ops']} writer ops ({result['race_errors']} "
          f"ENOENT/EEXIST races), {result['walks']} walks, {result['entries_checked']} entries checked, "
          f"{result['vanished']} vanished under a walker")
    for line in result["errors"]:
        print(f"stress: ERROR {line}")
    for line in result["model_problems"]:
        print(f"stress: MODEL {line}")
    bad = result["error_count"] or result["model_problem_count"] or result["stuck_threads"]
    print(f"stress: {'FAILED' if bad else 'OK'}: {result['error_count']} errors, "
          f"{result['model_problem_count']} model problems, stuck threads: {result['stuck_threads'] or 'none'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
