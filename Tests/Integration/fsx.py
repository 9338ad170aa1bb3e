#!/usr/bin/env python3
"""fsx-style random I/O checker: seeded random operations on a few files in DIR, each result checked
against an in-memory model of every file's bytes.

    python3 Tests/Integration/fsx.py --ops 100000 --seed 7 DIR [--backing BACKING_DIR]

Operations: write (pwrite, or append on an O_APPEND descriptor), read (pread), mmap read, mmap write
(MAP_SHARED + msync; also through an O_APPEND descriptor), ftruncate, fallocate (plain, KEEP_SIZE,
PUNCH_HOLE, ZERO_RANGE), copy_file_range between the files, reopen (plain, O_APPEND, O_TRUNC), fsync,
fstat and a whole-file read through a fresh descriptor. Every read is compared with the model at
once; so are sizes.

A fallocate mode that DIR refuses with EOPNOTSUPP is disabled for the run and reported (callers
compare that set with the one of the filesystem underneath). With --backing, the files are also read
directly from BACKING_DIR at the end (after fsync), which must equal the model too.

On a mismatch it prints the seed, the failing operation, where the bytes differ, and the last
operations; the whole log goes to a file whose path it prints. Exit status: 0 clean, 1 mismatch or
unexpected error, 2 usage.
"""
from __future__ import annotations

import argparse
import ctypes
import errno
import mmap
import os
import random
import sys
import tempfile
import time

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10
FALLOCATE_MODES = {
    "plain": 0,
    "keep_size": FALLOC_FL_KEEP_SIZE,
    "punch_hole": FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
    "zero_range": FALLOC_FL_ZERO_RANGE,
    "zero_range_keep_size": FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
}

WEIGHTS = {
    "write": 20, "read": 20, "mmap_read": 8, "mmap_write": 5, "mmap_write_append_fd": 2, "truncate": 7,
    "fallocate": 7,
    "copy_range": 7, "reopen": 5, "fsync": 2, "stat": 4, "check_file": 2,
}
PAGE = mmap.PAGESIZE

_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]


def fallocate(fd: int, mode: int, offset: int, length: int) -> None:
    while _libc.fallocate(fd, mode, offset, length) != 0:
        err = ctypes.get_errno()
        if err != errno.EINTR:
            raise OSError(err, os.strerror(err))


class Mismatch(Exception):
    pass


def first_difference(expected: bytes, actual: bytes) -> str:
    if len(expected) != len(actual):
        head = f"length {len(actual)}, expected {len(expected)}; "
    else:
        head = ""
    for i, (a, b) in enumerate(zip(expected, actual)):
        if a != b:
            return (f"{head}first difference at +{i}: got {actual[i:i + 16].hex()} "
                    f"expected {expected[i:i + 16].hex()}")
    return head + "common prefix equal"


def probe_fallocate(directory: str) -> dict[str, bool]:
    """Which fallocate modes `directory`'s filesystem accepts (False only for EOPNOTSUPP)."""
    supported = {}
    fd, path = tempfile.mkstemp(prefix=".fsx-probe-", dir=directory)
    try:
        os.write(fd, b"\1" * 3 * PAGE)
        for name, mode in FALLOCATE_MODES.items():
            try:
                fallocate(fd, mode, PAGE, PAGE)
                supported[name] = True
            except OSError as error:
                if error.errno not in (errno.EOPNOTSUPP, errno.ENOSYS):
                    raise
                supported[name] = False
    finally:
        os.close(fd)
        os.unlink(path)
    return supported


class TrackedFile:
    def __init__(self, path: str):
        self.path = path
        self.model = bytearray()
        self.fd = -1
        self.append = False


