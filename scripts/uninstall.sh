#!/usr/bin/env bash
# Remove what scripts/install.sh installed for PREFIX, and nothing else.
#
# usage: scripts/uninstall.sh [PREFIX]
#   PREFIX          the prefix given to install.sh (default /usr/local); removes
#                   PREFIX/bin/dtypefs, PREFIX/share/man/man8/dtypefs.8 and dtypefs@.service from
#                   /etc/systemd/system (PREFIX/lib/systemd/system when PREFIX is /usr)
#   DESTDIR=DIR, UNITDIR=DIR  (environment) as given to install.sh
#
# The unit is removed only if it runs PREFIX/bin/dtypefs (else another install owns it), and not
# while an instance of it is enabled or running (disable it first: the template must not disappear
# under it). Mounts served by a running dtypefs are left alone.
set -euo pipefail

die() { echo "uninstall.sh: error: $*" >&2; exit 1; }
note() { echo "uninstall.sh: $*"; }

prefix=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [ -z "$prefix" ] || die "more than one PREFIX given: '$prefix' and '$1'"; prefix="$1"; shift ;;
    esac
done
# shellcheck source=lib/install-layout.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/install-layout.sh"
install_layout "$prefix"
unit="$destdir$unitdir/dtypefs@.service"

systemd_running=0
if [ -z "$destdir" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemd_running=1
fi

files=("$destdir$bindir/dtypefs" "$destdir$mandir/dtypefs.8")
if [ -e "$unit" ]; then
    if ! grep -qF "ExecStart=$bindir/dtypefs " "$unit"; then
        note "keeping $unit: it runs $(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit"), not $bindir/dtypefs"
    else
        # Instances enabled from this unit file (systemctl enable links them to it).
        enabled=()
        for root in "$destdir$unitdir" "$destdir/etc/systemd/system" "$destdir/usr/lib/systemd/system"; do
            for link in "$root"/*.wants/dtypefs@?*.service "$root"/*.requires/dtypefs@?*.service; do
                if [ -L "$link" ] && [ "$(readlink "$link")" = "$unitdir/dtypefs@.service" ]; then
                    enabled+=("$link")
                fi
            done
        done
        [ ${#enabled[@]} -eq 0 ] || die "instances of dtypefs@.service are still enabled: ${enabled[*]};" \
            "run 'systemctl disable --now dtypefs@INSTANCE.service' for each first"
        if [ "$systemd_running" -eq 1 ]; then
            active="$(systemctl list-units --no-legend --plain --state=active,activating,reloading \
                'dtypefs@*.service' 2>/dev/null | awk '{print $1}')"
            [ -z "$active" ] || die "instances of dtypefs@.service are running: $active; stop them first"
        fi
        files+=("$unit")
    fi
fi

removed=()
for file in "${files[@]}"; do
    if [ -e "$file" ] || [ -L "$file" ]; then
        if [ -d "$file" ] && [ ! -L "$file" ]; then die "$file is a directory, not something install.sh made"; fi
        rm -f "$file" || die "cannot remove $file"
        removed+=("$file")
    fi
done

if [ ${#removed[@]} -eq 0 ]; then
    note "nothing to remove for PREFIX=$prefix${destdir:+ (DESTDIR=$destdir)}"
else
    note "removed:"
    printf '  %s\n' "${removed[@]}"
fi

if [ "$systemd_running" -eq 1 ]; then
    systemctl daemon-reload || die "systemctl daemon-reload failed"
    note "systemd reloaded"
fi

if [ -z "$destdir" ]; then
    mounts="$(awk '$3 == "fuse.dtypefs" {print $2}' /proc/self/mounts 2>/dev/null || true)"
    if [ -n "$mounts" ]; then
        note "note: these dtypefs mounts are still up (umount them when done):" $mounts
    fi
fi
