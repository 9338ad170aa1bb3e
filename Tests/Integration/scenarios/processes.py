"""Running code as another process: a different POSIX lock owner, or an unprivileged caller; and
making the kernel forget what it holds."""
from __future__ import annotations

import fcntl
import json
import os
import pickle
import struct
import subprocess
import sys
from typing import Callable


_LOCK_CHILD = r"""
import errno, fcntl, json, os, struct, sys
path, ops = sys.argv[1], json.loads(sys.argv[2])
fd = os.open(path, os.O_RDWR)
out = []
types = {"rd": fcntl.F_RDLCK, "wr": fcntl.F_WRLCK, "un": fcntl.F_UNLCK}
names = {v: k for k, v in types.items()}
for op in ops:
    try:
        if op[0] == "setlk":
            fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi4x", types[op[1]], 0, op[2], op[3], 0))
            out.append("ok")
        elif op[0] == "getlk":
            raw = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi4x", types[op[1]], 0, op[2], op[3], 0))
            t, _, start, length, pid = struct.unpack("hhqqi4x", raw)
            out.append({"type": names.get(t, t), "start": start, "len": length, "pid": pid})
        elif op[0] == "flock":
            fcntl.flock(fd, {"ex": fcntl.LOCK_EX, "sh": fcntl.LOCK_SH}[op[1]] | fcntl.LOCK_NB)
            out.append("ok")
    except OSError as e:
        out.append("!" + errno.errorcode[e.errno])
print(json.dumps(out))
"""


def lock_child(path, ops: list) -> list:
    """Run lock operations from a separate process (a separate POSIX lock owner) on `path`."""
    done = subprocess.run([sys.executable, "-c", _LOCK_CHILD, str(path), json.dumps(ops)],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"lock child failed: {done.stderr}")
    return json.loads(done.stdout)


def posix_lock(fd: int, kind_: str, start: int, length: int) -> None:
    types = {"rd": fcntl.F_RDLCK, "wr": fcntl.F_WRLCK, "un": fcntl.F_UNLCK}
    fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi4x", types[kind_], 0, start, length, 0))


def as_user(uid: int, gid: int, fn: Callable, *args):
    """Run fn(*args) in a forked child with uid/gid dropped and no supplementary groups; return
    its result. Exceptions come back as their repr so the caller's comparison shows them."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(reader)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - the parent reports it
                result = f"child raised {exc!r}"
            with os.fdopen(writer, "wb") as pipe:
                pickle.dump(result, pipe)
        except BaseException:  # noqa: BLE001 - never return into the test runner's stack
            code = 1
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"as_user child produced nothing (wait status {status})")
    return pickle.loads(data)


def drop_caches() -> None:
    """Make the kernel drop unused dentries and inodes: through FUSE this sends FORGET and
    BATCH_FORGET for every node the kernel lets go of."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("2\n")
