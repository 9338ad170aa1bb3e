#include "xsym.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint32_t md5_sine[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static const uint8_t md5_shift[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void md5_block(uint32_t state[4], const unsigned char block[64]) {
    uint32_t m[16];
    for (int i = 0; i < 16; i++) {
        /* MD5 is little-endian by definition, whatever the host. */
        m[i] = (uint32_t)block[4 * i] | (uint32_t)block[4 * i + 1] << 8 |
               (uint32_t)block[4 * i + 2] << 16 | (uint32_t)block[4 * i + 3] << 24;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t f;
        unsigned g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        uint32_t next = b + rotl(a + f + md5_sine[i] + m[g], md5_shift[i]);
        a = d;
        d = c;
        c = b;
        b = next;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

void xsym_md5(const void *data, size_t length, unsigned char digest[16]) {
    uint32_t state[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    const unsigned char *bytes = data;
    size_t whole = length - length % 64;
    for (size_t off = 0; off < whole; off += 64)
        md5_block(state, bytes + off);

    /* The tail, the 0x80 marker and the 64-bit bit count take one or two more blocks. */
    unsigned char tail[128] = {0};
    size_t rest = length - whole;
    memcpy(tail, bytes + whole, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)length * 8;
    for (int i = 0; i < 8; i++)
        tail[tail_len - 8 + i] = (unsigned char)(bits >> (8 * i));
    for (size_t off = 0; off < tail_len; off += 64)
        md5_block(state, tail + off);

    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            digest[4 * i + j] = (unsigned char)(state[i] >> (8 * j));
}

static void md5_hex(const char *target, size_t length, char hex[33]) {
    unsigned char digest[16];
    xsym_md5(target, length, digest);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

int xsym_encode(const char *target, char out[XSYM_FILE_SIZE]) {
    size_t length = strlen(target);
    if (length > XSYM_MAX_TARGET)
        return -ENAMETOOLONG;
    char hex[33];
    md5_hex(target, length, hex);
    char header[XSYM_TARGET_OFFSET + 1];
    snprintf(header, sizeof header, "XSym\n%04u\n%s\n", (unsigned)length, hex);
    memcpy(out, header, XSYM_TARGET_OFFSET);
    memcpy(out + XSYM_TARGET_OFFSET, target, length);
    size_t off = XSYM_TARGET_OFFSET + length;
    if (off < XSYM_FILE_SIZE)
        out[off++] = '\n';
    memset(out + off, ' ', XSYM_FILE_SIZE - off);
    return 0;
}

ssize_t xsym_decode(const char *buf, size_t length, char *target) {
    if (length != XSYM_FILE_SIZE || memcmp(buf, "XSym\n", 5) != 0 || buf[9] != '\n')
        return -EINVAL;
    unsigned link_len = 0;
    for (int i = 5; i < 9; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -EINVAL;
        link_len = link_len * 10 + (unsigned)(buf[i] - '0');
    }
    if (link_len > XSYM_MAX_TARGET)
        return -EINVAL;
    char hex[33];
    md5_hex(buf + XSYM_TARGET_OFFSET, link_len, hex);
    /* Linux's parse_mf_symlink compares only the first 17 hex digits; do the same so exactly the
     * files the kernel would call links are links here. */
    if (memcmp(buf + 10, hex, 17) != 0)
        return -EINVAL;
    /* The kernel keeps the target with kstrndup, which stops at a NUL byte. */
    size_t kept = strnlen(buf + XSYM_TARGET_OFFSET, link_len);
    memcpy(target, buf + XSYM_TARGET_OFFSET, kept);
    target[kept] = '\0';
    return (ssize_t)kept;
}
