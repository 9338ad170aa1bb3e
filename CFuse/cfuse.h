// The libfuse 3 low-level API as Swift sees it. Only FuseBridge imports this module.
#ifndef CFUSE_H
#define CFUSE_H

// Debian 12 ships libfuse 3.14: pin the API we are written against.
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <string.h>

// Why: fuse_session_loop_mt is a macro that picks a versioned symbol; Swift cannot call macros.
static inline int cfuse_session_loop_mt(struct fuse_session *se, struct fuse_loop_config *config) {
    return fuse_session_loop_mt(se, config);
}

// Why: FUSE_BUFVEC_INIT is a macro; this replies `size` bytes at `offset` of `fd`, letting libfuse
// splice when the kernel allows it instead of copying through our memory.
static inline int cfuse_reply_fd_range(fuse_req_t req, int fd, off_t offset, size_t size) {
    struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = (enum fuse_buf_flags)(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    buf.buf[0].fd = fd;
    buf.buf[0].pos = offset;
    return fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

// Why: Swift cannot build a fuse_bufvec destination with designated-initialiser macros; this copies
// a write_buf request's data (memory or pipe) straight into `fd` at `offset`.
static inline ssize_t cfuse_copy_to_fd(struct fuse_bufvec *in, int fd, off_t offset) {
    struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
    out.buf[0].flags = (enum fuse_buf_flags)(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    out.buf[0].fd = fd;
    out.buf[0].pos = offset;
    return fuse_buf_copy(&out, in, (enum fuse_buf_copy_flags)0);
}

// Why: fuse_file_info's flags are C bitfields; setting them through one call keeps the bridge simple.
static inline void cfuse_set_open_flags(struct fuse_file_info *fi, int direct_io, int keep_cache,
                                        int nonseekable, int cache_readdir) {
    fi->direct_io = direct_io ? 1 : 0;
    fi->keep_cache = keep_cache ? 1 : 0;
    fi->nonseekable = nonseekable ? 1 : 0;
    fi->cache_readdir = cache_readdir ? 1 : 0;
}

#endif
