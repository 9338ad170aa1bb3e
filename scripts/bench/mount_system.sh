#!/usr/bin/env bash
# Mounts and unmounts one benchmarked system; hyperfine's --prepare and --cleanup call it.
#
# Usage: mount_system.sh mount|umount|remount|path SYSTEM
#        mount_system.sh cleanup
# SYSTEM: native | dtypefs-verify | dtypefs-unknown | dtypefs-acl | dtypefs-base | passthrough_ll
#         | bindfs | mergerfs
#         | emu-raw-<µs> | emu-dtypefs-<µs> | emu-base-<µs>   (the CIFS emulator fixture with <µs> latency per
#           request, raw, or with dtypefs dtype=verify on top of it)
#
# remount = umount, then (cache policy "cold", the default) sync + drop_caches, then mount: every
# timed run starts from a fresh mount and cold kernel caches, native included. Policy "warm": sync
# only (the backing filesystem stays cached; the FUSE mount is still fresh).
# "path" prints the directory the workloads use for SYSTEM (the backing directory for native).
#
# Environment (exported by bench.sh): BENCH_DIR, DTYPEFS_BIN, DTYPEFS_BASE_BIN, PASSTHROUGH_LL_BIN,
# CIFS_EMULATOR_BIN, BENCH_CACHE,
# BENCH_EMU_ENTRIES, BENCH_EMU_SLOW_ENTRIES; optional BENCH_STATS_FILE + BENCH_LABEL (on umount,
# append the daemons' peak RSS and fd count as "LABEL NAME VmHWM_KiB VmRSS_KiB fds threads").
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${BENCH_DIR:?BENCH_DIR must be set}"

plain="$BENCH_DIR/data/plain"
mnt="$BENCH_DIR/mnt"

# The daemons (pid-file names) that make up SYSTEM, lowest mount first.
components() {
    case "$1" in
        native) ;;
        dtypefs-verify | dtypefs-unknown | dtypefs-acl | dtypefs-base | passthrough_ll | bindfs | mergerfs) echo "$1" ;;
        emu-raw-[0-9]*) echo "$1" ;;
        emu-dtypefs-[0-9]* | emu-base-[0-9]*) echo "$1-under $1" ;;
        *) bench_die "unknown system: $1" ;;
    esac
}

system_path() {
    case "$1" in
        native) echo "$plain" ;;
        *) echo "$mnt/$1" ;;
    esac
}

# BENCH_DTYPEFS_OPTIONS, appended to every dtypefs mount of the current binary (a lever to measure).
extra_options() { [[ -n ${BENCH_DTYPEFS_OPTIONS:-} ]] && echo ",$BENCH_DTYPEFS_OPTIONS"; }

