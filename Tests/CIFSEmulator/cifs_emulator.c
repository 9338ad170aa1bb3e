/*
 * cifs-emulator: a test fixture that reproduces Linux CIFS with `mfsymlinks` on a machine without
 * CIFS. It passes BACKING through, except that symlinks made through it are stored as XSym files
 * (see xsym.h), and then:
 *   - lstat reports them as symlinks (S_IFLNK, size = target length), readlink decodes them;
 *   - readdir reports them as DT_REG, because that is what the kernel's cifs_filldir does.
 *
 * It caches like a CIFS mount with its default actimeo=1, because the cost of verifying d_type
 * depends on it:
 *   - readdir primes the kernel's caches (READDIRPLUS) with the attributes of every ordinary
 *     entry, as cifs_filldir does from the FIND reply, so an lstat right after a listing is
 *     answered by the kernel without a request;
 *   - a 1067-byte regular file (an XSym candidate, valid or not) is listed as DT_REG with nothing
 *     cached, as cifs_filldir marks such files for revalidation: its lstat goes to the "server"
 *     (LOOKUP), where getattr opens and decodes it and answers S_IFLNK;
 *   - names and attributes stay cached for 1 s (entry_timeout, attr_timeout), so a change made in
 *     BACKING beside the mount can go unseen for up to 1 s, as on CIFS.
 * With -o latency_us=N every request costs one round trip of N µs, except that the getattr of an
 * XSym candidate costs three (open, read, close: check_mf_symlink) and the readlink of one none
 * (CIFS answers it from the target that getattr kept: cifs_get_link).
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
#include <pthread.h>
#include <stdbool.h>
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
    int noserverino;
    int nocase;
    int noxattr;
    int nolink;
    int fifo_dirs;
    char *outage;
    char *stats;
    int show_help;
};

static struct emulator_options options;
static const char *backing_arg;
static int backing_fd = -1;

enum { KEY_HELP };

static const struct fuse_opt emulator_opts[] = {
    {"latency_us=%u", offsetof(struct emulator_options, latency_us), 0},
    {"noserverino", offsetof(struct emulator_options, noserverino), 1},
    {"nocase", offsetof(struct emulator_options, nocase), 1},
    {"noxattr", offsetof(struct emulator_options, noxattr), 1},
    {"nolink", offsetof(struct emulator_options, nolink), 1},
    {"fifo_dirs", offsetof(struct emulator_options, fifo_dirs), 1},
    {"outage=%s", offsetof(struct emulator_options, outage), 0},
    {"stats=%s", offsetof(struct emulator_options, stats), 0},
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_END,
};

/* Emulates `count` network round trips, so benchmarks can show what latency costs. */
static void round_trips(unsigned count) {
    unsigned long long total = (unsigned long long)options.latency_us * count;
    if (total == 0)
        return;
    struct timespec left = {(time_t)(total / 1000000), (long)(total % 1000000) * 1000};
    while (nanosleep(&left, &left) == -1 && errno == EINTR) {
    }
}

/* Requests served, written to -o stats=PATH at unmount: what a client asked the "server". */
static unsigned long long requests, getattrs, getxattrs, listxattrs, readdirs, readlinks;
#define COUNT(counter) __atomic_fetch_add(&(counter), 1, __ATOMIC_RELAXED)

/* One round trip: what every request costs. While the outage file exists (-o outage=PATH) the
 * server is away, as while CIFS reconnects: every request fails with EHOSTDOWN. */
static int round_trip(void) {
    if (options.outage != NULL && access(options.outage, F_OK) == 0)
        return -EHOSTDOWN;
    COUNT(requests);
    round_trips(1);
    return 0;
}

#define ROUND_TRIP()                  \
    do {                              \
        int down_ = round_trip();     \
        if (down_ != 0)               \
            return down_;             \
    } while (0)

/* CIFS opens, reads and closes a 1067-byte file to tell whether it is an XSym link (in the getattr
 * that revalidates it, check_mf_symlink): beyond the request's own round trip, two more. */
enum { XSYM_CHECK_EXTRA_TRIPS = 2 };

/* Whether CIFS would have to read this file to know its type: only a regular file of exactly
 * 1067 bytes can hold an XSym link. */
