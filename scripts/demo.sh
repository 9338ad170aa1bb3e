#!/usr/bin/env bash
# Shows the bug dtypefs fixes, and the fix, on this machine in about a minute.
#
# usage: scripts/demo.sh [SHARE]
#   (no argument)  builds dtypefs and the CIFS emulator test fixture, mounts the emulator over a
#                  temp directory (it stores symlinks as XSym files, like CIFS with mfsymlinks),
#                  creates source/ and results/{linked,link.txt} -> ../source... through it, and
#                  shows d_type / lstat / stat and os.walk's view: wrong. Then mounts dtypefs over
#                  the same path and shows the same: right; `dtypefs check -r` on both.
#   SHARE          a directory on a real share (e.g. a CIFS mount with mfsymlinks): mounts dtypefs
#                  over it at a temp mount point and compares the top level of both.
#
# Installs the Debian packages it needs when missing (root only), builds with `swift build -c
# release` (Swift from PATH or /opt/swift/usr/bin). Everything it mounts is unmounted, every
# process it starts is stopped and every temp directory removed on exit, also on Ctrl-C.
set -euo pipefail

die() { echo "demo.sh: error: $*" >&2; exit 1; }
note() { echo "demo.sh: $*"; }
usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; }

share=""
case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    "") ;;
    *) share="$1" ;;
esac
[ $# -le 1 ] || die "at most one SHARE argument, got $#"
if [ -n "$share" ]; then
    [ -d "$share" ] || die "SHARE '$share' is not a directory"
    share="$(cd "$share" && pwd -P)"
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# --- 1. What this machine needs -----------------------------------------------------------------
[ -e /dev/fuse ] || die "/dev/fuse is missing: this kernel has no FUSE (try: modprobe fuse)"
missing=()
for package in libfuse3-dev fuse3 pkg-config gcc python3; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root, or install them first"
    note "installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v swift >/dev/null \
    || die "swift not found (looked in PATH and /opt/swift/usr/bin): install a Swift 6 toolchain"

# --- 2. Build -----------------------------------------------------------------------------------
note "building dtypefs: swift build -c release (first build takes a few minutes)"
(cd "$repo" && swift build -c release) || die "swift build -c release failed"
dtypefs="$(cd "$repo" && swift build -c release --show-bin-path)/dtypefs"
[ -x "$dtypefs" ] || die "the build produced no $dtypefs"
if [ -z "$share" ]; then
    note "building the CIFS emulator test fixture: scripts/build-emulator.sh"
    "$repo/scripts/build-emulator.sh" >/dev/null || die "scripts/build-emulator.sh failed"
    emulator="$repo/.build/fixtures/cifs-emulator"
fi

# --- 3. Mounts we own, and their cleanup --------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/dtypefs-demo.XXXXXX")"
mounts=()   # mount points, in mount order; unmounted in reverse
pids=()     # the foreground daemons behind them

# The file system type mounted on top at PATH, or nothing. mountinfo escapes ' ', '\t', '\n', '\\'
# in octal; our mount points come from mktemp and the SHARE's canonical path, compared escaped.
top_fstype() {
    local escaped
    escaped="$(printf '%s' "$1" | sed 's/\\/\\134/g; s/ /\\040/g; s/\t/\\011/g')"
    awk -v point="$escaped" '$5 == point { for (i = 7; i <= NF; i++) if ($i == "-") { type = $(i + 1); break } }
        END { if (type != "") print type }' /proc/self/mountinfo
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local i point
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        point="${mounts[$i]}"
        # Unmount only while the topmost mount there is still one of ours (a FUSE daemon of ours).
        case "$(top_fstype "$point")" in
            fuse.dtypefs|fuse.cifs-emulator) ;;
            *) continue ;;
        esac
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            fusermount3 -u "$point" 2>/dev/null && break
            sleep 0.3  # busy: a walker of ours may still be closing its descriptors
        done
        case "$(top_fstype "$point")" in
            fuse.dtypefs|fuse.cifs-emulator) fusermount3 -uz "$point" 2>/dev/null || true ;;
        esac
    done
    for pid in "${pids[@]}"; do
        # Each daemon exits once its mount is gone; give it a moment, then stop it by its pid.
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    # Remove the temp directory only when nothing is mounted beneath it any more: rm -r through a
    # live mount would delete the files behind it (with SHARE, the user's files).
    if awk -v dir="$work/" 'index($5 "/", dir) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        echo "demo.sh: warning: something is still mounted under $work; left it in place" >&2
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo; echo "demo.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

