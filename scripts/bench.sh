#!/usr/bin/env bash
# dtypefs benchmark: the native directory, dtypefs (dtype=verify and dtype=unknown), bindfs and
# mergerfs over the same tree, plus the CIFS emulator fixture raw versus dtypefs on top of it at
# 0 and 200 µs of latency per request, side by side in one run. Prints a markdown table of medians
# with ratios to native and writes it, with hyperfine's JSON per (system, workload), to the
# output directory.
#
# Usage: sudo scripts/bench.sh            (run as root: it mounts, and drops the page cache)
#        BENCH_QUICK=1 scripts/bench.sh   (smoke test: small tree, 2 runs, about a minute)
#
# Fair-cache policy ("cold", the default): before EVERY timed run, hyperfine's --prepare unmounts
# the system, runs `sync; echo 3 > /proc/sys/vm/drop_caches` (native included), and mounts it
# again. Every run therefore starts from a fresh mount with no FUSE attribute, entry or page cache
# and with the backing filesystem's dentry, inode and page caches empty, for every system alike.
# BENCH_CACHE=warm keeps the fresh mount but skips drop_caches: the backing filesystem stays warm,
# which isolates the FUSE overhead (native is then fully cached).
#
# Environment (all optional):
#   BENCH_ENTRIES=50000      entries in the tree (dirs, files, links to dirs/files, dangling)
#   BENCH_RUNS=5             timed runs per (system, workload)
#   BENCH_QUICK=1            smoke test: 2000 entries, 2 runs, 64 MiB file, 1000 creates
#   BENCH_SYSTEMS="..."      subset/order of: native dtypefs-verify dtypefs-unknown bindfs mergerfs
#                            passthrough_ll (libfuse's C reference, -o xattr, built from the example
#                            Debian's libfuse3-dev ships; one descriptor per inode, so it runs only
#                            on a tree that fits the fd limit: default when BENCH_ENTRIES fits)
#                            and, not run by default: dtypefs-acl (dtype=verify with -o acl),
#                            dtypefs-base (dtype=verify from DTYPEFS_BASE_BIN, another build: a
#                            change measured against the code before it, in the same run)
#                            emu-raw-<µs> emu-dtypefs-<µs> (one pair per BENCH_LATENCIES value)
#                            emu-base-<µs> (DTYPEFS_BASE_BIN over the emulator: before/after)
#   BENCH_WORKLOADS="..."    subset of: walk find du ls read create (plain systems)
#   BENCH_EMU_WORKLOADS=..   workloads over the emulator (default "walk find du ls read")
#   BENCH_LATENCIES="0 200 1000"  emulated per-request latencies, µs (a LAN share: 200–1000)
#   BENCH_EMU_ENTRIES        emulator tree for latency 0 (default BENCH_ENTRIES)
#   BENCH_EMU_SLOW_ENTRIES   emulator tree for latencies > 0 (default 10000: at 1 ms a request,
#                            a walk of 50k entries takes minutes)
#   BENCH_EMU_BIG_MIB=64     size of the file read over the emulator
#   BENCH_BIG_MIB=512        size of the sequentially read file
#   BENCH_CREATE_FILES=10000 files created then deleted by the "create" workload
#   BENCH_CACHE=cold|warm    see above
#   BENCH_DIR=path           work area (tree, mounts); default a fresh /var/tmp/dtypefs-bench.*,
#                            removed at the end. A given BENCH_DIR is kept and its trees reused.
#   BENCH_OUT=path           results (default .build/bench/<UTC time>): results.md, json/, ...
#   BENCH_ORDER=interleaved  interleaved: round after round, one run of every system per
#                            workload, so a slow stretch of a shared machine hits every system
#                            alike; grouped: all runs of one (system, workload) in a row
#   BENCH_PAIR_TIMEOUT=1800  seconds allowed for one hyperfine call (one run when interleaved)
#   BENCH_NICE=10            niceness of the measurements (keep a shared machine usable)
#   BENCH_DTYPEFS_OPTIONS=.. options added to every mount of DTYPEFS_BIN (a lever to measure,
#                            e.g. readahead_listings=32); dtypefs-base runs without them
#   DTYPEFS_BIN, CIFS_EMULATOR_BIN   binaries (default .build/release/dtypefs, built with
#                            `swift build -c release` when missing unless BENCH_BUILD=0;
#                            .build/fixtures/cifs-emulator via scripts/build-emulator.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench/lib.sh"

