# Sourced by install.sh and uninstall.sh: where dtypefs's files go, from PREFIX (the first
# argument, default /usr/local), DESTDIR and UNITDIR. Sets prefix, destdir, bindir, mandir and
# unitdir; calls die() (defined by the caller) on a bad value.
install_layout() {
    prefix="${1:-/usr/local}"
    case "$prefix" in /*) ;; *) die "PREFIX must be an absolute path, not '$prefix'" ;; esac
    prefix="${prefix%/}"; prefix="${prefix:-/}"
    destdir="${DESTDIR:-}"
    destdir="${destdir%/}"
    if [ -n "$destdir" ]; then
        case "$destdir" in /*) ;; *) die "DESTDIR must be an absolute path, not '$destdir'" ;; esac
    fi
    bindir="${prefix%/}/bin"
    mandir="${prefix%/}/share/man/man8"
    # Units of packages that own /usr live in /usr/lib; a local install's belong in /etc.
    if [ "$prefix" = /usr ]; then unitdir=/usr/lib/systemd/system; else unitdir=/etc/systemd/system; fi
    unitdir="${UNITDIR:-$unitdir}"
    case "$unitdir" in /*) ;; *) die "UNITDIR must be an absolute path, not '$unitdir'" ;; esac
}
