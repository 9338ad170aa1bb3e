#!/usr/bin/env bash
# dtypefs at scale: generates a 1M-entry tree (same mix as scripts/bench.sh: dirs, small files,
# links to dirs and files, dangling links), mounts it with dtypefs (dtype=verify), walks it with
# `find`, `find -type l` and Python's os.walk while sampling the daemon's VmRSS, VmHWM, open
# descriptors and threads, and checks that every walk through the mount is complete and correct
# (its counts equal the ones taken directly on the backing directory).
# Targets (issue): the walk is complete; daemon RSS ≤ 64 MiB; fds ≤ 64 plus open files.
#
# Usage: sudo scripts/bench-scale.sh
# Environment (all optional):
#   SCALE_ENTRIES=1000000   entries in the tree
#   SCALE_OPTS=...          extra dtypefs -o options (e.g. max_threads=4)
#   SCALE_INTERVAL=0.1      sampling interval, seconds
#   SCALE_CACHE=cold|warm   cold (default): sync + drop_caches before mounting and each walk
#   BENCH_DIR=path          work area (default a fresh /var/tmp/dtypefs-scale.*, removed at the
#                           end; a given BENCH_DIR is kept and its tree reused)
#   BENCH_OUT=path          results (default .build/bench/scale-<UTC time>)
#   DTYPEFS_BIN             default .build/release/dtypefs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench/lib.sh"

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi
[[ $EUID -eq 0 ]] || bench_die "run as root (mounting and dropping caches need it)"
[[ -c /dev/fuse ]] || bench_die "/dev/fuse is missing"

entries="${SCALE_ENTRIES:-1000000}"
interval="${SCALE_INTERVAL:-0.1}"
cache="${SCALE_CACHE:-cold}"
[[ $entries =~ ^[0-9]+$ && $entries -gt 0 ]] || bench_die "SCALE_ENTRIES must be a positive integer"
python="${BENCH_PYTHON:-/usr/bin/python3}"
export BENCH_PYTHON="$python"
for pair in fusermount3:fuse3 "$python":python3 setsid:util-linux; do
    command -v "${pair%%:*}" >/dev/null && continue
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pair##*:}" >/dev/null
done
export DTYPEFS_BIN="${DTYPEFS_BIN:-$bench_repo/.build/release/dtypefs}"
[[ -x $DTYPEFS_BIN ]] || bench_die "no dtypefs binary at $DTYPEFS_BIN (swift build -c release, or set DTYPEFS_BIN)"

owned_dir=0
if [[ -z "${BENCH_DIR:-}" ]]; then
    BENCH_DIR="$(mktemp -d /var/tmp/dtypefs-scale.XXXXXX)"
    owned_dir=1
fi
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd -P)"
export BENCH_DIR
[[ $BENCH_DIR =~ ^/[A-Za-z0-9._/-]+$ && $BENCH_DIR != / ]] || bench_die "BENCH_DIR must be a plain path"
out="${BENCH_OUT:-$bench_repo/.build/bench/scale-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
out="$(cd "$out" && pwd -P)"
sampler_pid=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    bench_teardown "$sampler_pid" "$owned_dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

tree="$BENCH_DIR/data/scale/tree"
stamp="entries=$entries seed=1 sizes=16-512"
if [[ "$(cat "$BENCH_DIR/data/scale.stamp" 2>/dev/null)" != "$stamp" ]]; then
    # Files of 16-512 bytes take one 4 KiB block each; plus inodes: ~5 KiB per entry.
    need_kib=$((entries * 5 + 1024 * 1024))
    avail_kib=$(df --output=avail -k "$BENCH_DIR" | tail -n 1 | tr -d ' ')
    avail_inodes=$(df --output=iavail "$BENCH_DIR" | tail -n 1 | tr -d ' ')
    ((avail_kib > need_kib)) || bench_die "$BENCH_DIR: $((avail_kib / 1024)) MiB free, needs $((need_kib / 1024)) MiB"
    [[ $avail_inodes == - ]] || ((avail_inodes > entries + 10000)) ||
        bench_die "$BENCH_DIR: $avail_inodes inodes free, needs $entries"
    bench_log "generating $entries entries in $tree ($((avail_kib / 1024 / 1024)) GiB free)"
    rm -rf --one-file-system "$BENCH_DIR/data/scale" "$BENCH_DIR/data/scale.stamp"
    mkdir -p "$BENCH_DIR/data/scale"
    gen_start=$SECONDS
    "$python" "$bench_helpers/make_tree.py" "$tree" --entries "$entries" --min-size 16 \
        --max-size 512 --manifest "$BENCH_DIR/data/scale.manifest.json" >/dev/null
    echo "$((SECONDS - gen_start))" >"$BENCH_DIR/data/scale.gen-seconds"
    echo "$stamp" >"$BENCH_DIR/data/scale.stamp"