# What the user set, for the report's "Command" line.
user_settings="$(env | grep -E '^(BENCH_[A-Z_]+|DTYPEFS_BIN|DTYPEFS_BASE_BIN|CIFS_EMULATOR_BIN)=' | sort | tr '\n' ' ' || true)"

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi
(($# == 0)) || bench_die "no arguments expected (configure with BENCH_* variables; see --help)"
[[ $EUID -eq 0 ]] || bench_die "run as root (mounting and dropping caches need it)"
[[ -c /dev/fuse ]] || bench_die "/dev/fuse is missing: this kernel or container cannot mount FUSE"

# ---- parameters -------------------------------------------------------------------------------
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
    : "${BENCH_ENTRIES:=2000}" "${BENCH_RUNS:=2}" "${BENCH_BIG_MIB:=64}" "${BENCH_CREATE_FILES:=1000}"
fi
export BENCH_ENTRIES="${BENCH_ENTRIES:-50000}"
export BENCH_RUNS="${BENCH_RUNS:-5}"
export BENCH_BIG_MIB="${BENCH_BIG_MIB:-512}"
export BENCH_CREATE_FILES="${BENCH_CREATE_FILES:-10000}"
export BENCH_EMU_ENTRIES="${BENCH_EMU_ENTRIES:-$BENCH_ENTRIES}"
export BENCH_EMU_SLOW_ENTRIES="${BENCH_EMU_SLOW_ENTRIES:-$((BENCH_EMU_ENTRIES < 10000 ? BENCH_EMU_ENTRIES : 10000))}"
export BENCH_EMU_BIG_MIB="${BENCH_EMU_BIG_MIB:-64}"
export BENCH_CACHE="${BENCH_CACHE:-cold}"
BENCH_LATENCIES="${BENCH_LATENCIES:-0 200 1000}"
BENCH_PAIR_TIMEOUT="${BENCH_PAIR_TIMEOUT:-1800}"
BENCH_ORDER="${BENCH_ORDER:-interleaved}"
[[ $BENCH_ORDER == interleaved || $BENCH_ORDER == grouped ]] ||
    bench_die "BENCH_ORDER must be interleaved or grouped, not '$BENCH_ORDER'"
BENCH_NICE="${BENCH_NICE:-10}"
export BENCH_PYTHON="${BENCH_PYTHON:-/usr/bin/python3}"  # not a pyenv shim: its startup would be timed
BENCH_SEED=1

# passthrough_ll holds a descriptor for every inode the kernel knows: a walk of the whole tree
# needs one per entry, within the hard limit (the most prlimit can give it).
fd_hard_limit=$(ulimit -Hn)
pll_max_entries=$((fd_hard_limit - 1000))
default_systems="native dtypefs-verify dtypefs-unknown"
if ((${BENCH_ENTRIES:-50000} <= pll_max_entries)); then
    default_systems+=" passthrough_ll"
elif [[ -z ${BENCH_SYSTEMS:-} ]]; then
    bench_log "passthrough_ll left out: a ${BENCH_ENTRIES:-50000}-entry tree needs more descriptors than its hard limit $fd_hard_limit (BENCH_ENTRIES <= $pll_max_entries includes it)"
fi
default_systems+=" bindfs mergerfs"
for l in $BENCH_LATENCIES; do default_systems+=" emu-raw-$l emu-dtypefs-$l"; done
list="${BENCH_SYSTEMS:-$default_systems}"; systems=(${list//,/ })
list="${BENCH_WORKLOADS:-walk find du ls read create}"; workloads=(${list//,/ })
list="${BENCH_EMU_WORKLOADS:-walk find du ls read}"; emu_workloads=(${list//,/ })

for n in BENCH_ENTRIES BENCH_RUNS BENCH_BIG_MIB BENCH_CREATE_FILES BENCH_EMU_ENTRIES \
    BENCH_EMU_SLOW_ENTRIES BENCH_PAIR_TIMEOUT; do
    [[ ${!n} =~ ^[0-9]+$ && ${!n} -gt 0 ]] || bench_die "$n must be a positive integer (got '${!n}')"
done
[[ $BENCH_CACHE == cold || $BENCH_CACHE == warm ]] || bench_die "BENCH_CACHE must be cold or warm"
need_dtypefs=0 need_emu=0 need_plain=0 need_pll=0
emu_sizes=()
for s in "${systems[@]}"; do
    case "$s" in
        native | bindfs | mergerfs) need_plain=1 ;;
        passthrough_ll)
            need_plain=1 need_pll=1
            ((BENCH_ENTRIES <= pll_max_entries)) ||
                bench_die "passthrough_ll keeps a descriptor per inode: a $BENCH_ENTRIES-entry tree exceeds its hard limit of $fd_hard_limit descriptors (use BENCH_ENTRIES <= $pll_max_entries)" ;;
        dtypefs-verify | dtypefs-unknown | dtypefs-acl) need_plain=1 need_dtypefs=1 ;;
        dtypefs-base)
            need_plain=1
            [[ -x ${DTYPEFS_BASE_BIN:-} ]] || bench_die "dtypefs-base needs DTYPEFS_BASE_BIN, an executable dtypefs (got '${DTYPEFS_BASE_BIN:-}')" ;;
        emu-raw-[0-9]* | emu-dtypefs-[0-9]* | emu-base-[0-9]*)
            need_emu=1
            [[ $s == emu-dtypefs-* ]] && need_dtypefs=1
            [[ $s != emu-base-* || -x ${DTYPEFS_BASE_BIN:-} ]] ||
                bench_die "$s needs DTYPEFS_BASE_BIN, an executable dtypefs (got '${DTYPEFS_BASE_BIN:-}')"
            emu_sizes+=("$(emu_entries_for_latency "${s##*-}")") ;;
        *) bench_die "unknown system '$s' in BENCH_SYSTEMS" ;;
    esac
done
for w in "${workloads[@]}" "${emu_workloads[@]}"; do
    case "$w" in walk | find | du | ls | read | create) ;; *) bench_die "unknown workload '$w'" ;; esac
done
emu_sizes=($(printf '%s\n' "${emu_sizes[@]}" | sort -un))

# ---- tools ------------------------------------------------------------------------------------
ensure_packages() {
    local missing=() pair
    for pair in hyperfine:hyperfine bindfs:bindfs mergerfs:mergerfs fusermount3:fuse3 \
        "$BENCH_PYTHON":python3 setsid:util-linux; do
        command -v "${pair%%:*}" >/dev/null || missing+=("${pair##*:}")
    done
    if ((${#missing[@]})); then
        bench_log "installing from Debian: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}
ensure_packages

export DTYPEFS_BIN="${DTYPEFS_BIN:-$bench_repo/.build/release/dtypefs}"
export DTYPEFS_BASE_BIN="${DTYPEFS_BASE_BIN:-}"
export CIFS_EMULATOR_BIN="${CIFS_EMULATOR_BIN:-$bench_repo/.build/fixtures/cifs-emulator}"
export PASSTHROUGH_LL_BIN="${PASSTHROUGH_LL_BIN:-$bench_repo/.build/bench-peers/passthrough_ll}"
pll_source=/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c
if ((need_pll)) && [[ $PASSTHROUGH_LL_BIN == "$bench_repo/.build/bench-peers/passthrough_ll" ]] &&
    [[ ! -x $PASSTHROUGH_LL_BIN || $pll_source -nt $PASSTHROUGH_LL_BIN ]]; then
    [[ -r $pll_source ]] || bench_die "no $pll_source (package libfuse3-dev) to build passthrough_ll from"
    bench_log "building passthrough_ll from $pll_source"
    mkdir -p "$(dirname "$PASSTHROUGH_LL_BIN")"
    gcc -O2 -Wall -o "$PASSTHROUGH_LL_BIN" "$pll_source" $(pkg-config --cflags --libs fuse3) ||
        bench_die "building passthrough_ll failed"
fi
((need_pll == 0)) || [[ -x $PASSTHROUGH_LL_BIN ]] || bench_die "no passthrough_ll at $PASSTHROUGH_LL_BIN"
if ((need_dtypefs)) && [[ ! -x $DTYPEFS_BIN ]]; then
    if [[ "${BENCH_BUILD:-1}" == 1 && $DTYPEFS_BIN == "$bench_repo/.build/release/dtypefs" ]]; then
        bench_log "building dtypefs (swift build -c release)"
        (cd "$bench_repo" && swift build -c release --product dtypefs) >&2
    fi
    [[ -x $DTYPEFS_BIN ]] || bench_die "no dtypefs binary at $DTYPEFS_BIN (set DTYPEFS_BIN)"
fi
if ((need_emu)) && [[ $CIFS_EMULATOR_BIN == "$bench_repo/.build/fixtures/cifs-emulator" ]]; then
    "$bench_repo/scripts/build-emulator.sh" >&2
fi
((need_emu == 0)) || [[ -x $CIFS_EMULATOR_BIN ]] || bench_die "no CIFS emulator at $CIFS_EMULATOR_BIN"

# ---- work area and cleanup --------------------------------------------------------------------
owned_dir=0
if [[ -z "${BENCH_DIR:-}" ]]; then
    BENCH_DIR="$(mktemp -d /var/tmp/dtypefs-bench.XXXXXX)"
    owned_dir=1
fi
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd -P)"
export BENCH_DIR
[[ $BENCH_DIR =~ ^/[A-Za-z0-9._/-]+$ ]] || bench_die "BENCH_DIR must be a plain path: $BENCH_DIR"
[[ $BENCH_DIR != / ]] || bench_die "BENCH_DIR must not be /"
BENCH_OUT="${BENCH_OUT:-$bench_repo/.build/bench/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$BENCH_OUT/json" "$BENCH_OUT/checks"
BENCH_OUT="$(cd "$BENCH_OUT" && pwd -P)"
export BENCH_STATS_FILE="$BENCH_OUT/daemon-stats.txt"
: >"$BENCH_STATS_FILE"
export BENCH_EMU_REQUESTS_FILE="$BENCH_OUT/emulator-requests.txt"
: >"$BENCH_EMU_REQUESTS_FILE"
mount_system="$bench_helpers/mount_system.sh"
runner_pid=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    bench_teardown "$runner_pid" "$owned_dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Free space: two trees of ~5 KiB per entry (4 KiB blocks + inode), the big file, the creates.
need_kib=$((BENCH_ENTRIES * 5 * need_plain + BENCH_BIG_MIB * 1024 * need_plain
    + BENCH_CREATE_FILES * 5 + 1024 * 1024))
for n in "${emu_sizes[@]}"; do need_kib=$((need_kib + n * 5)); done
avail_kib=$(df --output=avail -k "$BENCH_DIR" | tail -n 1 | tr -d ' ')
((avail_kib > need_kib)) ||
    bench_die "$BENCH_DIR has $((avail_kib / 1024)) MiB free; needs about $((need_kib / 1024)) MiB"
bench_log "work area $BENCH_DIR ($((avail_kib / 1024 / 1024)) GiB free, ~$((need_kib / 1024)) MiB needed)"

# ---- data -------------------------------------------------------------------------------------
data="$BENCH_DIR/data"
mkdir -p "$data" "$BENCH_DIR/mnt"
make_tree() { "$BENCH_PYTHON" "$bench_helpers/make_tree.py" "$@"; }

if ((need_plain)); then
    stamp="entries=$BENCH_ENTRIES seed=$BENCH_SEED big_mib=$BENCH_BIG_MIB"
    if [[ "$(cat "$data/plain.stamp" 2>/dev/null)" != "$stamp" ]]; then
        bench_log "generating the tree: $BENCH_ENTRIES entries + a $BENCH_BIG_MIB MiB file"
        rm -rf --one-file-system "$data/plain" "$data/plain.stamp"
        mkdir -p "$data/plain/scratch"
        make_tree "$data/plain/tree" --entries "$BENCH_ENTRIES" --seed "$BENCH_SEED" \
            --manifest "$data/plain.manifest.json"
        # Random bytes: neither sparse nor compressible, so every system really reads 512 MiB.
        head -c "$((BENCH_BIG_MIB * 1024 * 1024))" /dev/urandom >"$data/plain/big.bin"
        echo "$stamp" >"$data/plain.stamp"
    fi
    cp "$data/plain.manifest.json" "$BENCH_OUT/manifest-plain.json"
fi

for n in "${emu_sizes[@]}"; do
    stamp="entries=$n seed=$BENCH_SEED big_mib=$BENCH_EMU_BIG_MIB"
    if [[ "$(cat "$data/emu-$n.stamp" 2>/dev/null)" != "$stamp" ]]; then
        bench_log "generating the emulator tree ($n entries, links made through the emulator)"
        rm -rf --one-file-system "$data/emu-$n" "$data/emu-$n.stamp"
        mkdir -p "$data/emu-$n"
        daemon_start emu-gen "$BENCH_DIR/mnt/emu-gen" fuse.cifs-emulator \
            "$CIFS_EMULATOR_BIN" "$data/emu-$n" "$BENCH_DIR/mnt/emu-gen" -f
        make_tree "$data/emu-$n/tree" --link-root "$BENCH_DIR/mnt/emu-gen/tree" --entries "$n" \
            --seed "$BENCH_SEED" --manifest "$data/emu-$n.manifest.json"
        daemon_stop emu-gen
        links=$("$BENCH_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["links"])' \
            "$data/emu-$n.manifest.json")
        # XSym files: exactly 1067 bytes starting with "XSym\n" (a plain file may be 1067 bytes).
        xsym=$(find "$data/emu-$n/tree" -type f -size 1067c -print0 | "$BENCH_PYTHON" -c '
import sys
paths = [p for p in sys.stdin.buffer.read().split(b"\0") if p]
print(sum(open(p, "rb").read(5) == b"XSym\n" for p in paths))')
        [[ $xsym == "$links" ]] ||
            bench_die "the emulator stored $xsym XSym files for $links links: fixture broken?"
        # The emulator stores regular files as they are: the file it serves for `read`.
        head -c "$((BENCH_EMU_BIG_MIB * 1024 * 1024))" /dev/urandom >"$data/emu-$n/big.bin"
        echo "$stamp" >"$data/emu-$n.stamp"
    fi
    cp "$data/emu-$n.manifest.json" "$BENCH_OUT/manifest-emu-$n.json"
done

# ---- measurements -----------------------------------------------------------------------------
workload_command() {
    local w="$1" root="$2" check="$3"
    case "$w" in
        walk) echo "$BENCH_PYTHON $bench_helpers/walk.py $root/tree > $check" ;;
        find) echo "find $root/tree -type l | wc -l > $check" ;;
        du) echo "du -s $root/tree | cut -f1 > $check" ;;
        ls) echo "ls -lR $root/tree | wc -l > $check" ;;
        read) echo "dd if=$root/big.bin of=/dev/null bs=1M 2> $check" ;;
        create) echo "$BENCH_PYTHON $bench_helpers/create_delete.py $root/scratch $BENCH_CREATE_FILES > $check" ;;
    esac
}

{
    echo "{"
    echo "  \"started\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
    echo "  \"kernel\": \"$(uname -r)\","
    echo "  \"cpu\": \"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr -d '"')\","
    echo "  \"cores\": $(nproc),"
    echo "  \"load_start\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
    echo "  \"mem_gib\": $(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo),"
    echo "  \"disk\": \"$(df --output=source,fstype "$BENCH_DIR" | tail -n 1 | tr -s ' ')\","
    echo "  \"git\": \"$(git -C "$bench_repo" rev-parse --short HEAD 2>/dev/null || echo unknown)\","
    echo "  \"dtypefs\": \"$( ((need_dtypefs)) && { "$DTYPEFS_BIN" --version 2>&1 | head -n 1 | tr -d '"\\'; } || true)\","
    echo "  \"dtypefs_bin\": \"$( ((need_dtypefs)) && echo "$DTYPEFS_BIN, modified $(date -u -r "$DTYPEFS_BIN" +%Y-%m-%dT%H:%M:%SZ)" || true)\","
    echo "  \"hyperfine\": \"$(hyperfine --version)\","
    echo "  \"bindfs\": \"$(bindfs --version 2>&1 | head -n 1)\","
    echo "  \"mergerfs\": \"$(mergerfs --version 2>&1 | head -n 1)\","
    echo "  \"passthrough_ll\": \"$( ((need_pll)) && echo "$PASSTHROUGH_LL_BIN from $pll_source, libfuse $(pkg-config --modversion fuse3)" || true)\","
    echo "  \"entries\": $BENCH_ENTRIES, \"runs\": $BENCH_RUNS, \"big_mib\": $BENCH_BIG_MIB,"
    echo "  \"create_files\": $BENCH_CREATE_FILES, \"cache\": \"$BENCH_CACHE\","
    echo "  \"emu_entries\": $BENCH_EMU_ENTRIES, \"emu_slow_entries\": $BENCH_EMU_SLOW_ENTRIES, \"emu_big_mib\": $BENCH_EMU_BIG_MIB,"
    echo "  \"quick\": ${BENCH_QUICK:-0}, \"nice\": $BENCH_NICE, \"order\": \"$BENCH_ORDER\","
    echo "  \"command\": \"${user_settings//\"/}scripts/bench.sh\","
    echo "  \"systems\": \"${systems[*]}\""
    echo "}"
} >"$BENCH_OUT/meta.json"

workloads_of() {
    case "$1" in emu-*) echo "${emu_workloads[*]}" ;; *) echo "${workloads[*]}" ;; esac
}