static bool is_xsym_candidate(const struct stat *st) {
    return S_ISREG(st->st_mode) && st->st_size == XSYM_FILE_SIZE;
}

static const char *fold_case(const char *path);

/* FUSE paths start with "/"; the *at calls want them relative to the backing directory. With
 * -o nocase each component is matched without regard to case, as a Windows server does. */
static const char *rel(const char *path) {
    while (*path == '/')
        path++;
    if (!*path)
        return ".";
    return options.nocase ? fold_case(path) : path;
}

/* `path` (relative) with each component that does not exist as spelt replaced by the entry of
 * its directory that matches it without regard to case; a component that matches nothing stays
 * as spelt (a name being created). Kept in one of a few thread-local buffers, since an
 * operation may hold two paths at once (rename, link). */
static const char *fold_case(const char *path) {
    static __thread char buffers[4][PATH_MAX];
    static __thread unsigned next;
    char *out = buffers[next++ % 4];
    size_t used = 0;
    const char *component = path;
    while (*component) {
        const char *end = strchrnul(component, '/');
        size_t len = (size_t)(end - component);
        if (used + len + 2 >= PATH_MAX)
            return path;
        if (used > 0)
            out[used++] = '/';
        memcpy(out + used, component, len);
        out[used + len] = '\0';
        struct stat st;
        if (fstatat(backing_fd, out, &st, AT_SYMLINK_NOFOLLOW) == -1) {
            out[used] = '\0';
            int dir = openat(backing_fd, used ? out : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            DIR *d = dir == -1 ? NULL : fdopendir(dir);
            struct dirent *e;
            bool found = false;
            while (d != NULL && (e = readdir(d)) != NULL) {
                if (strlen(e->d_name) == len && strncasecmp(e->d_name, component, len) == 0) {
                    memcpy(out + used, e->d_name, len);
                    found = true;
                    break;
                }
            }
            if (!found)
                memcpy(out + used, component, len);
            if (d != NULL)
                closedir(d);
            else if (dir != -1)
                close(dir);
        }
        used += len;
        out[used] = '\0';
        component = *end ? end + 1 : end;
    }
    return out;
}

/* Returns the decoded target length if BACKING's `path` is an XSym file, else a negative errno. */
static ssize_t read_xsym(const char *path, const struct stat *raw, char *target) {
    if (!is_xsym_candidate(raw))
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

/*
 * Hard links. The high-level API gives each name its own kernel inode, so with attributes cached
 * for a second a change made through one name (a write, a chmod, a new link) would leave the other
 * names' cached size, mode or link count stale. CIFS (serverino) shares one inode between the names
 * and shows no such staleness, so the emulator remembers under which names it has shown each
 * multiply-linked regular file and, when the file changes, drops the kernel's cache of its other
 * names (fuse_invalidate_path). The requester's own name is left alone: the kernel updates that
 * inode itself, and may hold its page locks while it waits for the reply. Invalidating another
 * name waits for that name's page locks, whose holders are waiting on requests that other worker
 * threads serve: do not run the emulator single-threaded (-s) with hard links written through
 * several names at once.
 */
struct link_name {
    struct link_name *next;
    dev_t dev;
    ino_t ino;
    char path[]; /* as FUSE names it: "/dir/name" */
};

static struct link_name *link_names;
static pthread_mutex_t link_names_lock = PTHREAD_MUTEX_INITIALIZER;

static bool is_multiply_linked(const struct stat *st) {
    return S_ISREG(st->st_mode) && st->st_nlink > 1;
}

/* Notes that `path` names the multiply-linked file `st` (anything else is ignored). */
static void remember_name(const char *path, const struct stat *st) {
    if (path == NULL || !is_multiply_linked(st))
        return;
    pthread_mutex_lock(&link_names_lock);
    struct link_name **at = &link_names;
    for (; *at != NULL; at = &(*at)->next) {
        if (strcmp((*at)->path, path) == 0)
            break;
    }
    if (*at != NULL) {
        (*at)->dev = st->st_dev;
        (*at)->ino = st->st_ino;
    } else {
        size_t len = strlen(path);
        struct link_name *entry = malloc(sizeof *entry + len + 1);
        if (entry != NULL) {
            entry->next = NULL;
            entry->dev = st->st_dev;
            entry->ino = st->st_ino;
            memcpy(entry->path, path, len + 1);
            *at = entry;
        }
    }
    pthread_mutex_unlock(&link_names_lock);
}

/* What follows `prefix` in `path` ("" or "/..."), or NULL unless `path` is `prefix` itself or lies
 * beneath it. */
static const char *beneath(const char *path, const char *prefix) {
    size_t len = strlen(prefix);
    if (strncmp(path, prefix, len) != 0 || (path[len] != '\0' && path[len] != '/'))
        return NULL;
    return path + len;
}

/* Forgets every name at or beneath `path` (it was unlinked, or renamed over). */
static void forget_names(const char *path) {
    pthread_mutex_lock(&link_names_lock);
    for (struct link_name **at = &link_names; *at != NULL;) {
        if (beneath((*at)->path, path) != NULL) {
            struct link_name *gone = *at;
            *at = gone->next;
            free(gone);
        } else {
            at = &(*at)->next;
        }
    }
    pthread_mutex_unlock(&link_names_lock);
}

/* Moves the names at or beneath `from` to `to`, and (exchange) those beneath `to` to `from`. */
static void rename_names(const char *from, const char *to, bool exchange) {
    if (!exchange)
        forget_names(to);
    pthread_mutex_lock(&link_names_lock);
    for (struct link_name **at = &link_names; *at != NULL;) {
        const char *rest = beneath((*at)->path, from);
        const char *new_prefix = to;
        if (rest == NULL && exchange && (rest = beneath((*at)->path, to)) != NULL)
            new_prefix = from;
        if (rest == NULL) {
            at = &(*at)->next;
            continue;
        }
        size_t prefix_len = strlen(new_prefix), rest_len = strlen(rest);
        struct link_name *moved = malloc(sizeof *moved + prefix_len + rest_len + 1);
        struct link_name *old = *at;
        if (moved == NULL) { /* lose the name: its staleness is then CIFS's up to attr_timeout */
            *at = old->next;
            free(old);
            continue;
        }
        moved->next = old->next;
        moved->dev = old->dev;
        moved->ino = old->ino;
        memcpy(moved->path, new_prefix, prefix_len);
        memcpy(moved->path + prefix_len, rest, rest_len + 1);
        *at = moved;
        free(old);
        at = &moved->next;
    }
    pthread_mutex_unlock(&link_names_lock);
}

/* Drops the kernel's cached attributes and pages of every other known name of `st`'s file. */
static void invalidate_other_names(const struct stat *st, const char *except) {
    enum { MAX_BATCH = 64 };
    char *paths[MAX_BATCH];
    size_t count = 0;
    pthread_mutex_lock(&link_names_lock);
    for (struct link_name *entry = link_names; entry != NULL && count < MAX_BATCH; entry = entry->next) {
        if (entry->ino == st->st_ino && entry->dev == st->st_dev &&
            (except == NULL || strcmp(entry->path, except) != 0)) {
            paths[count] = strdup(entry->path);
            if (paths[count] != NULL)
                count++;
        }
    }
    pthread_mutex_unlock(&link_names_lock);
    struct fuse *fuse = fuse_get_context()->fuse;
    for (size_t i = 0; i < count; i++) {
        /* -ENOENT: the kernel holds no inode for that name, so nothing of it can be stale. */
        (void)fuse_invalidate_path(fuse, paths[i]);
        struct stat now;
        if (fstatat(backing_fd, rel(paths[i]), &now, AT_SYMLINK_NOFOLLOW) == -1 ||
            now.st_ino != st->st_ino || now.st_dev != st->st_dev)
            forget_names(paths[i]);
        free(paths[i]);
    }
}

static bool any_link_names(void) {
    pthread_mutex_lock(&link_names_lock);
    bool any = link_names != NULL;
    pthread_mutex_unlock(&link_names_lock);
    return any;
}

/* After a change to the file behind `path` (or the open file `fi`), made through `path`. */
static void file_changed(const char *path, struct fuse_file_info *fi) {
    /* Without the requester's name its own inode could not be told apart from the others. */
    if (path == NULL || !any_link_names())
        return;
    struct stat st;
    int res = fi != NULL ? fstat((int)fi->fh, &st)
                         : fstatat(backing_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW);
    if (res == 0 && S_ISREG(st.st_mode))
        invalidate_other_names(&st, path);
}

static void *emu_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    /* READDIRPLUS, as the kernel likes it (AUTO: plus for a directory's first batch and whenever
     * its entries are being looked up): readdir hands the kernel the attributes of ordinary
     * entries, as cifs_filldir primes the CIFS caches from a FIND reply. emu_readdir decides which
     * entries are primed. */
    conn->want |= conn->capable & (FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
    /* -o noserverino: inode numbers are made up per kernel inode, new after each forget, as CIFS
     * makes them with noserverino (or when it disables serverino by itself). */
    cfg->use_ino = !options.noserverino;
    /* Handle operations get their path too (nullpath_ok off): a change through one hard link must
     * invalidate the kernel's cache of the other names, not of the one the kernel is using.
     * hard_remove stays off: fstat(2) reaches getattr without a handle, so an unlinked open file
     * must keep a (hidden) name. */
    cfg->nullpath_ok = 0;
    return NULL;
}

static int emu_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    COUNT(getattrs);
    ROUND_TRIP();
    char target[XSYM_MAX_TARGET + 1];
    if (fi != NULL) {
        if (fstat((int)fi->fh, st) == -1)
            return -errno;
        if (is_xsym_candidate(st)) {
            round_trips(XSYM_CHECK_EXTRA_TRIPS);
            char buf[XSYM_FILE_SIZE];
            ssize_t got = pread((int)fi->fh, buf, sizeof buf, 0);
            ssize_t length = got > 0 ? xsym_decode(buf, (size_t)got, target) : -EINVAL;
            if (length >= 0)
                present_as_link(st, (size_t)length);
        }
        remember_name(path, st);
        return 0;
    }
    if (fstatat(backing_fd, rel(path), st, AT_SYMLINK_NOFOLLOW) == -1)
        return -errno;
    if (is_xsym_candidate(st))
        round_trips(XSYM_CHECK_EXTRA_TRIPS);
    ssize_t length = read_xsym(path, st, target);
    if (length >= 0)
        present_as_link(st, (size_t)length);
    remember_name(path, st);
    return 0;
}

static int emu_access(const char *path, int mask) {
    ROUND_TRIP();
    return faccessat(backing_fd, rel(path), mask, AT_SYMLINK_NOFOLLOW) == -1 ? -errno : 0;
}

/*
 * The readlink of an XSym file costs no round trip: CIFS never asks the server for it, since the
 * getattr that made the inode a symlink (check_mf_symlink, the three round trips above) kept the
 * target, and cifs_get_link answers from it. Anything else costs its round trip as usual.
 */
static int emu_readlink(const char *path, char *buf, size_t size) {
    COUNT(readlinks);
    if (size == 0) {
        ROUND_TRIP();
        return -EINVAL;
    }
    struct stat raw;
    if (fstatat(backing_fd, rel(path), &raw, AT_SYMLINK_NOFOLLOW) == -1) {
        ROUND_TRIP();
        return -errno;
    }
    if (!is_xsym_candidate(&raw))
        ROUND_TRIP();
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
    ROUND_TRIP();
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
    ROUND_TRIP();
    if (mkdirat(backing_fd, rel(path), mode) == -1)
        return -errno;
    give_to_caller(path);
    return 0;
}

static int emu_unlink(const char *path) {
    ROUND_TRIP();
    struct stat before;
    bool known = fstatat(backing_fd, rel(path), &before, AT_SYMLINK_NOFOLLOW) == 0;
    if (unlinkat(backing_fd, rel(path), 0) == -1)
        return -errno;
    forget_names(path);
    if (known && is_multiply_linked(&before))
        invalidate_other_names(&before, path); /* their link count dropped */
    return 0;
}

static int emu_rmdir(const char *path) {
    ROUND_TRIP();
    return unlinkat(backing_fd, rel(path), AT_REMOVEDIR) == -1 ? -errno : 0;
}

/* What cifs_symlink does with mfsymlinks: a new 0644 regular file holding the XSym text. */
static int emu_symlink(const char *target, const char *path) {
    ROUND_TRIP();
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

/* The name a rename gives: with -o nocase a rename onto another spelling of the same name
 * changes only the case, as on a Windows server; any other target is matched as usual. */
static const char *rename_target(const char *from_rel, const char *to) {
    const char *to_rel = rel(to);
    if (!options.nocase || strcmp(from_rel, to_rel) != 0)
        return to_rel;
    static __thread char spelt[PATH_MAX];
    const char *slash = strrchr(to_rel, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - to_rel) + 1 : 0;
    const char *name = strrchr(to, '/');
    name = name != NULL ? name + 1 : to;
    if (dir_len + strlen(name) + 1 > sizeof spelt)
        return to_rel;
    memcpy(spelt, to_rel, dir_len);
    strcpy(spelt + dir_len, name);
    return spelt;
}

static int emu_rename(const char *from, const char *to, unsigned int flags) {
    ROUND_TRIP();
    struct stat victim;
    const char *from_rel = rel(from), *to_rel = rename_target(from_rel, to);
    bool replaces = !(flags & RENAME_EXCHANGE) && strcmp(from_rel, to_rel) != 0 &&
                    fstatat(backing_fd, to_rel, &victim, AT_SYMLINK_NOFOLLOW) == 0;
    if (renameat2(backing_fd, from_rel, backing_fd, to_rel, flags) == -1)
        return -errno;
    rename_names(from, to, (flags & RENAME_EXCHANGE) != 0);
    if (replaces && is_multiply_linked(&victim))
        invalidate_other_names(&victim, to); /* the replaced file lost a link */
    return 0;
}

static int emu_link(const char *from, const char *to) {
    ROUND_TRIP();
    if (options.nolink)
        return -EPERM; /* many servers have no hard links */
    if (linkat(backing_fd, rel(from), backing_fd, rel(to), 0) == -1)
        return -errno;
    struct stat st;
    if (fstatat(backing_fd, rel(to), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        remember_name(from, &st);
        remember_name(to, &st);
        invalidate_other_names(&st, to); /* `from` included: its link count grew */
    }
    return 0;
}

static int emu_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
    ROUND_TRIP();
    int res = fi != NULL ? fchmod((int)fi->fh, mode)
                         : fchmodat(backing_fd, rel(path), mode, AT_SYMLINK_NOFOLLOW);
    if (res == -1)
        return -errno;
    file_changed(path, fi);
    return 0;
}

static int emu_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
    ROUND_TRIP();
    int res = fi != NULL ? fchown((int)fi->fh, uid, gid)
                         : fchownat(backing_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
    if (res == -1)
        return -errno;
    file_changed(path, fi);
    return 0;
}

static int emu_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
    ROUND_TRIP();
    int res;
    if (fi != NULL) {
        res = ftruncate((int)fi->fh, size) == -1 ? -errno : 0;
    } else {
        int fd = openat(backing_fd, rel(path), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd == -1)
            return -errno;
        res = ftruncate(fd, size) == -1 ? -errno : 0;
        close(fd);
    }
    if (res == 0)
        file_changed(path, fi);
    return res;
}

static int emu_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
    ROUND_TRIP();
    int res = fi != NULL ? futimens((int)fi->fh, tv)
                         : utimensat(backing_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
    if (res == -1)
        return -errno;
    file_changed(path, fi);
    return 0;
}

static int emu_open(const char *path, struct fuse_file_info *fi) {
    ROUND_TRIP();
    int fd = openat(backing_fd, rel(path), fi->flags | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    fi->fh = (uint64_t)fd;
    if (fi->flags & O_TRUNC)
        file_changed(path, fi);
    return 0;
}

static int emu_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
    ROUND_TRIP();
    int fd = openat(backing_fd, rel(path), fi->flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd == -1)
        return -errno;
    fi->fh = (uint64_t)fd;
    give_to_caller(path);
    return 0;
}

static int emu_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)path;
    ROUND_TRIP();
    ssize_t n = pread((int)fi->fh, buf, size, off);
    return n == -1 ? -errno : (int)n;
}

