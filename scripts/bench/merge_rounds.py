#!/usr/bin/env python3
"""Merge an interleaved benchmark's rounds into one hyperfine-style JSON per (system, workload).

Usage: merge_rounds.py ROUNDS_DIR JSON_DIR PAIRS_FILE

ROUNDS_DIR holds <system>.<workload>.<round>.json (hyperfine exports of one run each) and
pairs.txt ("system workload exit-code seconds" per call). Writes JSON_DIR/<system>.<workload>.json
with every run's time and the statistics recomputed over them, and PAIRS_FILE with one line per
pair: the worst exit code and the seconds of all its calls. A pair that failed in any round gets
no JSON, as a failed grouped pair does not.
"""
from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def merged(results: list[dict]) -> dict:
    times = [t for r in results for t in r["times"]]
    return {
        "command": results[0]["command"],
        "mean": statistics.fmean(times),
        "stddev": statistics.stdev(times) if len(times) > 1 else None,
        "median": statistics.median(times),
        "user": statistics.fmean(r["user"] for r in results),
        "system": statistics.fmean(r["system"] for r in results),
        "min": min(times),
        "max": max(times),
        "times": times,
        "exit_codes": [c for r in results for c in r.get("exit_codes", [])],
    }


def main(rounds_dir: Path, json_dir: Path, pairs_file: Path) -> None:
    worst: dict[tuple[str, str], int] = {}
    seconds: dict[tuple[str, str], int] = defaultdict(int)
    for line in (rounds_dir / "pairs.txt").read_text().splitlines():
        system, workload, rc, secs = line.split()
        pair = (system, workload)
        worst[pair] = max(worst.get(pair, 0), int(rc))
        seconds[pair] += int(secs)
    runs: dict[tuple[str, str], list[tuple[int, dict]]] = defaultdict(list)
    for path in rounds_dir.glob("*.json"):
        system, workload, round_number = path.stem.rsplit(".", 2)
        runs[(system, workload)].append((int(round_number), json.loads(path.read_text())["results"][0]))
    json_dir.mkdir(parents=True, exist_ok=True)
    for pair, found in runs.items():
        if worst.get(pair, 0) != 0:
            continue
        results = [result for _, result in sorted(found, key=lambda item: item[0])]
        (json_dir / f"{pair[0]}.{pair[1]}.json").write_text(json.dumps({"results": [merged(results)]}, indent=2))
    pairs_file.write_text("".join(f"{s} {w} {worst[(s, w)]} {seconds[(s, w)]}\n" for s, w in worst))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