# One hyperfine call: `runs` runs of (sys, w), each after a fresh mount, exported to `json`.
# Appends "sys w rc seconds" to `record`.
failures=0
measure() {
    local sys="$1" w="$2" runs="$3" json="$4" record="$5" root check cmd pair_start rc=0
    root="$("$mount_system" path "$sys")"
    check="$BENCH_OUT/checks/$sys.$w"
    cmd="$(workload_command "$w" "$root" "$check")"
    pair_start=$SECONDS
    # In the background + wait, so that a signal runs our trap at once (it ends the runner).
    BENCH_LABEL="$sys/$w" timeout -k 30 "$BENCH_PAIR_TIMEOUT" \
        nice -n "$BENCH_NICE" hyperfine --style basic --runs "$runs" \
        --prepare "$mount_system remount $sys" --cleanup "$mount_system umount $sys" \
        --command-name "$sys/$w" --export-json "$json" "$cmd" >&2 &
    runner_pid=$!
    wait "$runner_pid" || rc=$?
    runner_pid=""
    # A failed call must not leave its mount behind for the next one.
    BENCH_LABEL="$sys/$w" "$mount_system" umount "$sys"
    echo "$sys $w $rc $((SECONDS - pair_start))" >>"$record"
    if ((rc != 0)); then
        failures=$((failures + 1))
        rm -f "$json"
        bench_log "$sys / $w FAILED (exit $rc); see $BENCH_DIR/run/*.log"
        cp "$BENCH_DIR"/run/*.log "$BENCH_OUT/" 2>/dev/null || true
    fi
}

: >"$BENCH_OUT/pairs.txt"
bench_start=$SECONDS
if [[ $BENCH_ORDER == grouped ]]; then
    for sys in "${systems[@]}"; do
        for w in $(workloads_of "$sys"); do
            bench_log "$sys / $w: $BENCH_RUNS runs"
            measure "$sys" "$w" "$BENCH_RUNS" "$BENCH_OUT/json/$sys.$w.json" "$BENCH_OUT/pairs.txt"
        done
    done
else
    # Round r runs every (system, workload) once, workload by workload; a pair that failed is
    # not run again. The rounds' JSON files are then merged into one per pair.
    mkdir -p "$BENCH_OUT/rounds"
    all_workloads=()
    for w in "${workloads[@]}" "${emu_workloads[@]}"; do
        [[ " ${all_workloads[*]} " == *" $w "* ]] || all_workloads+=("$w")
    done
    for ((round = 1; round <= BENCH_RUNS; round++)); do
        bench_log "round $round of $BENCH_RUNS"
        for w in "${all_workloads[@]}"; do
            for sys in "${systems[@]}"; do
                [[ " $(workloads_of "$sys") " == *" $w "* ]] || continue
                grep -q "^$sys $w [1-9]" "$BENCH_OUT/rounds/pairs.txt" 2>/dev/null && continue
                measure "$sys" "$w" 1 "$BENCH_OUT/rounds/$sys.$w.$round.json" "$BENCH_OUT/rounds/pairs.txt"
            done
        done
    done
    "$BENCH_PYTHON" "$bench_helpers/merge_rounds.py" "$BENCH_OUT/rounds" "$BENCH_OUT/json" "$BENCH_OUT/pairs.txt"
fi
bench_log "measurements took $((SECONDS - bench_start)) s"
echo "$((SECONDS - bench_start))" >"$BENCH_OUT/seconds.txt"
cut -d' ' -f1-3 /proc/loadavg >"$BENCH_OUT/load-end.txt"

"$BENCH_PYTHON" "$bench_helpers/report.py" "$BENCH_OUT" >"$BENCH_OUT/results.md"
cat "$BENCH_OUT/results.md"
bench_log "results: $BENCH_OUT/results.md"
((failures == 0)) || bench_die "$failures (system, workload) pairs failed"