class Fsx:
    def __init__(self, directory: str, seed: int, ops: int, files: int = 3, max_size: int = 256 * 1024,
                 max_io: int = 64 * 1024, backing: str | None = None, disabled=(), log_path=None,
                 sabotage_at: int | None = None, quiet: bool = False):
        self.dir = directory
        self.seed = seed
        self.ops = ops
        self.rng = random.Random(seed)
        self.max_size = max_size
        self.max_io = max_io
        self.backing = backing
        self.quiet = quiet
        self.sabotage_at = sabotage_at
        self.log: list[str] = []
        self.log_path = log_path
        self.counts: dict[str, int] = {}
        self.files = [TrackedFile(os.path.join(directory, f"fsx-{seed}-{i}")) for i in range(files)]
        self.modes = probe_fallocate(directory)
        self.disabled = list(disabled)
        self.weights = {op: w for op, w in WEIGHTS.items() if op not in disabled}
        if not any(self.modes.values()):
            self.weights.pop("fallocate", None)
        # A byte pattern that names the operation which wrote it, so a stale byte can be traced.
        self.pattern = bytes((i % 251) + 1 for i in range(max_io + 256))
        self.op = 0

    # --- bookkeeping -------------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.log.append(f"#{self.op} {text}")

    def fail(self, message: str) -> None:
        raise Mismatch(message)

    def data(self, length: int) -> bytes:
        start = (self.op * 7) % 251
        return self.pattern[start:start + length]

    def pick(self) -> TrackedFile:
        return self.rng.choice(self.files)

    def length(self, limit: int) -> int:
        # Mostly small, some page-sized and page-crossing, some large.
        choice = self.rng.random()
        if choice < 0.4:
            n = self.rng.randint(1, 512)
        elif choice < 0.7:
            n = self.rng.choice([PAGE - 1, PAGE, PAGE + 1, 2 * PAGE, 3 * PAGE + 17])
        else:
            n = self.rng.randint(1, self.max_io)
        return max(1, min(n, limit))

    def offset(self, f: TrackedFile, slack: int = PAGE) -> int:
        """Below max_size: inside the file, on a page boundary near its end, or anywhere."""
        choice = self.rng.random()
        size = len(f.model)
        if choice < 0.3 and size:
            return self.rng.randrange(0, size)
        if choice < 0.5:
            return min(self.rng.randrange(0, size + slack) // PAGE * PAGE, self.max_size - 1)
        return self.rng.randrange(0, self.max_size)

    def expect_equal(self, f: TrackedFile, where: int, expected: bytes, actual: bytes, how: str) -> None:
        if expected != actual:
            self.fail(f"{how} of {os.path.basename(f.path)} at {where}: {first_difference(expected, actual)}")

    def open(self, f: TrackedFile, append: bool, trunc: bool = False) -> None:
        flags = os.O_RDWR | os.O_CREAT | (os.O_APPEND if append else 0) | (os.O_TRUNC if trunc else 0)
        f.fd = os.open(f.path, flags, 0o644)
        f.append = append
        if trunc:
            f.model.clear()

    # --- operations ----------------------------------------------------------------------------

    def op_write(self, f: TrackedFile) -> None:
        if f.append:
            # On Linux an O_APPEND descriptor appends whatever pwrite's offset says.
            if len(f.model) >= self.max_size:
                return self.op_truncate(f)
            n = self.length(self.max_size - len(f.model))
            data = self.data(n)
            self.note(f"append {os.path.basename(f.path)} len={n} (at {len(f.model)})")
            written = os.write(f.fd, data)
            if written != n:
                self.fail(f"append wrote {written} of {n} bytes")
            f.model += data
            return
        off = self.offset(f)
        n = self.length(self.max_size - off)
        data = self.data(n)
        self.note(f"write {os.path.basename(f.path)} off={off} len={n}")
        written = os.pwrite(f.fd, data, off)
        if written != n:
            self.fail(f"pwrite wrote {written} of {n} bytes")
        if off > len(f.model):
            f.model += bytes(off - len(f.model))
        f.model[off:off + n] = data

    def op_read(self, f: TrackedFile) -> None:
        off = self.offset(f)
        n = self.length(self.max_io)
        self.note(f"read {os.path.basename(f.path)} off={off} len={n}")
        got = os.pread(f.fd, n, off)
        self.expect_equal(f, off, bytes(f.model[off:off + n]), got, "pread")

    def op_mmap_read(self, f: TrackedFile) -> None:
        size = len(f.model)
        if size == 0:
            return self.op_read(f)
        off = self.rng.randrange(0, size)
        n = min(self.length(self.max_io), size - off)
        self.note(f"mmap_read {os.path.basename(f.path)} off={off} len={n} (map {size})")
        with mmap.mmap(f.fd, size, mmap.MAP_SHARED, mmap.PROT_READ) as m:
            got = m[off:off + n]
        self.expect_equal(f, off, bytes(f.model[off:off + n]), got, "mmap read")

    def op_mmap_write(self, f: TrackedFile, through_append_fd: bool = False) -> None:
        """Writes through a shared mapping of a descriptor opened without O_APPEND (a second one
        when the file's current descriptor appends), unless `through_append_fd`."""
        off = self.offset(f)
        n = self.length(self.max_size - off)
        end = off + n
        data = self.data(n)
        own = f.append and not through_append_fd
        fd = os.open(f.path, os.O_RDWR) if own else f.fd
        self.note(f"mmap_write {os.path.basename(f.path)} off={off} len={n} (size {len(f.model)})"
                  f"{' through the O_APPEND descriptor' if f.append and not own else ''}")
        try:
            if end > len(f.model):
                # A mapping cannot grow the file: extend it first, as fsx does.
                os.ftruncate(fd, end)
                f.model += bytes(end - len(f.model))
            with mmap.mmap(fd, end, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
                m[off:end] = data
                m.flush()
        finally:
            if own:
                os.close(fd)
        f.model[off:end] = data

    def op_mmap_write_append_fd(self, f: TrackedFile) -> None:
        """Linux lets an O_RDWR|O_APPEND descriptor be mapped shared and written: the pages must
        land at their offsets, not be appended (a FUSE daemon that opened its backing file with
        O_APPEND and pwrites the kernel's page writeback appends them)."""
        if not f.append:
            return self.op_mmap_write(f)
        self.op_mmap_write(f, through_append_fd=True)

    def op_truncate(self, f: TrackedFile) -> None:
        size = self.rng.choice([0, self.rng.randrange(0, self.max_size + 1),
                                max(0, len(f.model) - self.rng.randint(1, PAGE)),
                                len(f.model) + self.rng.randint(1, PAGE)])
        size = min(size, self.max_size)
        self.note(f"truncate {os.path.basename(f.path)} to {size} (from {len(f.model)})")
        os.ftruncate(f.fd, size)
        if size < len(f.model):
            del f.model[size:]
        else:
            f.model += bytes(size - len(f.model))

    def op_fallocate(self, f: TrackedFile) -> None:
        name = self.rng.choice([m for m, ok in self.modes.items() if ok])
        mode = FALLOCATE_MODES[name]
        off = self.offset(f)
        n = self.length(self.max_size - off)
        self.note(f"fallocate {name} {os.path.basename(f.path)} off={off} len={n} (size {len(f.model)})")
        fallocate(f.fd, mode, off, n)
        end = off + n
        keep = bool(mode & FALLOC_FL_KEEP_SIZE)
        if mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE):
            stop = min(end, len(f.model))
            if off < stop:
                f.model[off:stop] = bytes(stop - off)
        if not keep and end > len(f.model):
            f.model += bytes(end - len(f.model))

    def op_copy_range(self, dst: TrackedFile) -> None:
        sources = [s for s in self.files if s is not dst and s.model]
        if dst.append or not sources:
            # copy_file_range refuses an O_APPEND destination (EBADF): not what is under test here.
            return self.op_write(dst)
        src = self.rng.choice(sources)
        soff = self.rng.randrange(0, len(src.model))
        doff = self.offset(dst)
        n = self.length(self.max_size - doff)
        self.note(f"copy_range {os.path.basename(src.path)}+{soff} -> {os.path.basename(dst.path)}+{doff} "
                  f"len={n} (sizes {len(src.model)} {len(dst.model)})")
        copied = os.copy_file_range(src.fd, dst.fd, n, soff, doff)
        available = min(n, len(src.model) - soff)
        if not (0 < copied <= available):
            self.fail(f"copy_file_range copied {copied} bytes, expected 1..{available}")
        chunk = bytes(src.model[soff:soff + copied])
        if doff > len(dst.model):
            dst.model += bytes(doff - len(dst.model))
        dst.model[doff:doff + copied] = chunk
        if copied < available:
            self.note(f"  (short copy: {copied})")

    def op_reopen(self, f: TrackedFile) -> None:
        append = self.rng.random() < 0.4
        trunc = self.rng.random() < 0.05
        self.note(f"reopen {os.path.basename(f.path)}{' O_APPEND' if append else ''}{' O_TRUNC' if trunc else ''}")
        os.close(f.fd)
        self.open(f, append, trunc)

    def op_fsync(self, f: TrackedFile) -> None:
        self.note(f"fsync {os.path.basename(f.path)}")
        (os.fsync if self.rng.random() < 0.5 else os.fdatasync)(f.fd)

    def op_stat(self, f: TrackedFile) -> None:
        self.note(f"stat {os.path.basename(f.path)}")
        size = os.fstat(f.fd).st_size
        if size != len(f.model):
            self.fail(f"fstat size {size}, model {len(f.model)}")
        size = os.stat(f.path).st_size
        if size != len(f.model):
            self.fail(f"stat size {size}, model {len(f.model)}")

    def op_check_file(self, f: TrackedFile) -> None:
        self.note(f"check_file {os.path.basename(f.path)}")
        self.check_whole(f, f.path, "whole-file read")

    def check_whole(self, f: TrackedFile, path: str, how: str) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(fd)
        self.expect_equal(f, 0, bytes(f.model), b"".join(chunks), how)

    def sabotage(self) -> None:
        """Test hook: change one file behind the model's back, so the checker must report it."""
        victim = self.files[0]
        if not victim.model:
            victim = max(self.files, key=lambda f: len(f.model))
        if not victim.model:
            return
        at = len(victim.model) // 2
        fd = os.open(victim.path, os.O_WRONLY)
        try:
            os.pwrite(fd, bytes([victim.model[at] ^ 0xFF]), at)
        finally:
            os.close(fd)
        self.note(f"(sabotage: flipped byte {at} of {os.path.basename(victim.path)})")

    # --- the run -----------------------------------------------------------------------------

    def run(self) -> dict:
        ops = list(self.weights)
        weights = [self.weights[o] for o in ops]
        started = time.monotonic()
        for f in self.files:
            self.open(f, append=False, trunc=True)
        try:
            for self.op in range(1, self.ops + 1):
                if self.op == self.sabotage_at:
                    self.sabotage()
                name = self.rng.choices(ops, weights)[0]
                self.counts[name] = self.counts.get(name, 0) + 1
                try:
                    getattr(self, f"op_{name}")(self.pick())
                except OSError as error:
                    self.fail(f"{name} failed: {error}")
            self.op += 1
            for f in self.files:
                self.note(f"final check {os.path.basename(f.path)}")
                os.fsync(f.fd)
                self.check_whole(f, f.path, "final read")
            if self.backing:
                for f in self.files:
                    self.note(f"backing check {os.path.basename(f.path)}")
                    self.check_whole(f, os.path.join(self.backing, os.path.basename(f.path)), "backing read")
        except Mismatch as error:
            self.report(str(error))
            raise
        finally:
            for f in self.files:
                if f.fd >= 0:
                    os.close(f.fd)
                    f.fd = -1
        return {"seed": self.seed, "ops": self.ops, "seconds": round(time.monotonic() - started, 1),
                "counts": self.counts, "fallocate_modes": self.modes}

    def report(self, message: str) -> None:
        path = self.log_path
        if path is None:
            handle, path = tempfile.mkstemp(prefix=f"fsx-seed{self.seed}-", suffix=".log")
            os.close(handle)
        with open(path, "w") as out:
            out.write("\n".join(self.log) + "\n")
        tail = "\n".join(self.log[-40:])
        print(f"fsx: MISMATCH with seed {self.seed} at operation {self.op}: {message}\n"
              f"fsx: last operations:\n{tail}\n"
              f"fsx: full operation log ({len(self.log)} entries): {path}\n"
              f"fsx: replay with: fsx.py --ops {self.ops} --seed {self.seed}"
              f"{''.join(f' --disable {op}' for op in self.disabled)} DIR", file=sys.stderr)

    def cleanup(self) -> None:
        for f in self.files:
            try:
                os.unlink(f.path)
            except FileNotFoundError:
                pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=None, help="default: random, printed")
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--max-size", type=int, default=256 * 1024)
    parser.add_argument("--backing", help="directory holding the same files underneath, checked at the end")
    parser.add_argument("--disable", action="append", default=[], choices=sorted(WEIGHTS))
    parser.add_argument("--log", help="where to write the operation log on failure")
    parser.add_argument("--keep", action="store_true", help="leave the files behind")
    parser.add_argument("--sabotage-at", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    print(f"fsx: seed {seed}, {args.ops} operations in {args.dir}", flush=True)
    fsx = Fsx(args.dir, seed, args.ops, files=args.files, max_size=args.max_size, backing=args.backing,
              disabled=args.disable, log_path=args.log, sabotage_at=args.sabotage_at)
    try:
        result = fsx.run()
    except Mismatch:
        return 1
    finally:
        if not args.keep:
            fsx.cleanup()
    print(f"fsx: OK: seed {seed}, {result['ops']} operations in {result['seconds']} s")
    print(f"fsx: operation counts: {dict(sorted(result['counts'].items()))}")
    off = [m for m, ok in result["fallocate_modes"].items() if not ok]
    print(f"fsx: fallocate modes refused with EOPNOTSUPP: {off or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