# Starts a FUSE daemon in the foreground (-f) as our child and waits until its mount is on top.
start_daemon() {
    local fstype="$1" point="$2"; shift 2
    local log
    log="$work/$(basename "$1").$RANDOM.log"
    "$@" >"$log" 2>&1 &
    pids+=("$!")
    mounts+=("$point")
    for _ in $(seq 1 200); do
        [ "$(top_fstype "$point")" = "$fstype" ] && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; die "$* exited before mounting"; }
        sleep 0.05
    done
    cat "$log" >&2
    die "$fstype did not appear at $point within 10 s"
}

# --- 4. The view from a program: d_type, lstat, stat, os.walk -----------------------------------
cat >"$work/show.py" <<'PYTHON'
"""Prints what a directory's entries look like to a program: the d_type getdents64 reports, what
lstat and stat say, and where os.walk files them. Used by scripts/demo.sh."""
import ctypes
import os
import platform
import stat
import sys

# getdents64's number differs per architecture; glibc has no wrapper Python could call.
SYS_GETDENTS64 = {"x86_64": 217, "aarch64": 61, "riscv64": 61, "ppc64le": 202, "s390x": 220}.get(platform.machine())
DT_NAMES = {0: "DT_UNKNOWN", 1: "DT_FIFO", 2: "DT_CHR", 4: "DT_DIR", 6: "DT_BLK", 8: "DT_REG", 10: "DT_LNK", 12: "DT_SOCK"}
DT_KIND = {1: "fifo", 2: "char-device", 4: "directory", 6: "block-device", 8: "file", 10: "symlink", 12: "socket"}


def kind(mode):
    for test, name in ((stat.S_ISLNK, "symlink"), (stat.S_ISDIR, "directory"), (stat.S_ISREG, "file"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "char-device"),
                       (stat.S_ISBLK, "block-device")):
        if test(mode):
            return name
    return "other"


def d_types(path):
    """name -> d_type, straight from getdents64 (os.scandir keeps d_type to itself)."""
    if SYS_GETDENTS64 is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    result = {}
    try:
        buf = ctypes.create_string_buffer(64 * 1024)
        while True:
            n = libc.syscall(SYS_GETDENTS64, fd, buf, len(buf))
            if n < 0:
                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), path)
            if n == 0:
                return result
            raw, pos = buf.raw[:n], 0
            while pos < n:
                reclen = int.from_bytes(raw[pos + 16:pos + 18], "little")
                dtype = raw[pos + 18]
                name = raw[pos + 19:pos + reclen].split(b"\0", 1)[0]
                if name not in (b".", b".."):
                    result[os.fsdecode(name)] = dtype
                pos += reclen
    finally:
        os.close(fd)


