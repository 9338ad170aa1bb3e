/*
 * cifs-emulator: a test fixture that reproduces Linux CIFS with `mfsymlinks` on a machine without
 * CIFS. It passes BACKING through, except that symlinks made through it are stored as XSym files
 * (see xsym.h), and then:
 *   - lstat reports them as symlinks (S_IFLNK, size = target length), readlink decodes them;
 *   - readdir reports them as DT_REG, because that is what the kernel's cifs_filldir does.
 * READDIRPLUS is switched off so that readdir cannot hand the kernel attributes that would hide
 * the mismatch: as on CIFS, getdents and lstat disagree.
 *
 * It is written against libfuse's high-level API, independently of dtypefs, so that a bug shared
 * with the driver cannot hide itself.
 *
 * Usage: cifs-emulator BACKING MOUNTPOINT [-f] [-d] [-s] [-o latency_us=N,...]
 */
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE

#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "xsym.h"

struct emulator_options {
    unsigned latency_us;
    int show_help;
};

static struct emulator_options options;
static const char *backing_arg;
static int backing_fd = -1;

enum { KEY_HELP };

static const struct fuse_opt emulator_opts[] = {
    {"latency_us=%u", offsetof(struct emulator_options, latency_us), 0},
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_END,
};

/* Emulates one network round trip per request, so benchmarks can show what latency costs. */
static void round_trip(void) {
    if (options.latency_us == 0)
        return;
    struct timespec left = {options.latency_us / 1000000, (long)(options.latency_us % 1000000) * 1000};
    while (nanosleep(&left, &left) == -1 && errno == EINTR) {
    }
}

/* FUSE paths start with "/"; the *at calls want them relative to the backing directory. */
static const char *rel(const char *path) {
    while (*path == '/')
        path++;
    return *path ? path : ".";
}

