"""A real SMB share on loopback for the integration tests: Samba's smbd with a private
configuration in a temp directory, mounted with smbnetfs (a FUSE SMB client: this kernel has no
CIFS). Both are started here and stopped by their pids, whatever happens.

smbnetfs shows the share at MNT/127.0.0.1/share. Its limits (the control's, not dtypefs's): no
symlinks (ENOSYS), no hard links (EPERM), no xattrs (EOPNOTSUPP), inode numbers that change
after the kernel forgets an inode, names that fold case, an EIO for some non-ASCII names.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import fsmount

SMB_PORT = 445


def missing_programs() -> list[str]:
    return [p for p in ("smbd", "smbnetfs", "smbclient") if shutil.which(p) is None and not Path(f"/usr/sbin/{p}").exists()]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _write_smb_conf(base: Path) -> Path:
    for name in ("run", "lock", "state", "cache", "private", "log", "share"):
        (base / name).mkdir(parents=True, exist_ok=True)
    conf = base / "smb.conf"
    conf.write_text(f"""[global]
  interfaces = lo
  bind interfaces only = yes
  server role = standalone server
  disable netbios = yes
  smb ports = {SMB_PORT}
  pid directory = {base}/run
  lock directory = {base}/lock
  state directory = {base}/state
  cache directory = {base}/cache
  private dir = {base}/private
  ncalrpc dir = {base}/run/ncalrpc
  log file = {base}/log/log.%m
  map to guest = Bad User
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
[share]
  path = {base}/share
  guest ok = yes
  read only = no
  force user = root
""")
    return conf


def _smbd_binary() -> str:
    return shutil.which("smbd") or "/usr/sbin/smbd"


@contextlib.contextmanager
def running_smbd(base: Path):
    """smbd serving base/share on 127.0.0.1; yields its Popen (to stop and restart it)."""
    conf = _write_smb_conf(base)
    if _port_open(SMB_PORT):
        raise RuntimeError(f"something already listens on 127.0.0.1:{SMB_PORT}; stop it to run the SMB tests")
    start_smbd(conf)
    try:
        yield conf
    finally:
        stop_smbd(base)


def start_smbd(conf: Path) -> subprocess.Popen:
    # A session of its own: smbd ends its whole process group when it stops, which must not be ours.
    process = subprocess.Popen([_smbd_binary(), "--foreground", "--no-process-group", "-s", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 20
    while not _port_open(SMB_PORT):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"smbd did not start (exit {process.poll()}); logs in {conf.parent / 'log'}")
        time.sleep(0.05)
    (conf.parent / "run" / "test-smbd.pid").write_text(str(process.pid))
    return process


def stop_smbd(base: Path) -> None:
    """Stops the smbd started for `base` (its main process, which ends its children)."""
    pid_file = base / "run" / "test-smbd.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    pid_file.unlink()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            break
        if finished:
            break
        time.sleep(0.05)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    while _port_open(SMB_PORT) and time.monotonic() < deadline + 5:
        time.sleep(0.05)


@contextlib.contextmanager
def mounted_smbnetfs(base: Path, mountpoint: Path):
    """smbnetfs at `mountpoint`, its config in base/home/.smb (mode 600, as it insists)."""
    home = base / "home"
    (home / ".smb").mkdir(parents=True, exist_ok=True)
    conf = home / ".smb" / "smbnetfs.conf"
    conf.write_text('host 127.0.0.1 visible=true\nauth "guest" ""\n')
    os.chmod(conf, 0o600)
    process = subprocess.Popen(["smbnetfs", str(mountpoint), "-f", "-o", "allow_other"],
                               env={**os.environ, "HOME": str(home)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        fsmount.wait_for_mount(mountpoint, "fuse.smbnetfs", process)
        share = mountpoint / "127.0.0.1" / "share"
        deadline = time.monotonic() + 20
        while not share.is_dir():
            if time.monotonic() > deadline:
                raise TimeoutError(f"smbnetfs never showed {share}")
            time.sleep(0.1)
        yield share
    finally:
        fsmount.unmount(mountpoint, process)
