"""Mount helpers shared by the integration tests: start a FUSE daemon, wait for its mount, and
always tear it down (unmount, then lazy unmount, then kill) even when the test fails.

The contract the tests rely on (see also /work/shared/design.md and the README):
- `dtypefs SOURCE MOUNTPOINT [-f] [-d] [-o OPT[,OPT...]]...`, `dtypefs check [--json] [-r] PATH...`,
  `dtypefs -h|--help`, `dtypefs -V|--version`.
- Options: dtype=verify|unknown|passthrough (default verify); allow_other / noallow_other (root
  default: allow_other); ro / rw; attr_timeout=S, entry_timeout=S, negative_timeout=S (seconds,
  default 1); max_threads=N; fsname=NAME (default: absolute SOURCE); the mount(8)/mount.fuse3 ones
  dev,nodev,suid,nosuid,exec,noexec,atime,noatime,relatime (defaults,nofail,_netdev,x-* ignored).
- Mount type `fuse.dtypefs`. `-f` stays in the foreground; without it the command returns once the
  mount is up. Exit 0 on clean unmount (fusermount3 -u, SIGINT, SIGTERM); 1 runtime or mount
  failure; 2 usage error, with a message naming the bad argument. `dtypefs X X` overlays X.
- The CIFS emulator fixture (scripts/build-emulator.sh -> .build/fixtures/cifs-emulator):
  `cifs-emulator BACKING MOUNTPOINT -f [-o latency_us=N]`, mount type `fuse.cifs-emulator`; links
  made through it are 1067-byte XSym files, DT_REG in readdir, S_IFLNK for lstat.
- Helpers must not edit Sources/, Package.swift or README.md, nor run `swift build` in the
  default .build (the lead builds `.build/release/dtypefs`). Commit only your own files, by path.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def dtypefs_binary() -> str:
    """The dtypefs binary under test: $DTYPEFS_BIN, else the release build, else the debug build."""
    env = os.environ.get("DTYPEFS_BIN")
    if env:
        return env
    for config in ("release", "debug"):
        candidate = REPO / ".build" / config / "dtypefs"
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError("no dtypefs binary: run `swift build -c release` or set DTYPEFS_BIN")


def emulator_binary() -> str:
    """The CIFS emulator fixture built by scripts/build-emulator.sh."""
    env = os.environ.get("CIFS_EMULATOR_BIN")
    if env:
        return env
    candidate = REPO / ".build" / "fixtures" / "cifs-emulator"
    if not candidate.exists():
        raise FileNotFoundError("no CIFS emulator: run scripts/build-emulator.sh")
    return str(candidate)


def mount_entry(mountpoint: str | os.PathLike) -> dict | None:
    """The /proc/self/mountinfo line of the topmost mount at `mountpoint`, parsed, or None."""
    # Resolve the parent only: a stat of the mount point itself would wait on a hung daemon.
    absolute = os.path.abspath(mountpoint)
    target = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
    found = None
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
        for line in info:
            fields = line.split()
            sep = fields.index("-")
            point = fields[4].encode().decode("unicode_escape")
            if point == target:
                found = {"mountpoint": point, "fstype": fields[sep + 1], "source": fields[sep + 2],
                         "options": fields[5], "super_options": fields[sep + 3]}
    return found


def is_mounted(mountpoint, fstype: str | None = None) -> bool:
    entry = mount_entry(mountpoint)
    return entry is not None and (fstype is None or entry["fstype"] == fstype)


def wait_for_mount(mountpoint, fstype: str, process: subprocess.Popen | None, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_mounted(mountpoint, fstype):
            return
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            raise RuntimeError(f"daemon exited with {process.returncode} before mounting {mountpoint}:\n"
                               f"{out.decode(errors='replace')}{err.decode(errors='replace')}")
        time.sleep(0.02)
    raise TimeoutError(f"{fstype} did not appear at {mountpoint} within {timeout}s")


def unmount(mountpoint, process: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    """Unmount what we mounted: fusermount3 -u, retrying while busy; then lazily; then kill by pid."""
    deadline = time.monotonic() + timeout
    fstype_before = (mount_entry(mountpoint) or {}).get("fstype")
    while fstype_before and time.monotonic() < deadline:
        entry = mount_entry(mountpoint)
        if entry is None or entry["fstype"] != fstype_before:
            break
        result = subprocess.run(["fusermount3", "-u", str(mountpoint)], capture_output=True)
        if result.returncode == 0:
            break
        time.sleep(0.1)
    else:
        if fstype_before:
            subprocess.run(["fusermount3", "-uz", str(mountpoint)], capture_output=True)
    if process is not None:
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            with contextlib.suppress(Exception):
                subprocess.run(["fusermount3", "-uz", str(mountpoint)], capture_output=True)


class Mounted:
    """A running foreground FUSE daemon and its mount point."""

    def __init__(self, process: subprocess.Popen, mountpoint: Path, fstype: str):
        self.process = process
        self.mountpoint = Path(mountpoint)
        self.fstype = fstype

    @property
    def pid(self) -> int:
        return self.process.pid

    def open_fd_count(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self) -> int:
        """Unmount cleanly and return the daemon's exit status."""
        unmount(self.mountpoint, self.process)
        return self.process.returncode


@contextlib.contextmanager
def mounted_dtypefs(source, mountpoint, options=(), extra_args=(), prefix=(), timeout: float = 20.0):
    """Run `dtypefs SOURCE MOUNTPOINT -f [-o opts]` (optionally behind `prefix`, e.g. prlimit)."""
    args = [*prefix, dtypefs_binary(), str(source), str(mountpoint), "-f"]
    if options:
        args += ["-o", ",".join(options)]
    args += list(extra_args)
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    mounted = Mounted(process, Path(mountpoint), "fuse.dtypefs")
    try:
        wait_for_mount(mountpoint, "fuse.dtypefs", process, timeout)
        yield mounted
    finally:
        unmount(mountpoint, process)


@contextlib.contextmanager
def mounted_emulator(backing, mountpoint, latency_us: int = 0, options=(), timeout: float = 20.0):
    """Run the CIFS emulator fixture over `backing` at `mountpoint` in the foreground."""
    args = [emulator_binary(), str(backing), str(mountpoint), "-f"]
    opts = list(options)
    if latency_us:
        opts.append(f"latency_us={latency_us}")
    if opts:
        args += ["-o", ",".join(opts)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    mounted = Mounted(process, Path(mountpoint), "fuse.cifs-emulator")
    try:
        wait_for_mount(mountpoint, "fuse.cifs-emulator", process, timeout)
        yield mounted
    finally:
        unmount(mountpoint, process)


@contextlib.contextmanager
def mounted_dtypefs_over(base, over: str, options=()):
    """dtypefs at BASE/mnt over BASE/backing, or, with over="emulator", over the CIFS emulator
    mounted at BASE/emu on BASE/backing. Yields (the dtypefs Mounted, the path dtypefs serves)."""
    base = Path(base)
    for name in ("backing", "emu", "mnt"):
        (base / name).mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        source = base / "backing"
        if over == "emulator":
            stack.enter_context(mounted_emulator(source, base / "emu"))
            source = base / "emu"
        yield stack.enter_context(mounted_dtypefs(source, base / "mnt", options)), source


def errno_of(action) -> int | None:
    """The errno `action()` fails with, or None when it succeeds."""
    try:
        action()
    except OSError as error:
        return error.errno
    return None


def wait_until(predicate, timeout: float = 10.0) -> bool:
    """Polls; the bound only keeps a broken build from hanging the suite."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