fi
gen_seconds="$(cat "$BENCH_DIR/data/scale.gen-seconds" 2>/dev/null || echo '?')"
cp "$BENCH_DIR/data/scale.manifest.json" "$out/manifest.json"

cold() { [[ $cache == cold ]] && drop_caches; return 0; }

# timed NAME CMD...: run CMD, its stdout to $out/NAME.out, its wall time to $out/NAME.seconds.
timed() {
    local name="$1" start end rc=0; shift
    cold
    bench_log "walk: $name"
    start=$EPOCHREALTIME
    "$@" >"$out/$name.out" 2>"$out/$name.err" || rc=$?
    end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }' >"$out/$name.seconds"
    ((rc == 0)) || bench_log "$name exited $rc: $(tail -n 3 "$out/$name.err")"
}
count_all() { find "$1" -mindepth 1 | wc -l; }
count_links() { find "$1" -type l | wc -l; }

# Ground truth and reference times, taken directly on the backing directory.
timed native-find count_all "$tree"
timed native-find-type-l count_links "$tree"
timed native-os.walk "$python" "$bench_helpers/walk.py" "$tree"

mnt="$BENCH_DIR/mnt/scale"
opts="dtype=verify,fsname=bench-scale${SCALE_OPTS:+,$SCALE_OPTS}"
cold
daemon_start scale "$mnt" fuse.dtypefs "$DTYPEFS_BIN" "$BENCH_DIR/data/scale" "$mnt" -f -o "$opts"
read -r daemon_pid _ <"$BENCH_DIR/run/scale.pid"
"$python" "$bench_helpers/sample_daemon.py" "$daemon_pid" "$out/peaks.json" "$interval" &
sampler_pid=$!

timed find count_all "$mnt/tree"
timed find-type-l count_links "$mnt/tree"
timed os.walk "$python" "$bench_helpers/walk.py" "$mnt/tree"
after_walk="$(daemon_stats scale)"
# Make the kernel forget every inode it holds (FORGET requests): what the daemon keeps afterwards
# is what it keeps for a mounted but idle tree.
drop_caches
sleep 2
after_forget="$(daemon_stats scale)"

kill -TERM "$sampler_pid"
wait "$sampler_pid" || true
sampler_pid=""
daemon_stop scale
exit_status=$daemon_exit_status

verdict() { [[ "$1" == "$2" ]] && echo "complete" || echo "INCOMPLETE ($1 of $2)"; }
read -r hwm rss fds threads nofile samples < <("$python" -c '
import json, sys
p = json.load(open(sys.argv[1]))
print(p["vm_hwm_kib"], p["vm_rss_kib"], p["fds"], p["threads"], p["nofile_limit"], p["samples"])' "$out/peaks.json")
{
    echo "# dtypefs at scale"
    echo
    echo "- Machine: $(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), tree on \`$(df --output=source,fstype "$BENCH_DIR" | tail -n 1 | tr -s ' ')\`"
    echo "- dtypefs \`$("$DTYPEFS_BIN" --version 2>&1 | head -n 1)\` (commit $(git -C "$bench_repo" rev-parse --short HEAD 2>/dev/null || echo '?')), \`-o $opts\`, cache policy $cache"
    echo "- Tree: $(tr -d '\n ' <"$out/manifest.json" | sed 's/[{}"]//g; s/,/, /g'); generated in ${gen_seconds} s"
    echo
    echo "| walk through dtypefs | wall time | native wall time | result | backing | verdict |"
    echo "|---|---:|---:|---:|---:|---|"
    for w in find find-type-l os.walk; do
        got="$(cat "$out/$w.out")" want="$(cat "$out/native-$w.out")"
        echo "| $w | $(cat "$out/$w.seconds") s | $(cat "$out/native-$w.seconds") s | $got | $want | $(verdict "$got" "$want") |"
    done
    echo
    echo "| daemon figure (peak over the three walks) | value | target |"
    echo "|---|---:|---|"
    echo "| VmHWM (peak RSS, exact) | $((hwm / 1024)) MiB | ≤ 64 MiB: $( ((hwm <= 65536)) && echo ok || echo MISSED) |"
    echo "| VmRSS (sampled max) | $((rss / 1024)) MiB | |"
    echo "| open descriptors (sampled max) | $fds | ≤ 64 + open files: $( ((fds <= 64)) && echo ok || echo "check: over 64") |"
    echo "| threads (sampled max) | $threads | |"
    echo "| after the walks: VmHWM VmRSS (KiB) fds threads | ${after_walk:-?} | |"
    echo "| after drop_caches (kernel forgot its inodes): same | ${after_forget:-?} | |"
    echo "| RLIMIT_NOFILE of the daemon | $nofile | |"
    echo "| samples ($interval s apart) | $samples | |"
    echo "| exit status after fusermount3 -u | $exit_status | 0 |"
} >"$out/scale-results.md"
cat "$out/scale-results.md"
bench_log "results: $out/scale-results.md"
