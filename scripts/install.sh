#!/usr/bin/env bash
# Build and install dtypefs: the binary, its manual page and the systemd template unit.
#
# usage: scripts/install.sh [--binary FILE] [--no-deps] [PREFIX]
#   PREFIX          install prefix (default /usr/local): PREFIX/bin/dtypefs,
#                   PREFIX/share/man/man8/dtypefs.8, and the unit dtypefs@.service in
#                   /etc/systemd/system (PREFIX/lib/systemd/system when PREFIX is /usr)
#   --binary FILE   install FILE instead of building (for packaging or a binary built elsewhere)
#   --no-deps       do not check or install the Debian packages
#   DESTDIR=DIR     (environment) stage every file under DIR; paths inside the files stay as if
#                   installed in PREFIX, and systemd is not reloaded
#   UNITDIR=DIR     (environment) put the unit in DIR instead
#
# Idempotent: running it again replaces the files with the current ones.
set -euo pipefail

die() { echo "install.sh: error: $*" >&2; exit 1; }
note() { echo "install.sh: $*"; }

usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary=""
deps=1
prefix=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --binary) [ $# -ge 2 ] || die "--binary needs a file"; binary="$2"; shift 2 ;;
        --binary=*) binary="${1#--binary=}"; shift ;;
        --no-deps) deps=0; shift ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [ -z "$prefix" ] || die "more than one PREFIX given: '$prefix' and '$1'"; prefix="$1"; shift ;;
    esac
done
# shellcheck source=lib/install-layout.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/install-layout.sh"
install_layout "$prefix"
installed_bin="$bindir/dtypefs"

if [ "$(id -u)" -ne 0 ] && [ -z "$destdir" ]; then
    note "warning: not root; installing into $prefix and $unitdir will probably fail" >&2
fi

# 1. Packages: only touch apt when something is missing (keeps reruns fast and offline).
packages=(libfuse3-dev fuse3 pkg-config)
if [ "$deps" -eq 1 ] && [ -z "$binary" ]; then
    missing=()
    for p in "${packages[@]}"; do
        status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
        [ "$status" = "install ok installed" ] || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}; run as root or install them first"
        command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
        note "installing packages: ${missing[*]}"
        apt-get update || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" || die "apt-get install ${missing[*]} failed"
    fi
elif [ "$deps" -eq 1 ]; then
    # A prebuilt binary still needs the runtime: libfuse3 and fusermount3.
    if ! dpkg-query -W -f='${Status}' fuse3 2>/dev/null | grep -q '^install ok installed$'; then
        [ "$(id -u)" -eq 0 ] || die "package fuse3 is missing; run as root or install it first"
        note "installing package: fuse3"
        apt-get update || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y fuse3 || die "apt-get install fuse3 failed"
    fi
fi

# 2. The binary: build it unless one was given.
if [ -z "$binary" ]; then
    if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null || die "swift not found (looked in PATH and /opt/swift/usr/bin); install a Swift toolchain or use --binary FILE"
    note "building: swift build -c release (in $repo)"
    (cd "$repo" && swift build -c release) || die "swift build -c release failed"
    binary="$(cd "$repo" && swift build -c release --show-bin-path)/dtypefs"
fi
[ -f "$binary" ] && [ -x "$binary" ] || die "no executable binary at '$binary'"
"$binary" --version >/dev/null 2>&1 || die "'$binary --version' failed: is it a dtypefs binary for this machine?"

# 3. Install. `install` replaces each file through a new inode, so a running daemon keeps its copy.
man_src="$repo/scripts/man/dtypefs.8"
unit_src="$repo/scripts/systemd/dtypefs@.service"
[ -f "$man_src" ] || die "missing $man_src"
[ -f "$unit_src" ] || die "missing $unit_src"

install -d -m 0755 "$destdir$bindir" "$destdir$mandir" "$destdir$unitdir" \
    || die "cannot create the install directories under '$destdir$prefix' and '$destdir$unitdir'"
install -m 0755 "$binary" "$destdir$installed_bin" || die "cannot install $destdir$installed_bin"
install -m 0644 "$man_src" "$destdir$mandir/dtypefs.8" || die "cannot install $destdir$mandir/dtypefs.8"

# The unit names the binary by absolute path: point it at this PREFIX.
unit_tmp="$(mktemp)"
trap 'rm -f "$unit_tmp"' EXIT
escaped_bin="$(printf '%s' "$installed_bin" | sed 's/[\\|&]/\\&/g')"
sed "s|/usr/local/bin/dtypefs|$escaped_bin|g" "$unit_src" > "$unit_tmp"
grep -qxF "ExecStart=$installed_bin %f %f -o require_mountpoint \$DTYPEFS_OPTIONS" "$unit_tmp" || die "could not point the unit's ExecStart at $installed_bin"
install -m 0644 "$unit_tmp" "$destdir$unitdir/dtypefs@.service" || die "cannot install $destdir$unitdir/dtypefs@.service"

note "installed:"
echo "  $destdir$installed_bin"
echo "  $destdir$mandir/dtypefs.8"
echo "  $destdir$unitdir/dtypefs@.service"
echo "  ($("$destdir$installed_bin" --version 2>&1 | head -n 1))"

# 4. systemd: reload only a running systemd, and only for a real install.
if [ -z "$destdir" ]; then
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        systemctl daemon-reload || die "systemctl daemon-reload failed"
        note "systemd reloaded"
    else
        note "systemd is not running here: no daemon-reload"
    fi
fi

# 5. mount(8) -> mount.fuse3 runs `dtypefs` through /bin/sh with this PATH and no other.
mount_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
case ":$mount_path:" in
    *":$bindir:"*) ;;
    *) note "warning: $bindir is not on mount.fuse3's PATH ($mount_path): fstab lines and" \
            "'mount -t fuse.dtypefs' will not find dtypefs; link it, e.g." \
            "ln -s $installed_bin /usr/local/bin/dtypefs" >&2 ;;
esac