/* Returns the decoded target length if BACKING's `path` is an XSym file, else a negative errno. */
static ssize_t read_xsym(const char *path, const struct stat *raw, char *target) {
    if (!S_ISREG(raw->st_mode) || raw->st_size != XSYM_FILE_SIZE)
        return -EINVAL;
    int fd = openat(backing_fd, rel(path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    char buf[XSYM_FILE_SIZE];
    ssize_t got = pread(fd, buf, sizeof buf, 0);
    int saved = errno;
    close(fd);
    if (got == -1)
        return -saved;
    return xsym_decode(buf, (size_t)got, target);
}

/* What CIFS's check_mf_symlink does to the attributes of a file it recognises as a link. */
static void present_as_link(struct stat *st, size_t target_length) {
    st->st_mode = S_IFLNK | 0777;
    st->st_size = (off_t)target_length;
}

/* Root makes files for any caller; give them to the caller as a local filesystem would. */
static void give_to_caller(const char *path) {
    struct fuse_context *ctx = fuse_get_context();
    if (geteuid() == 0 && ctx->uid != 0)
        (void)fchownat(backing_fd, rel(path), ctx->uid, ctx->gid, AT_SYMLINK_NOFOLLOW);
}

static void *emu_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    /* READDIRPLUS would give the kernel each entry's attributes with the listing; CIFS readdir
     * does not, and those attributes would make the listing's DT_REG and lstat's S_IFLNK agree. */
    conn->want &= ~(unsigned)(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
    cfg->use_ino = 1;
    /* Handle operations use the descriptor, never the path. hard_remove stays off: fstat(2)
     * reaches getattr without a handle, so an unlinked open file must keep a (hidden) name. */
    cfg->nullpath_ok = 1;
    return NULL;
}

static int emu_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    round_trip();
    char target[XSYM_MAX_TARGET + 1];
    if (fi != NULL) {
        if (fstat((int)fi->fh, st) == -1)
            return -errno;
        if (S_ISREG(st->st_mode) && st->st_size == XSYM_FILE_SIZE) {
            char buf[XSYM_FILE_SIZE];
            ssize_t got = pread((int)fi->fh, buf, sizeof buf, 0);
            ssize_t length = got > 0 ? xsym_decode(buf, (size_t)got, target) : -EINVAL;
            if (length >= 0)
                present_as_link(st, (size_t)length);
        }
        return 0;
    }
    if (fstatat(backing_fd, rel(path), st, AT_SYMLINK_NOFOLLOW) == -1)
        return -errno;
    ssize_t length = read_xsym(path, st, target);
    if (length >= 0)
        present_as_link(st, (size_t)length);
    return 0;
}

static int emu_access(const char *path, int mask) {
    round_trip();
    return faccessat(backing_fd, rel(path), mask, AT_SYMLINK_NOFOLLOW) == -1 ? -errno : 0;
}

static int emu_readlink(const char *path, char *buf, size_t size) {
    round_trip();
    if (size == 0)
        return -EINVAL;
    struct stat raw;
    if (fstatat(backing_fd, rel(path), &raw, AT_SYMLINK_NOFOLLOW) == -1)
        return -errno;
    if (S_ISLNK(raw.st_mode)) {
        ssize_t n = readlinkat(backing_fd, rel(path), buf, size - 1);
        if (n == -1)
            return -errno;
        buf[n] = '\0';
        return 0;
    }
    char target[XSYM_MAX_TARGET + 1];
    ssize_t length = read_xsym(path, &raw, target);
    if (length < 0)
        return -EINVAL; /* readlink(2)'s answer for "not a symlink" */
    size_t kept = (size_t)length < size - 1 ? (size_t)length : size - 1;
    memcpy(buf, target, kept);
    buf[kept] = '\0';
    return 0;
}

static int emu_mknod(const char *path, mode_t mode, dev_t rdev) {
    round_trip();
    int res;
    if (S_ISREG(mode)) {
        res = openat(backing_fd, rel(path), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
        if (res >= 0)
            res = close(res);
    } else if (S_ISFIFO(mode)) {
        res = mkfifoat(backing_fd, rel(path), mode);
    } else {
        res = mknodat(backing_fd, rel(path), mode, rdev);
    }
    if (res == -1)
        return -errno;
    give_to_caller(path);
    return 0;
}

static int emu_mkdir(const char *path, mode_t mode) {
    round_trip();
    if (mkdirat(backing_fd, rel(path), mode) == -1)
        return -errno;
    give_to_caller(path);
    return 0;
}

static int emu_unlink(const char *path) {
    round_trip();
    return unlinkat(backing_fd, rel(path), 0) == -1 ? -errno : 0;
}

static int emu_rmdir(const char *path) {
    round_trip();
    return unlinkat(backing_fd, rel(path), AT_REMOVEDIR) == -1 ? -errno : 0;
}

/* What cifs_symlink does with mfsymlinks: a new 0644 regular file holding the XSym text. */
static int emu_symlink(const char *target, const char *path) {
    round_trip();
    char buf[XSYM_FILE_SIZE];
    int res = xsym_encode(target, buf);
    if (res < 0)
        return res;
    int fd = openat(backing_fd, rel(path), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd == -1)
        return -errno;
    ssize_t written = pwrite(fd, buf, sizeof buf, 0);
    int saved = errno;
    if (written == (ssize_t)sizeof buf && fchmod(fd, 0644) == -1)
        saved = errno, written = -1;
    close(fd);
    if (written != (ssize_t)sizeof buf) {
        unlinkat(backing_fd, rel(path), 0);
        return written == -1 ? -saved : -EIO;
    }
    give_to_caller(path);
    return 0;
}

static int emu_rename(const char *from, const char *to, unsigned int flags) {
    round_trip();
    return renameat2(backing_fd, rel(from), backing_fd, rel(to), flags) == -1 ? -errno : 0;
}

static int emu_link(const char *from, const char *to) {
    round_trip();
    return linkat(backing_fd, rel(from), backing_fd, rel(to), 0) == -1 ? -errno : 0;
}

static int emu_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
    round_trip();
    int res = fi != NULL ? fchmod((int)fi->fh, mode)
                         : fchmodat(backing_fd, rel(path), mode, AT_SYMLINK_NOFOLLOW);
    return res == -1 ? -errno : 0;
}

static int emu_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
    round_trip();
    int res = fi != NULL ? fchown((int)fi->fh, uid, gid)
                         : fchownat(backing_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
    return res == -1 ? -errno : 0;
}

static int emu_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
    round_trip();
    if (fi != NULL)
        return ftruncate((int)fi->fh, size) == -1 ? -errno : 0;
    int fd = openat(backing_fd, rel(path), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    int res = ftruncate(fd, size) == -1 ? -errno : 0;
    close(fd);
    return res;
}

static int emu_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
    round_trip();
    int res = fi != NULL ? futimens((int)fi->fh, tv)
                         : utimensat(backing_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
    return res == -1 ? -errno : 0;
}

static int emu_open(const char *path, struct fuse_file_info *fi) {
    round_trip();
    int fd = openat(backing_fd, rel(path), fi->flags | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int emu_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
    round_trip();
    int fd = openat(backing_fd, rel(path), fi->flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd == -1)
        return -errno;
    fi->fh = (uint64_t)fd;
    give_to_caller(path);
    return 0;
}

static int emu_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    ssize_t n = pread((int)fi->fh, buf, size, off);
    return n == -1 ? -errno : (int)n;
}

static int emu_write(const char *path, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    ssize_t n = pwrite((int)fi->fh, buf, size, off);
    return n == -1 ? -errno : (int)n;
}

static int emu_statfs(const char *path, struct statvfs *st) {
    (void)path;
    round_trip();
    return fstatvfs(backing_fd, st) == -1 ? -errno : 0;
}

static int emu_flush(const char *path, struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    /* close(2) of a duplicate reports the deferred write errors of some filesystems, as NFS does. */
    int dup_fd = dup((int)fi->fh);
    if (dup_fd == -1)
        return -errno;
    return close(dup_fd) == -1 ? -errno : 0;
}

static int emu_release(const char *path, struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    close((int)fi->fh);
    return 0;
}

static int emu_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    int res = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
    return res == -1 ? -errno : 0;
}