static int emu_write(const char *path, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
    ROUND_TRIP();
    ssize_t n = pwrite((int)fi->fh, buf, size, off);
    if (n == -1)
        return -errno;
    file_changed(path, fi);
    return (int)n;
}

static int emu_statfs(const char *path, struct statvfs *st) {
    (void)path;
    ROUND_TRIP();
    return fstatvfs(backing_fd, st) == -1 ? -errno : 0;
}

static int emu_flush(const char *path, struct fuse_file_info *fi) {
    (void)path;
    ROUND_TRIP();
    /* close(2) of a duplicate reports the deferred write errors of some filesystems, as NFS does. */
    int dup_fd = dup((int)fi->fh);
    if (dup_fd == -1)
        return -errno;
    return close(dup_fd) == -1 ? -errno : 0;
}

static int emu_release(const char *path, struct fuse_file_info *fi) {
    (void)path;
    ROUND_TRIP();
    close((int)fi->fh);
    return 0;
}

static int emu_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)path;
    ROUND_TRIP();
    int res = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
    return res == -1 ? -errno : 0;
}

static int emu_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
    ROUND_TRIP();
    if (fallocate((int)fi->fh, mode, off, len) == -1)
        return -errno;
    file_changed(path, fi);
    return 0;
}

static off_t emu_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi) {
    (void)path;
    ROUND_TRIP();
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
    ROUND_TRIP();
    if (options.noxattr)
        return -EOPNOTSUPP; /* as CIFS answers for security.* and ACL names */
    struct proc_path p;
    int res = open_proc_path(path, &p);
    if (res < 0)
        return res;
    res = setxattr(p.name, name, value, size, flags) == -1 ? -errno : 0;
    close(p.fd);
    if (res == 0)
        file_changed(path, NULL);
    return res;
}