system_mount() {
    local sys="$1" latency backing bin options
    case "$sys" in
        native) ;;
        dtypefs-verify | dtypefs-unknown)
            daemon_start "$sys" "$mnt/$sys" fuse.dtypefs \
                "$DTYPEFS_BIN" "$plain" "$mnt/$sys" -f -o "dtype=${sys#dtypefs-},fsname=bench-$sys$(extra_options)" ;;
        dtypefs-acl)
            daemon_start "$sys" "$mnt/$sys" fuse.dtypefs "$DTYPEFS_BIN" "$plain" "$mnt/$sys" -f -o "acl,fsname=bench-$sys$(extra_options)" ;;
        dtypefs-base)
            daemon_start "$sys" "$mnt/$sys" fuse.dtypefs "$DTYPEFS_BASE_BIN" "$plain" "$mnt/$sys" -f -o "fsname=bench-$sys" ;;
        passthrough_ll)
            # libfuse's reference with extended attributes on, as dtypefs has them (without them the
            # kernel stops asking and ls -l is not comparable); the largest descriptor limit it can have.
            daemon_start passthrough_ll "$mnt/passthrough_ll" fuse.passthrough_ll \
                prlimit --nofile="$(ulimit -Hn)" "$PASSTHROUGH_LL_BIN" -f \
                -o "xattr,source=$plain,fsname=bench-passthrough_ll,subtype=passthrough_ll" "$mnt/passthrough_ll" ;;
        bindfs)
            # bindfs's defaults (single-threaded unless --multithreaded): as people run it.
            daemon_start bindfs "$mnt/bindfs" fuse "$(command -v bindfs)" -f "$plain" "$mnt/bindfs" ;;
        mergerfs)
            # The man page's recommended page-cache setup, with first-found create (one branch).
            daemon_start mergerfs "$mnt/mergerfs" fuse.mergerfs "$(command -v mergerfs)" -f \
                -o cache.files=partial,dropcacheonclose=true,category.create=ff,fsname=bench-mergerfs \
                "$plain" "$mnt/mergerfs" ;;
        emu-raw-[0-9]*)
            latency="${sys#emu-raw-}"
            backing="$BENCH_DIR/data/emu-$(emu_entries_for_latency "$latency")"
            daemon_start "$sys" "$mnt/$sys" fuse.cifs-emulator \
                "$CIFS_EMULATOR_BIN" "$backing" "$mnt/$sys" -f -o "latency_us=$latency,stats=$(emu_stats_path "$sys")" ;;
        emu-dtypefs-[0-9]* | emu-base-[0-9]*)
            latency="${sys##*-}"
            backing="$BENCH_DIR/data/emu-$(emu_entries_for_latency "$latency")"
            daemon_start "$sys-under" "$mnt/$sys-under" fuse.cifs-emulator \
                "$CIFS_EMULATOR_BIN" "$backing" "$mnt/$sys-under" -f -o "latency_us=$latency,stats=$(emu_stats_path "$sys-under")"
            # The base build runs without the lever options, as dtypefs-base does.
            bin="$DTYPEFS_BIN" options="dtype=verify,fsname=bench-$sys$(extra_options)"
            [[ $sys == emu-base-* ]] && bin="$DTYPEFS_BASE_BIN" options="dtype=verify,fsname=bench-$sys"
            daemon_start "$sys" "$mnt/$sys" fuse.dtypefs "$bin" "$mnt/$sys-under" "$mnt/$sys" -f -o "$options" ;;
        *) bench_die "unknown system: $sys" ;;
    esac
}

# Where an emulator daemon writes the requests it served (-o stats=) at unmount.
emu_stats_path() { echo "$BENCH_DIR/run/$1.requests"; }

system_umount() {
    local sys="$1" names name stats
    names=($(components "$sys"))
    if [[ -n "${BENCH_STATS_FILE:-}" ]]; then
        for name in "${names[@]}"; do
            stats="$(daemon_stats "$name")"
            [[ -n $stats ]] && echo "${BENCH_LABEL:-$sys} $name $stats" >>"$BENCH_STATS_FILE"
        done
    fi
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do
        daemon_stop "${names[i]}"
    done
    # The emulator's request counts of that run: "LABEL requests getattr getxattr listxattr readdir readlink".
    for name in "${names[@]}"; do
        stats="$(emu_stats_path "$name")"
        if [[ -s $stats && -n "${BENCH_EMU_REQUESTS_FILE:-}" ]]; then
            echo "${BENCH_LABEL:-$sys} $(awk '{ printf "%s ", $2 }' "$stats")" >>"$BENCH_EMU_REQUESTS_FILE"
        fi
        rm -f "$stats"
    done
}

# Cold means the measured data is cold, not the programs: reload the workloads' executables and
# Python's startup modules after drop_caches, or every system would pay the same disk reads for
# them and the ratios would shrink towards 1.
warm_tools() {
    "${BENCH_PYTHON:-/usr/bin/python3}" -c 'import os, subprocess, sys' >/dev/null
    find /dev/null -maxdepth 0 -type l >/dev/null
    du -s /dev/null >/dev/null
    ls -lR /dev/null >/dev/null
    dd if=/dev/null of=/dev/null bs=1M status=none
    wc -l </dev/null >/dev/null
    cut -f1 </dev/null >/dev/null
    rm -rf --version >/dev/null
}

action="${1:-}"
case "$action" in
    mount) system_mount "${2:?system}" ;;
    umount) system_umount "${2:?system}" ;;
    remount)
        system_umount "${2:?system}"
        if [[ "${BENCH_CACHE:-cold}" == cold ]]; then
            drop_caches
            warm_tools
        else
            sync  # still flush the previous run's writes, so that no run pays for another's
        fi
        system_mount "$2" ;;
    path) system_path "${2:?system}" ;;
    cleanup) daemons_stop_all ;;
    *) echo "usage: $0 mount|umount|remount|path SYSTEM | cleanup" >&2; exit 2 ;;
esac