static int emu_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    return fallocate((int)fi->fh, mode, off, len) == -1 ? -errno : 0;
}

static off_t emu_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    off_t res = lseek((int)fi->fh, off, whence);
    return res == -1 ? -errno : res;
}

/* The xattr calls have no *at form: reach the entry through an O_PATH descriptor's /proc link,
 * which names that very inode (a symlink included) without following anything. */
struct proc_path {
    int fd;
    char name[64];
};

static int open_proc_path(const char *path, struct proc_path *out) {
    out->fd = openat(backing_fd, rel(path), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (out->fd == -1)
        return -errno;
    snprintf(out->name, sizeof out->name, "/proc/self/fd/%d", out->fd);
    return 0;
}

static int emu_setxattr(const char *path, const char *name, const char *value, size_t size, int flags) {
    round_trip();
    struct proc_path p;
    int res = open_proc_path(path, &p);
    if (res < 0)
        return res;
    res = setxattr(p.name, name, value, size, flags) == -1 ? -errno : 0;
    close(p.fd);
    return res;
}

static int emu_getxattr(const char *path, const char *name, char *value, size_t size) {
    round_trip();
    struct proc_path p;
    int res = open_proc_path(path, &p);
    if (res < 0)
        return res;
    ssize_t n = getxattr(p.name, name, value, size);
    res = n == -1 ? -errno : (int)n;
    close(p.fd);
    return res;
}

static int emu_listxattr(const char *path, char *list, size_t size) {
    round_trip();
    struct proc_path p;
    int res = open_proc_path(path, &p);
    if (res < 0)
        return res;
    ssize_t n = listxattr(p.name, list, size);
    res = n == -1 ? -errno : (int)n;
    close(p.fd);
    return res;
}

static int emu_removexattr(const char *path, const char *name) {
    round_trip();
    struct proc_path p;
    int res = open_proc_path(path, &p);
    if (res < 0)
        return res;
    res = removexattr(p.name, name) == -1 ? -errno : 0;
    close(p.fd);
    return res;
}

/* An open directory: the stream and where the kernel last left it, so that a readdir resuming
 * at another offset can seek (the pattern of libfuse's passthrough example). */
struct dir_handle {
    DIR *dir;
    struct dirent *entry;
    off_t offset;
};

static int emu_opendir(const char *path, struct fuse_file_info *fi) {
    round_trip();
    struct dir_handle *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -ENOMEM;
    int fd = openat(backing_fd, rel(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1 || (d->dir = fdopendir(fd)) == NULL) {
        int saved = errno;
        if (fd != -1)
            close(fd);
        free(d);
        return -saved;
    }
    fi->fh = (uint64_t)(uintptr_t)d;
    return 0;
}

/* Entry types come straight from the backing getdents: an XSym file is a regular file there, so
 * it is listed as DT_REG, exactly the CIFS behaviour under test. */
static int emu_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    (void)path;
    (void)flags;
    round_trip();
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    if (offset != d->offset) {
        seekdir(d->dir, offset);
        d->entry = NULL;
        d->offset = offset;
    }
    for (;;) {
        if (d->entry == NULL) {
            errno = 0;
            d->entry = readdir(d->dir);
            if (d->entry == NULL)
                return errno ? -errno : 0;
        }
        struct stat st = {0};
        st.st_ino = d->entry->d_ino;
        st.st_mode = (mode_t)DTTOIF(d->entry->d_type);
        off_t next = telldir(d->dir);
        if (filler(buf, d->entry->d_name, &st, next, 0))
            return 0; /* the reply buffer is full: this entry goes first next time */
        d->entry = NULL;
        d->offset = next;
    }
}

static int emu_releasedir(const char *path, struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    closedir(d->dir);
    free(d);
    return 0;
}

static int emu_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)path;
    round_trip();
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    int fd = dirfd(d->dir);
    int res = datasync ? fdatasync(fd) : fsync(fd);
    return res == -1 ? -errno : 0;
}