static int emu_getxattr(const char *path, const char *name, char *value, size_t size) {
    COUNT(getxattrs);
    ROUND_TRIP();
    if (options.noxattr)
        return -EOPNOTSUPP; /* as CIFS answers for security.* and ACL names */
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
    COUNT(listxattrs);
    ROUND_TRIP();
    if (options.noxattr)
        return -EOPNOTSUPP; /* as CIFS answers for security.* and ACL names */
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
    ROUND_TRIP();
    if (options.noxattr)
        return -EOPNOTSUPP; /* as CIFS answers for security.* and ACL names */
    struct proc_path p;
    int res = open_proc_path(path, &p);
    if (res < 0)
        return res;
    res = removexattr(p.name, name) == -1 ? -errno : 0;
    close(p.fd);
    if (res == 0)
        file_changed(path, NULL);
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
    ROUND_TRIP();
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

/*
 * Entry types come straight from the backing getdents: an XSym file is a regular file there, so
 * it is listed as DT_REG, exactly the CIFS behaviour under test.
 *
 * For READDIRPLUS, ordinary entries go with their attributes (FUSE_FILL_DIR_PLUS: libfuse looks
 * the name up and the kernel caches the entry and its attributes), as cifs_filldir primes its
 * caches from the FIND reply. An XSym candidate goes without the flag and with S_IFREG alone:
 * libfuse replies node id 0, so the kernel lists it as DT_REG and caches nothing, and its lstat
 * must come back as a LOOKUP, the request that finds out it is a link. (libfuse 3.14 counts the
 * lookup of a PLUS entry even when it does not fit the reply and is sent again in the next one:
 * that node is never forgotten. A little memory, harmless in a fixture.)
 */
static int emu_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    COUNT(readdirs);
    ROUND_TRIP();
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    if (offset != d->offset) {
        seekdir(d->dir, offset);
        d->entry = NULL;
        d->offset = offset;
    }
    bool plus = (flags & FUSE_READDIR_PLUS) != 0;
    size_t path_len = path != NULL ? strlen(path) : 0;
    for (;;) {
        if (d->entry == NULL) {
            errno = 0;
            d->entry = readdir(d->dir);
            if (d->entry == NULL)
                return errno ? -errno : 0;
        }
        const char *name = d->entry->d_name;
        struct stat st = {0};
        enum fuse_fill_dir_flags fill = 0;
        bool dot = name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
        bool known = plus && !dot && fstatat(dirfd(d->dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (known && is_xsym_candidate(&st)) {
            /* Not primed: a name and DT_REG, nothing the kernel could answer an lstat from. */
            memset(&st, 0, sizeof st);
            st.st_ino = d->entry->d_ino;
            st.st_mode = S_IFREG;
        } else if (known) {
            fill = FUSE_FILL_DIR_PLUS;
            if (is_multiply_linked(&st) && path != NULL) {
                char *entry_path = malloc(path_len + strlen(name) + 2);
                if (entry_path != NULL) {
                    sprintf(entry_path, "%s/%s", strcmp(path, "/") == 0 ? "" : path, name);
                    remember_name(entry_path, &st);
                    free(entry_path);
                }
            }
        } else {
            /* Plain READDIR (or the entry vanished): a name and the backing getdents' type. */
            memset(&st, 0, sizeof st);
            st.st_ino = d->entry->d_ino;
            st.st_mode = (mode_t)DTTOIF(d->entry->d_type);
        }
        if (options.fifo_dirs && !dot && S_ISDIR(st.st_mode)) {
            /* SMB 3.1.1 POSIX extensions before Linux 6.16: directories listed as DT_FIFO. */
            ino_t ino = st.st_ino;
            memset(&st, 0, sizeof st);
            st.st_ino = ino;
            st.st_mode = S_IFIFO;
            fill = 0;
        }
        off_t next = telldir(d->dir);
        if (filler(buf, name, &st, next, fill))
            return 0; /* the reply buffer is full: this entry goes first next time */
        d->entry = NULL;
        d->offset = next;
    }
}

static int emu_releasedir(const char *path, struct fuse_file_info *fi) {
    (void)path;
    ROUND_TRIP();
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    closedir(d->dir);
    free(d);
    return 0;
}

static int emu_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)path;
    ROUND_TRIP();
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    int fd = dirfd(d->dir);
    int res = datasync ? fdatasync(fd) : fsync(fd);
    return res == -1 ? -errno : 0;
}

