#!/usr/bin/env bash
# Long fsx run (Tests/Integration/fsx.py) through a fresh dtypefs mount, checked against the
# in-memory model after every read and against the backing files at the end.
#
# Usage: scripts/fsx.sh [--ops N] [--seed N] [--over plain|emulator|both] [--disable OP]...
#   --ops N      operations per run (default 200000; at least 100000 is the point of this script)
#   --seed N     default: a random seed, printed so that a failure replays
#   --over       what dtypefs is mounted over: a plain directory, the CIFS emulator, or both
#                (default both)
#   --disable    an fsx operation to leave out (see fsx.py --help), e.g. mmap_write_append_fd
# Needs root and /dev/fuse; mounts only in its own temp directory and always unmounts.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ops=200000
seed=""
over=both
disabled=()
while (($#)); do
    case "$1" in
        --ops) ops="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --over) over="$2"; shift 2 ;;
        --disable) disabled+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fsx.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$over" in plain|emulator|both) ;; *) echo "fsx.sh: --over must be plain, emulator or both" >&2; exit 2 ;; esac
[[ -n "$seed" ]] || seed=$((RANDOM * 32768 + RANDOM))

if [[ -z "${DTYPEFS_BIN:-}" && ! -x "$repo/.build/release/dtypefs" ]]; then
    echo "fsx.sh: no dtypefs binary: run 'swift build -c release' (or set DTYPEFS_BIN)" >&2
    exit 1
fi
if [[ "$over" != plain ]]; then
    bash "$repo/scripts/build-emulator.sh" >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/dtypefs-fsx.XXXXXX")"
status=0
python3 - "$repo" "$work" "$ops" "$seed" "$over" "${disabled[@]}" <<'PYTHON' || status=$?
import sys
from pathlib import Path

repo, work, ops, seed, over, *disabled = sys.argv[1:]
sys.path.insert(0, f"{repo}/Tests/Integration")
import fsx
from fsmount import mounted_dtypefs_over

work, ops, seed = Path(work), int(ops), int(seed)
failed = False
for kind in (["plain", "emulator"] if over == "both" else [over]):
    base = work / kind
    with mounted_dtypefs_over(base, kind) as (dtypefs, source):
        print(f"fsx.sh: {ops} operations, seed {seed}, dtypefs over {kind} "
              f"(disabled: {', '.join(disabled) or 'none'})", flush=True)
        engine = fsx.Fsx(str(base / "mnt"), seed, ops, backing=str(source), disabled=disabled,
                         log_path=str(work / f"fsx-{kind}-seed{seed}.log"))
        try:
            result = engine.run()
        except fsx.Mismatch:
            failed = True
            print(f"fsx.sh: FAILED over {kind}: seed {seed}; log kept in {work}", flush=True)
            continue
        finally:
            engine.cleanup()
        alive = dtypefs.process.poll() is None
        print(f"fsx.sh: OK over {kind}: {ops} operations, seed {seed}, {result['seconds']} s, "
              f"dtypefs {'alive' if alive else 'DEAD'}")
        print(f"fsx.sh:   counts {dict(sorted(result['counts'].items()))}")
        refused = [m for m, ok in result["fallocate_modes"].items() if not ok]
        print(f"fsx.sh:   fallocate modes refused: {refused or 'none'}", flush=True)
        failed |= not alive
sys.exit(1 if failed else 0)
PYTHON
if [[ $status -eq 0 ]]; then
    rm -rf "$work"
else
    echo "fsx.sh: failure; operation logs kept in $work" >&2
fi
exit "$status"