def table(path, limit):
    types = d_types(path)
    with os.scandir(path) as it:
        # is_dir() is what os.walk asks: it trusts a known d_type and stats only on DT_UNKNOWN.
        walk_side = {e.name: ("dirnames" if e.is_dir() else "filenames") for e in it}
    rows = []
    for name in sorted(walk_side):
        full = os.path.join(path, name)
        try:
            true = kind(os.lstat(full).st_mode)
        except OSError as error:
            true = f"({error.strerror})"
        try:
            followed = kind(os.stat(full).st_mode)
        except OSError:
            followed = "(dangling)"
        reported = "?" if types is None else DT_NAMES.get(types.get(name, 0), f"DT_{types.get(name)}")
        lies = types is not None and types.get(name, 0) != 0 and DT_KIND.get(types[name]) != true
        wrong_walk = (walk_side[name] == "dirnames") != (followed == "directory")
        rows.append((name, reported + ("  <- WRONG" if lies else ""), true, followed,
                     walk_side[name] + ("  <- WRONG" if wrong_walk else "")))
    rows.sort(key=lambda row: ("WRONG" not in row[1] + row[4], row[0]))
    shown = rows[:limit]
    header = ("entry", "d_type (getdents)", "lstat", "stat (follows)", "os.walk puts it in")
    widths = [max(len(str(r[i])) for r in [header, *shown]) for i in range(5)]
    for row in [header, *shown]:
        print("    " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    if len(rows) > limit:
        print(f"    ... and {len(rows) - limit} more entries")
    if types is None:
        print(f"    (d_type not shown: no getdents64 number known for {platform.machine()})")
    return sum("WRONG" in row[1] + row[4] for row in rows)


def walk(path, whole):
    print(f"    os.walk({path!r}):")
    for dirpath, dirnames, filenames in os.walk(path):
        rel = os.path.relpath(dirpath, path)
        print(f"      {rel + '/':12} dirnames={sorted(dirnames)}  filenames={sorted(filenames)}")
        if not whole:
            break


if __name__ == "__main__":
    what, path = sys.argv[1], sys.argv[2]
    if what == "table":
        wrong = table(path, int(sys.argv[3]) if len(sys.argv) > 3 else 1000)
        print(f"    => {wrong} entr{'y' if wrong == 1 else 'ies'} WRONG for tree walkers" if wrong
              else "    => every entry listed here right (this level only: dtypefs check -r looks at the whole tree)")
    else:
        walk(path, what == "walk")
PYTHON
show() { python3 "$work/show.py" "$@"; }
heading() { printf '\n=== %s\n\n' "$*"; }

# Runs `dtypefs check` and says what its exit status means (1 is an expected answer here).
run_check() {
    echo "    \$ dtypefs check $*"
    local output status=0
    output="$("$dtypefs" check "$@" 2>&1)" || status=$?
    printf '%s\n' "$output" | sed 's/^/    /'
    case $status in
        0) echo "    (exit 0: every d_type is honest)" ;;
        1) echo "    (exit 1: some d_type lies)" ;;
        *) echo "    (exit $status: the check failed)" ;;
    esac
}

# --- 5a. A real share: dtypefs over it at a temp mount point -------------------------------------
if [ -n "$share" ]; then
    view="$work/view"
    mkdir "$view"
    heading "$share as it is: its top level, as programs see it"
    show table "$share" 30
    echo
    show top "$share"
    echo
    run_check "$share"
    start_daemon fuse.dtypefs "$view" "$dtypefs" "$share" "$view" -f
    heading "the same through dtypefs: dtypefs $share $view"
    show table "$view" 30
    echo
    show top "$view"
    echo
    run_check "$view"
    echo
    echo "To check the whole tree:                  dtypefs check -r $share"
    echo "To mount it for good, over the same path: dtypefs $share $share (see README)"
    echo "(dtypefs here is $dtypefs)"
    exit 0
fi

# --- 5b. The example: the CIFS emulator, then dtypefs over it -----------------------------------
backing="$work/backing"
share="$work/share"
mkdir "$backing" "$share"
start_daemon fuse.cifs-emulator "$share" "$emulator" "$backing" "$share" -f

# Made through the emulator, so the links are stored as XSym files, as CIFS mfsymlinks does.
mkdir "$share/source" "$share/results"
echo "the file" >"$share/source/link.txt"
echo "data" >"$share/source/data.csv"
echo "plain" >"$share/results/notes.txt"
ln -s ../source "$share/results/linked"
ln -s ../source/link.txt "$share/results/link.txt"

cat <<EOF

The share (a CIFS mfsymlinks stand-in, the emulator mounted at $share) holds:
    source/link.txt, source/data.csv
    results/notes.txt
    results/linked   -> ../source            (made with ln -s through the mount)
    results/link.txt -> ../source/link.txt   (made with ln -s through the mount)
On the server the two links are plain 1067-byte "XSym" files:
    $(head -c 4 "$backing/results/linked"), $(stat -c '%s bytes, %F' "$backing/results/linked")
EOF

heading "1. the share as it is: results/"
show table "$share/results"
echo
show walk "$share"
echo "    os.walk files the link to a directory, 'linked', under filenames and never sees a directory."
echo
run_check -r "$share"

start_daemon fuse.dtypefs "$share" "$dtypefs" "$share" "$share" -f
heading "2. the same path with dtypefs mounted over it: dtypefs $share $share"
show table "$share/results"
echo
show walk "$share"
echo "    'linked' is under dirnames again (os.walk does not enter it: it does not follow links)."
echo
run_check -r "$share"
echo
echo "Done: everything is unmounted and $work removed on exit."
