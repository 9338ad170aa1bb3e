// Linux system calls and constants that Swift's Glibc module does not expose (they sit behind
// _GNU_SOURCE, have no glibc 2.36 wrapper, or are variadic). Each is defined once in clinux.c.
#ifndef CLINUX_H
#define CLINUX_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/xattr.h>

extern const int clinux_O_PATH;
extern const int clinux_O_DIRECT;
extern const int clinux_O_NOATIME;
extern const int clinux_O_TMPFILE;
extern const int clinux_AT_EMPTY_PATH;
extern const long clinux_UTIME_NOW;
extern const long clinux_UTIME_OMIT;
extern const int clinux_SEEK_DATA;
extern const int clinux_SEEK_HOLE;
extern const unsigned clinux_RENAME_NOREPLACE;
extern const unsigned clinux_RENAME_EXCHANGE;
extern const unsigned clinux_RENAME_WHITEOUT;
extern const int clinux_F_OFD_GETLK;
extern const int clinux_F_OFD_SETLK;
extern const int clinux_F_OFD_SETLKW;
extern const uint64_t clinux_RESOLVE_BENEATH;
extern const uint64_t clinux_RESOLVE_NO_SYMLINKS;
extern const uint64_t clinux_RESOLVE_NO_MAGICLINKS;
extern const uint64_t clinux_RESOLVE_NO_XDEV;

// Why: glibc 2.36 has no openat2 wrapper; it is our only safe way to resolve beneath the root.
int clinux_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);
// Why: renameat2 is declared only under _GNU_SOURCE.
int clinux_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);
// Why: fcntl is variadic; these are the lock commands with a struct flock.
int clinux_fcntl_lock(int fd, int cmd, struct flock *lock);
// Why: Swift sees both struct flock and flock(2) as `flock` and cannot call the function.
int clinux_flock(int fd, int operation);
// Why: fsuid/fsgid are per-thread on Linux; glibc declares them only under _GNU_SOURCE.
int clinux_setfsuid(uid_t uid);
int clinux_setfsgid(gid_t gid);
// Why: keep root's file capabilities while fsuid is switched to a caller (SECBIT_NO_SETUID_FIXUP).
int clinux_keep_caps_across_fsuid(void);
// Sets the calling thread's own umask (the thread stops sharing umask, cwd and root with the
// others the first time: unshare(CLONE_FS)); returns the previous one, or -1 if unshare failed.
int clinux_set_thread_umask(mode_t mask);
// Why: capabilities are per-thread on Linux and glibc has no capget/capset wrapper. Turns
// CAP_FSETID on or off in the calling thread's effective set: without it a write, fallocate or
// truncate clears setuid/setgid bits as it would for an unprivileged caller.
int clinux_set_fsetid_effective(int enabled);
// Why: Swift sees both struct sigaction and sigaction(2) as `sigaction` and cannot call the
// function. Installs a handler that does nothing, without SA_RESTART: a blocking syscall of the
// thread it is sent to fails with EINTR.
int clinux_install_interrupting_handler(int signal);
// Why: the flags of a mount point (ST_NOATIME, MS_BIND, MS_STRICTATIME, ...) are declared only
// under _GNU_SOURCE. A mount point's flags as CLINUX_MOUNT_* bits (read from the mount table); neither NOATIME nor RELATIME
// means strictatime.
#define CLINUX_MOUNT_RDONLY 1
#define CLINUX_MOUNT_NOSUID 2
#define CLINUX_MOUNT_NODEV 4
#define CLINUX_MOUNT_NOEXEC 8
#define CLINUX_MOUNT_NOATIME 16
#define CLINUX_MOUNT_RELATIME 32
#define CLINUX_MOUNT_NODIRATIME 64
// Sets exactly `flags` on the mount point at `path` (a bind remount: any filesystem, no daemon).
int clinux_bind_remount(const char *path, unsigned flags);
// Why: statx is declared only under _GNU_SOURCE. Reads the identity of `name` in `dirfd`, never
// following a final link ("" names `dirfd` itself): device, inode, type, which never change for an
// inode, from the attribute cache when there is one (AT_STATX_DONT_SYNC): on a network filesystem
// that saves a round trip per check.
int clinux_identity(int dirfd, const char *name, uint64_t *device, uint64_t *inode, uint32_t *mode);
// Why: lstat that does not insist on a fresh atime. A FUSE backing marks an inode's atime stale
// after every READLINK or read, and a plain lstat then costs it a GETATTR round trip even while
// its attributes are cached; statx without STATX_ATIME in the mask takes them from that cache (the
// atime then is as old as the cache, like the rest). Other filesystems answer as lstat would.
// `name` "" stats `dirfd` itself (AT_EMPTY_PATH).
int clinux_lstat_at(int dirfd, const char *name, struct stat *result);
// Why: mallopt lives in <malloc.h>, which Swift's Glibc module does not export. Caps glibc's
// malloc arenas (M_ARENA_MAX) at `count`.
int clinux_limit_malloc_arenas(int count);
// Why: declared only under _GNU_SOURCE.
ssize_t clinux_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len, unsigned flags);
int clinux_fallocate(int fd, int mode, int64_t offset, int64_t len);
ssize_t clinux_getdents64(int fd, void *buffer, size_t size);
// Why: the dirent64 layout as getdents64 returns it, read without glibc's DIR buffering.
typedef struct {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    const char *name;
} clinux_dirent;
// Reads the entry at `position` of a getdents64 buffer; returns the next position or -1 at the end.
long clinux_dirent_at(const void *buffer, long length, long position, clinux_dirent *out);

#endif