static const struct fuse_operations emulator_ops = {
    .init = emu_init,
    .getattr = emu_getattr,
    .access = emu_access,
    .readlink = emu_readlink,
    .mknod = emu_mknod,
    .mkdir = emu_mkdir,
    .unlink = emu_unlink,
    .rmdir = emu_rmdir,
    .symlink = emu_symlink,
    .rename = emu_rename,
    .link = emu_link,
    .chmod = emu_chmod,
    .chown = emu_chown,
    .truncate = emu_truncate,
    .utimens = emu_utimens,
    .open = emu_open,
    .create = emu_create,
    .read = emu_read,
    .write = emu_write,
    .statfs = emu_statfs,
    .flush = emu_flush,
    .release = emu_release,
    .fsync = emu_fsync,
    .fallocate = emu_fallocate,
    .lseek = emu_lseek,
    .setxattr = emu_setxattr,
    .getxattr = emu_getxattr,
    .listxattr = emu_listxattr,
    .removexattr = emu_removexattr,
    .opendir = emu_opendir,
    .readdir = emu_readdir,
    .releasedir = emu_releasedir,
    .fsyncdir = emu_fsyncdir,
};

static void usage(const char *prog) {
    printf("usage: %s BACKING MOUNTPOINT [options]\n\n"
           "Passes BACKING through like a Linux CIFS mount with mfsymlinks: symlinks are stored\n"
           "as XSym files, lstat reports them as links, readdir reports them as DT_REG.\n\n"
           "Emulator options:\n"
           "    -o latency_us=N        sleep N microseconds at the start of every request\n\n",
           prog);
}

/* The first non-option argument is BACKING (ours); everything else goes on to libfuse. */
static int take_arg(void *data, const char *arg, int key, struct fuse_args *outargs) {
    (void)data;
    (void)outargs;
    if (key == KEY_HELP) {
        options.show_help = 1;
        return 1;
    }
    if (key == FUSE_OPT_KEY_NONOPT && backing_arg == NULL) {
        backing_arg = arg;
        return 0;
    }
    return 1;
}

/* fsname is a comma-separated -o value: escape what fuse_opt would split on. */
static char *fsname_option(const char *path) {
    size_t len = strlen(path);
    char *out = malloc(strlen("fsname=") + 2 * len + 1);
    if (out == NULL)
        return NULL;
    char *p = stpcpy(out, "fsname=");
    for (size_t i = 0; i < len; i++) {
        if (path[i] == ',' || path[i] == '\\')
            *p++ = '\\';
        *p++ = path[i];
    }
    *p = '\0';
    return out;
}

int main(int argc, char *argv[]) {
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    if (fuse_opt_parse(&args, &options, emulator_opts, take_arg) == -1)
        return 2;

    if (options.show_help) {
        usage(argv[0]);
        /* An empty program name makes fuse_main print only its option list. */
        args.argv[0][0] = '\0';
        int res = fuse_main(args.argc, args.argv, &emulator_ops, NULL);
        fuse_opt_free_args(&args);
        return res;
    }
    if (backing_arg == NULL) {
        fprintf(stderr, "cifs-emulator: missing BACKING directory\n");
        usage(argv[0]);
        return 2;
    }

    char backing[PATH_MAX];
    if (realpath(backing_arg, backing) == NULL) {
        fprintf(stderr, "cifs-emulator: backing directory '%s': %s\n", backing_arg, strerror(errno));
        return 1;
    }
    /* Opened before mounting, so that BACKING may also be the mount point. */
    backing_fd = open(backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (backing_fd == -1) {
        fprintf(stderr, "cifs-emulator: backing directory '%s': %s\n", backing_arg, strerror(errno));
        return 1;
    }
    /* Modes arrive from the kernel with the caller's umask already applied. */
    umask(0);

    char *fsname = fsname_option(backing);
    /* Defaults, placed first so that the command line's own values win:
     * - zero cache timeouts, because the high-level API gives each hard link its own kernel inode
     *   (cached sizes would go stale) and BACKING may change beside the mount; pass
     *   attr_timeout=1,entry_timeout=1 for CIFS's default actimeo=1 caching instead;
     * - max_idle_threads, only because libfuse 3.14's fuse_main warns about its own unset
     *   default; with its 10 workers at most, the limit changes nothing. */
    if (fsname == NULL ||
        fuse_opt_insert_arg(&args, 1, "-oentry_timeout=0,attr_timeout=0,max_idle_threads=10") == -1 ||
        fuse_opt_add_arg(&args, "-osubtype=cifs-emulator") == -1 ||
        fuse_opt_add_arg(&args, "-o") == -1 || fuse_opt_add_arg(&args, fsname) == -1) {
        fprintf(stderr, "cifs-emulator: out of memory\n");
        return 1;
    }
    free(fsname);

    int res = fuse_main(args.argc, args.argv, &emulator_ops, NULL);
    fuse_opt_free_args(&args);
    close(backing_fd);
    return res;
}