static void emu_destroy(void *private_data) {
    (void)private_data;
    if (options.stats == NULL)
        return;
    FILE *out = fopen(options.stats, "w");
    if (out == NULL)
        return;
    fprintf(out, "requests %llu\ngetattr %llu\ngetxattr %llu\nlistxattr %llu\nreaddir %llu\nreadlink %llu\n",
            requests, getattrs, getxattrs, listxattrs, readdirs, readlinks);
    fclose(out);
}

static const struct fuse_operations emulator_ops = {
    .init = emu_init,
    .destroy = emu_destroy,
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
           "Caches like CIFS's default actimeo=1: readdir hands the kernel the attributes of\n"
           "every entry except 1067-byte regular files (XSym candidates, whose lstat must ask),\n"
           "and names and attributes stay cached for 1 s (libfuse's -o entry_timeout=S and\n"
           "-o attr_timeout=S change that; 0 for no caching).\n\n"
           "Emulator options:\n"
           "    -o latency_us=N        sleep N microseconds at the start of every request; the\n"
           "                           getattr of a 1067-byte regular file sleeps 3 x N (open,\n"
           "                           read, close: CIFS's XSym check), its readlink not at all\n"
           "                           (CIFS keeps the target the check read)\n"
           "    -o noserverino         inode numbers made up per kernel inode, new after every\n"
           "                           forget (CIFS noserverino)\n"
           "    -o nocase              names match without regard to case (Windows servers)\n"
           "    -o noxattr             extended attributes fail with EOPNOTSUPP\n"
           "    -o nolink              hard links fail with EPERM\n"
           "    -o fifo_dirs           readdir lists directories as DT_FIFO (SMB POSIX, < 6.16)\n"
           "    -o outage=PATH         while PATH exists every request fails with EHOSTDOWN\n"
           "                           (a server away while CIFS reconnects)\n"
           "    -o stats=PATH          at unmount, write to PATH the requests served, in all and\n"
           "                           of getattr, getxattr, listxattr, readdir, readlink\n\n",
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
     * - names and attributes cached for 1 s, as CIFS's default actimeo=1 (libfuse's own default
     *   too, spelt out because the emulator's faithfulness depends on it); a change made in
     *   BACKING beside the mount may go unseen for that long, as on CIFS; hard links stay coherent
     *   (see invalidate_other_names);
     * - max_idle_threads, only because libfuse 3.14's fuse_main warns about its own unset
     *   default; with its 10 workers at most, the limit changes nothing. */
    if (fsname == NULL ||
        fuse_opt_insert_arg(&args, 1, "-oentry_timeout=1,attr_timeout=1,max_idle_threads=10") == -1 ||
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
