"""scripts/bench/merge_rounds.py: an interleaved benchmark's rounds become one hyperfine-style JSON
per (system, workload), with the statistics over every run, and a failed pair gets none."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MERGE = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "merge_rounds.py"


def one_run(seconds: float) -> dict:
    return {"results": [{"command": "x", "mean": seconds, "stddev": None, "median": seconds, "user": 0.1,
                         "system": 0.2, "min": seconds, "max": seconds, "times": [seconds], "exit_codes": [0]}]}


def test_rounds_are_merged_per_pair_and_a_failed_pair_is_dropped(tmp_path):
    rounds, out = tmp_path / "rounds", tmp_path / "json"
    rounds.mkdir()
    for number, seconds in enumerate([3.0, 1.0, 2.0, 10.0], start=1):
        (rounds / f"emu-dtypefs-200.walk.{number}.json").write_text(json.dumps(one_run(seconds)))
    (rounds / "native.walk.1.json").write_text(json.dumps(one_run(0.5)))
    (rounds / "pairs.txt").write_text("emu-dtypefs-200 walk 0 3\nnative walk 0 1\n"
                                      "emu-dtypefs-200 walk 0 4\nnative walk 124 30\n"
                                      "emu-dtypefs-200 walk 0 5\nemu-dtypefs-200 walk 0 6\n")
    subprocess.run([sys.executable, MERGE, rounds, out, tmp_path / "pairs.txt"], check=True)
    merged = json.loads((out / "emu-dtypefs-200.walk.json").read_text())["results"][0]
    assert merged["times"] == [3.0, 1.0, 2.0, 10.0], "runs in round order"
    assert (merged["median"], merged["mean"], merged["min"], merged["max"]) == (2.5, 4.0, 1.0, 10.0)
    assert abs(merged["stddev"] - 4.0825) < 1e-3
    assert not (out / "native.walk.json").exists(), "a pair that failed in a round has no result"
    assert (tmp_path / "pairs.txt").read_text().splitlines() == ["emu-dtypefs-200 walk 0 18", "native walk 124 31"]
