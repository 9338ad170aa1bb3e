#!/usr/bin/env bash
# Builds dtypefs and runs every test: the Swift unit tests, then the integration tests that mount
# for real (they need root and /dev/fuse). Works on a fresh Debian 12 machine: whatever is missing
# is installed first. Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow" -x
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

step_number=0
current_step=""
banner() {
    step_number=$((step_number + 1))
    current_step="$1"
    printf '\n==== [%d] %s ====\n' "$step_number" "$1"
}
on_exit() {
    local status=$?
    if [[ $status -ne 0 ]]; then
        printf '\n==== FAILED at step [%d] %s (exit %d) ====\n' "$step_number" "$current_step" "$status" >&2
    fi
}
trap on_exit EXIT

# Debian packages the build and the tests use. Each is checked first, so a machine that has them
# all neither needs the network nor root for this step.
#   fuse3, libfuse3-dev, pkg-config, gcc: dtypefs and the CIFS emulator fixture (FUSE)
#   attr: getfattr/setfattr; util-linux: prlimit; findutils, coreutils, tar: walkers under test
#   rsync, ripgrep, fd-find, git, nodejs: real programs the integration tests walk the mounts with
#   systemd (systemd-analyze, the fstab generator), man-db and groff-base: the unit and man page tests
#   strace: counts the xattr calls of ls over a share without xattrs
#   samba, smbnetfs, smbclient: a real SMB share on loopback (test_smb_share.py)
packages=(fuse3 libfuse3-dev pkg-config gcc attr acl util-linux findutils coreutils tar rsync ripgrep
          fd-find git nodejs systemd man-db groff-base strace samba smbnetfs smbclient)

banner "system packages"
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "not root: cannot apt-get install ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "all present: ${packages[*]}"
fi

banner "toolchains"
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v swift >/dev/null 2>&1 || { echo "swift not found (looked on PATH and in /opt/swift/usr/bin)" >&2; exit 1; }
swift --version 2>&1 | head -n 1
command -v python3 >/dev/null 2>&1 || { echo "python3 not found" >&2; exit 1; }
python3 --version
if ! python3 -c "import pytest" 2>/dev/null; then
    echo "installing pytest for $(command -v python3)"
    python3 -m pip install --quiet pytest
fi
python3 -m pytest --version
if python3 -c "import test.support, test.libregrtest" 2>/dev/null; then
    echo "CPython's test package: present"
else
    # test_cpython_suite.py fails with an explanation; say so up front too.
    echo "WARNING: $(command -v python3) has no 'test' package: test_cpython_suite.py will fail" >&2
fi
if [[ ! -e /dev/fuse ]]; then
    modprobe fuse 2>/dev/null || true
fi
[[ -e /dev/fuse ]] && echo "/dev/fuse: present" || echo "WARNING: no /dev/fuse: mount tests cannot run" >&2

banner "swift build -c release"
swift build -c release
ls -l "$repo/.build/release/dtypefs"

banner "CIFS emulator fixture"
bash scripts/build-emulator.sh

banner "swift test (unit tests, no mounting)"
swift test

banner "integration tests: python3 -m pytest -v Tests/Integration $*"
python3 -m pytest -v Tests/Integration "$@"

current_step="done"
printf '\n==== all steps passed ====\n'
