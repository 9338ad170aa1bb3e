#define _GNU_SOURCE
#include "clinux.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/securebits.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

const int clinux_O_PATH = O_PATH;
const int clinux_O_DIRECT = O_DIRECT;
const int clinux_O_NOATIME = O_NOATIME;
const int clinux_O_TMPFILE = O_TMPFILE;
const int clinux_AT_EMPTY_PATH = AT_EMPTY_PATH;
const long clinux_UTIME_NOW = UTIME_NOW;
const long clinux_UTIME_OMIT = UTIME_OMIT;
const int clinux_SEEK_DATA = SEEK_DATA;
const int clinux_SEEK_HOLE = SEEK_HOLE;
const unsigned clinux_RENAME_NOREPLACE = RENAME_NOREPLACE;
const unsigned clinux_RENAME_EXCHANGE = RENAME_EXCHANGE;
const unsigned clinux_RENAME_WHITEOUT = RENAME_WHITEOUT;
const int clinux_F_OFD_GETLK = F_OFD_GETLK;
const int clinux_F_OFD_SETLK = F_OFD_SETLK;
const int clinux_F_OFD_SETLKW = F_OFD_SETLKW;
const uint64_t clinux_RESOLVE_BENEATH = RESOLVE_BENEATH;
const uint64_t clinux_RESOLVE_NO_SYMLINKS = RESOLVE_NO_SYMLINKS;
const uint64_t clinux_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;
const uint64_t clinux_RESOLVE_NO_XDEV = RESOLVE_NO_XDEV;

int clinux_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(unsigned)flags;
    // The kernel rejects a mode without O_CREAT/O_TMPFILE.
    how.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int clinux_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

int clinux_fcntl_lock(int fd, int cmd, struct flock *lock) {
    return fcntl(fd, cmd, lock);
}

int clinux_flock(int fd, int operation) { return flock(fd, operation); }

int clinux_setfsuid(uid_t uid) { return setfsuid(uid); }
int clinux_setfsgid(gid_t gid) { return setfsgid(gid); }

int clinux_keep_caps_across_fsuid(void) {
    int bits = prctl(PR_GET_SECUREBITS);
    if (bits < 0) return -1;
    return prctl(PR_SET_SECUREBITS, (unsigned long)(bits | SECBIT_NO_SETUID_FIXUP));
}

int clinux_set_fsetid_effective(int enabled) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    if (enabled)
        data[CAP_TO_INDEX(CAP_FSETID)].effective |= CAP_TO_MASK(CAP_FSETID);
    else
        data[CAP_TO_INDEX(CAP_FSETID)].effective &= ~CAP_TO_MASK(CAP_FSETID);
    return (int)syscall(SYS_capset, &header, data);
}

static void clinux_ignore_signal(int signal) { (void)signal; }

int clinux_install_interrupting_handler(int signal) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = clinux_ignore_signal;
    sigemptyset(&action.sa_mask);
    return sigaction(signal, &action, NULL);
}

int clinux_bind_remount(const char *path, unsigned flags) {
    unsigned long ms = MS_REMOUNT | MS_BIND;
    if (flags & CLINUX_MOUNT_RDONLY) ms |= MS_RDONLY;
    if (flags & CLINUX_MOUNT_NOSUID) ms |= MS_NOSUID;
    if (flags & CLINUX_MOUNT_NODEV) ms |= MS_NODEV;
    if (flags & CLINUX_MOUNT_NOEXEC) ms |= MS_NOEXEC;
    if (flags & CLINUX_MOUNT_NODIRATIME) ms |= MS_NODIRATIME;
    if (flags & CLINUX_MOUNT_NOATIME) ms |= MS_NOATIME;
    else if (flags & CLINUX_MOUNT_RELATIME) ms |= MS_RELATIME;
    else ms |= MS_STRICTATIME;
    return mount(NULL, path, NULL, ms, NULL);
}

int clinux_identity(int dirfd, const char *name, uint64_t *device, uint64_t *inode, uint32_t *mode) {
    struct statx result;
    int flags = AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC | (name[0] == 0 ? AT_EMPTY_PATH : 0);
    int status = statx(dirfd, name, flags, STATX_TYPE | STATX_INO, &result);
    if (status != 0) return status;
    *device = makedev(result.stx_dev_major, result.stx_dev_minor);
    *inode = result.stx_ino;
    *mode = result.stx_mode;
    return 0;
}

int clinux_lstat_at(int dirfd, const char *name, struct stat *result) {
    struct statx x;
    int flags = AT_SYMLINK_NOFOLLOW | (name[0] == 0 ? AT_EMPTY_PATH : 0);
    if (statx(dirfd, name, flags, STATX_BASIC_STATS & ~STATX_ATIME, &x) != 0) return -1;
    memset(result, 0, sizeof *result);
    result->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
    result->st_ino = x.stx_ino;
    result->st_mode = x.stx_mode;
    result->st_nlink = x.stx_nlink;
    result->st_uid = x.stx_uid;
    result->st_gid = x.stx_gid;
    result->st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
    result->st_size = (off_t)x.stx_size;
    result->st_blksize = (blksize_t)x.stx_blksize;
    result->st_blocks = (blkcnt_t)x.stx_blocks;
    result->st_atim.tv_sec = x.stx_atime.tv_sec;
    result->st_atim.tv_nsec = x.stx_atime.tv_nsec;
    result->st_mtim.tv_sec = x.stx_mtime.tv_sec;
    result->st_mtim.tv_nsec = x.stx_mtime.tv_nsec;
    result->st_ctim.tv_sec = x.stx_ctime.tv_sec;
    result->st_ctim.tv_nsec = x.stx_ctime.tv_nsec;
    return 0;
}

int clinux_limit_malloc_arenas(int count) {
    return mallopt(M_ARENA_MAX, count);
}

ssize_t clinux_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len, unsigned flags) {
    return copy_file_range(fd_in, (loff_t *)off_in, fd_out, (loff_t *)off_out, len, flags);
}

int clinux_fallocate(int fd, int mode, int64_t offset, int64_t len) {
    return fallocate(fd, mode, offset, len);
}

ssize_t clinux_getdents64(int fd, void *buffer, size_t size) {
    return syscall(SYS_getdents64, fd, buffer, size);
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

long clinux_dirent_at(const void *buffer, long length, long position, clinux_dirent *out) {
    if (position < 0 || position >= length) return -1;
    const struct linux_dirent64 *d = (const struct linux_dirent64 *)((const char *)buffer + position);
    out->ino = d->d_ino;
    out->off = d->d_off;
    out->reclen = d->d_reclen;
    out->type = d->d_type;
    out->name = d->d_name;
    return position + d->d_reclen;
}

int clinux_set_thread_umask(mode_t mask) {
    static __thread int unshared;
    if (!unshared) {
        if (unshare(CLONE_FS) != 0) return -1;
        unshared = 1;
    }
    return (int)umask(mask);
}
