#!/usr/bin/env python3
"""Workload: create COUNT small files (100 bytes each) in a fresh directory under SCRATCH, then
delete the directory with `rm -rf`. Prints the number of files created."""
import os
import subprocess
import sys

scratch, count = sys.argv[1], int(sys.argv[2])
target = os.path.join(scratch, f"run-{os.getpid()}")
os.mkdir(target)
payload = b"dtypefs benchmark small file\n" * 3 + b"x" * 13
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
for i in range(count):
    fd = os.open(os.path.join(target, f"f{i:06d}"), flags, 0o644)
    try:
        os.write(fd, payload)
    finally:
        os.close(fd)
subprocess.run(["rm", "-rf", "--", target], check=True)
print(count)
