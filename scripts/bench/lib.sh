# Shared by scripts/bench.sh, scripts/bench-scale.sh and scripts/bench/mount_system.sh (sourced).
#
# Layout under $BENCH_DIR (one benchmark's private work area):
#   data/plain/{tree/,big.bin,scratch/}   backing of native, dtypefs-*, bindfs, mergerfs
#   data/emu-<N>/tree/                    emulator backing with N entries, links stored as XSym
#   mnt/<name>/                           mount points, one per mount this benchmark makes
#   run/<name>.pid                        "PID MOUNTPOINT FSTYPE" of each daemon we started
#   run/<name>.log                        its stdout and stderr

bench_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bench_helpers="$bench_repo/scripts/bench"

bench_log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# The fstype of the topmost mount at $1 ("" when nothing is mounted there). Our paths never hold
# spaces or escapes (bench.sh refuses such a BENCH_DIR), so field 5 compares as is.
mount_fstype() {
    awk -v m="$1" '$5 == m { for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); break } }
                   END { print t }' /proc/self/mountinfo
}

# Is $1 a live process whose command line names mount point $2? Guards against pid reuse: we only
# ever signal a daemon we started, identified by its pid file.
pid_is_our_daemon() {
    local pid="$1" mnt="$2"
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$mnt"
}

# daemon_start NAME MOUNTPOINT FSTYPE CMD...: run a FUSE daemon in the foreground (-f is in CMD),
# detached from our terminal and session (so Ctrl-C reaches only us, and our trap unmounts it),
# then wait until its mount shows in mountinfo. Records run/NAME.pid.
daemon_start() {
    local name="$1" mnt="$2" fstype="$3"; shift 3
    local run="$BENCH_DIR/run" pid deadline
    mkdir -p "$run" "$mnt"
    if [[ -n "$(mount_fstype "$mnt")" ]]; then
        bench_die "$mnt is already a mount point; refusing to stack on it"
    fi
    setsid "$@" </dev/null >>"$run/$name.log" 2>&1 &
    pid=$!
    echo "$pid $mnt $fstype" >"$run/$name.pid"
    deadline=$((SECONDS + ${BENCH_MOUNT_TIMEOUT:-30}))
    until [[ "$(mount_fstype "$mnt")" == "$fstype" ]]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            rm -f "$run/$name.pid"
            tail -n 20 "$run/$name.log" >&2
            bench_die "$name exited before mounting $mnt ($*)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 20 "$run/$name.log" >&2
            daemon_stop "$name"
            bench_die "$name did not mount $mnt within ${BENCH_MOUNT_TIMEOUT:-30}s"
        fi
        sleep 0.01
    done
}

# daemon_stats NAME: "VmHWM_KiB VmRSS_KiB fds threads" of a running daemon we started, or nothing.
daemon_stats() {
    local pidfile="$BENCH_DIR/run/$1.pid" pid mnt fstype
    [[ -r $pidfile ]] || return 0
    read -r pid mnt fstype <"$pidfile"
    pid_is_our_daemon "$pid" "$mnt" || return 0
    local hwm rss threads fds
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    echo "$hwm $rss $fds $threads"
}

# daemon_stop NAME: unmount what NAME mounted (only if it is still the mount we made), wait for
# the daemon to exit; if it does not, lazy-unmount and end it by its pid.
daemon_stop() {
    local name="$1" pidfile="$BENCH_DIR/run/$1.pid" pid mnt fstype deadline
    [[ -r $pidfile ]] || return 0
    read -r pid mnt fstype <"$pidfile"
    deadline=$((SECONDS + 20))
    while [[ "$(mount_fstype "$mnt")" == "$fstype" ]] && ((SECONDS < deadline)); do
        fusermount3 -u "$mnt" 2>/dev/null && break
        sleep 0.2
    done
    [[ "$(mount_fstype "$mnt")" == "$fstype" ]] && fusermount3 -uz "$mnt" 2>/dev/null
    if pid_is_our_daemon "$pid" "$mnt"; then
        deadline=$((SECONDS + 10))
        while pid_is_our_daemon "$pid" "$mnt" && ((SECONDS < deadline)); do sleep 0.02; done
        if pid_is_our_daemon "$pid" "$mnt"; then
            bench_log "$name (pid $pid) still running after unmount: SIGTERM, then SIGKILL"
            kill -TERM "$pid" 2>/dev/null
            sleep 2
            pid_is_our_daemon "$pid" "$mnt" && kill -KILL "$pid" 2>/dev/null
        fi
    fi
    # Reap it when it is our child (daemon_start ran in this shell): its exit status is left in
    # daemon_exit_status (127 when it was not our child, e.g. started by another mount_system.sh).
    daemon_exit_status=0
    wait "$pid" 2>/dev/null || daemon_exit_status=$?
    rm -f "$pidfile"
}

# Every daemon this benchmark still has running, upper mounts (dtypefs over the emulator) first.
daemons_stop_all() {
    local run="$BENCH_DIR/run" f name
    [[ -d $run ]] || return 0
    for pass in upper lower; do
        for f in "$run"/*.pid; do
            [[ -e $f ]] || continue
            name="$(basename "$f" .pid)"
            if [[ $pass == upper && $name == *-under ]]; then continue; fi
            daemon_stop "$name"
        done
    done
}

# The end of a run, on every exit: stops the helper process we started ($1, a pid or empty), every
# daemon we mounted, and removes the work area if we created it ($2 = 1) and nothing is mounted under
# it any more (BENCH_KEEP=1 keeps it).
bench_teardown() {
    local helper_pid="$1" owned="$2"
    if [[ -n $helper_pid ]] && kill -0 "$helper_pid" 2>/dev/null; then
        kill -TERM "$helper_pid" 2>/dev/null || true
        wait "$helper_pid" 2>/dev/null || true
    fi
    daemons_stop_all
    if ((owned)) && [[ "${BENCH_KEEP:-0}" != 1 ]]; then
        if grep -qF " $BENCH_DIR/" /proc/self/mountinfo; then
            bench_log "mounts remain under $BENCH_DIR; leaving it in place"
        else
            bench_log "removing $BENCH_DIR"
            rm -rf --one-file-system -- "$BENCH_DIR"
        fi
    fi
}

drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
}

# Emulator tree size for a latency: fast latencies walk the full-size tree, slow ones a smaller
# one (see bench.sh's BENCH_EMU_SLOW_ENTRIES) so that a run stays within minutes.
emu_entries_for_latency() {
    if (($1 == 0)); then echo "$BENCH_EMU_ENTRIES"; else echo "$BENCH_EMU_SLOW_ENTRIES"; fi
}
