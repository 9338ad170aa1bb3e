#!/usr/bin/env python3
"""Samples a process's memory, descriptors and threads until it exits or this sampler gets
SIGTERM/SIGINT, then writes the peaks as JSON to OUT.

Usage: sample_daemon.py PID OUT [INTERVAL_SECONDS]

Peaks: VmHWM (the kernel's own peak RSS, exact), VmRSS and open descriptors and threads (sampled
every INTERVAL, so a short spike between two samples can be missed)."""
from __future__ import annotations

import json
import os
import signal
import sys
import time


def status(pid: int) -> dict[str, int]:
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                values[key] = int(rest.split()[0])
    return values


def main(argv: list[str]) -> int:
    pid, out = int(argv[1]), argv[2]
    interval = float(argv[3]) if len(argv) > 3 else 0.1
    stop = False

    def on_signal(_signum, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    peaks = {"vm_hwm_kib": 0, "vm_rss_kib": 0, "fds": 0, "threads": 0, "samples": 0}
    nofile = None
    started = time.monotonic()
    while not stop:
        try:
            st = status(pid)
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            if nofile is None:
                with open(f"/proc/{pid}/limits") as f:
                    for line in f:
                        if line.startswith("Max open files"):
                            nofile = int(line.split()[3])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            break  # the process is gone
        peaks["vm_hwm_kib"] = max(peaks["vm_hwm_kib"], st.get("VmHWM", 0))
        peaks["vm_rss_kib"] = max(peaks["vm_rss_kib"], st.get("VmRSS", 0))
        peaks["threads"] = max(peaks["threads"], st.get("Threads", 0))
        peaks["fds"] = max(peaks["fds"], fds)
        peaks["samples"] += 1
        time.sleep(interval)
    peaks["nofile_limit"] = nofile
    peaks["seconds"] = round(time.monotonic() - started, 1)
    with open(out, "w") as f:
        json.dump(peaks, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
