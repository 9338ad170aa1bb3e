#!/usr/bin/env bash
# Stress through a fresh dtypefs mount (Tests/Integration/stress.py): 8 walkers and 4 writers for
# 10 minutes, printing the daemon's open descriptors and RSS every minute, then judging:
#   - no error but the races' own ENOENT/EEXIST, the writers' trees exactly as they made them;
#   - dtypefs alive;
#   - descriptors and RSS flat from the first minute to the last (same bounds as test_stress.py:
#     at most 16 more descriptors; RSS at most 25% + 4 MiB above the first minute's).
#
# Usage: scripts/stress.sh [--minutes M] [--over emulator|plain] [--walkers N] [--writers N]
#                          [--sample SECONDS] [--json FILE]
#   default: --minutes 10 --over emulator --walkers 8 --writers 4 --sample 60
# Needs root and /dev/fuse; mounts only in its own temp directory and always unmounts.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes=10
over=emulator
walkers=8
writers=4
sample=60
json=""
while (($#)); do
    case "$1" in
        --minutes) minutes="$2"; shift 2 ;;
        --over) over="$2"; shift 2 ;;
        --walkers) walkers="$2"; shift 2 ;;
        --writers) writers="$2"; shift 2 ;;
        --sample) sample="$2"; shift 2 ;;
        --json) json="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "stress.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$over" in plain|emulator) ;; *) echo "stress.sh: --over must be emulator or plain" >&2; exit 2 ;; esac

if [[ -z "${DTYPEFS_BIN:-}" && ! -x "$repo/.build/release/dtypefs" ]]; then
    echo "stress.sh: no dtypefs binary: run 'swift build -c release' (or set DTYPEFS_BIN)" >&2
    exit 1
fi
if [[ "$over" == emulator ]]; then
    bash "$repo/scripts/build-emulator.sh" >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/dtypefs-stress.XXXXXX")"
trap 'rm -rf "$work"' EXIT
python3 - "$repo" "$work" "$minutes" "$over" "$walkers" "$writers" "$sample" "$json" <<'PYTHON'
import json
import sys
from pathlib import Path

repo, work, minutes, over, walkers, writers, sample, json_out = sys.argv[1:]
sys.path.insert(0, f"{repo}/Tests/Integration")
import stress
from fsmount import mounted_dtypefs_over
from test_stress import FD_SLACK, RSS_SLACK_KIB, RSS_SLACK_RATIO

work = Path(work)
seconds = float(minutes) * 60
with mounted_dtypefs_over(work, over) as (dtypefs, source):
    print(f"stress.sh: {minutes} min, {walkers} walkers, {writers} writers, dtypefs (pid {dtypefs.pid}) "
          f"over {over}; a sample every {sample} s", flush=True)
    result = stress.run_stress(str(work / "mnt"), seconds, int(walkers), int(writers), pid=dtypefs.pid,
                               sample_every=float(sample), log=lambda line: print(line, flush=True))
    alive = dtypefs.process.poll() is None

if json_out:
    Path(json_out).write_text(json.dumps(result, indent=1))
print(f"stress.sh: {result['writer_ops']} writer operations ({result['race_errors']} ENOENT/EEXIST races), "
      f"{result['walks']} walks, {result['entries_checked']} entries checked")
for line in result["errors"][:50]:
    print(f"stress.sh: ERROR {line}")
for line in result["model_problems"][:50]:
    print(f"stress.sh: MODEL {line}")
load = [s for s in result["samples"] if s["phase"] == "load"]
verdicts = []
if result["error_count"] or result["model_problem_count"] or result["stuck_threads"]:
    verdicts.append(f"{result['error_count']} errors, {result['model_problem_count']} model problems, "
                    f"stuck: {result['stuck_threads'] or 'none'}")
if not alive:
    verdicts.append("dtypefs died")
if len(load) >= 2:
    first, last = load[0], load[-1]
    print(f"stress.sh: first minute fds={first['fds']} rss={first['rss_kib']} KiB; "
          f"last minute fds={last['fds']} rss={last['rss_kib']} KiB")
    if last["fds"] > first["fds"] + FD_SLACK:
        verdicts.append(f"descriptors grew {first['fds']} -> {last['fds']}")
    if last["rss_kib"] > first["rss_kib"] * RSS_SLACK_RATIO + RSS_SLACK_KIB:
        verdicts.append(f"RSS grew {first['rss_kib']} -> {last['rss_kib']} KiB")
else:
    verdicts.append("too short for two samples under load: raise --minutes or lower --sample")
print(f"stress.sh: {'FAILED: ' + '; '.join(verdicts) if verdicts else 'OK'}")
sys.exit(1 if verdicts else 0)
PYTHON
