/*
 * The Minshall+French "XSym" symlink file format, as Linux CIFS writes and parses it with the
 * `mfsymlinks` mount option (fs/smb/client/link.c). Kept apart from the FUSE code so the format
 * can be read and checked on its own.
 *
 * Layout, exactly XSYM_FILE_SIZE bytes:
 *   "XSym\n" | 4 zero-padded decimal digits of the target length | "\n"
 *   | 32 lowercase hex digits of MD5(target) | "\n" | target | "\n" if room | spaces to the end
 */
#ifndef CIFS_EMULATOR_XSYM_H
#define CIFS_EMULATOR_XSYM_H

#include <stddef.h>
#include <sys/types.h>

#define XSYM_FILE_SIZE 1067
#define XSYM_MAX_TARGET 1024
#define XSYM_TARGET_OFFSET 43

/* RFC 1321 MD5; self-contained so the fixture needs nothing beyond libfuse3. */
void xsym_md5(const void *data, size_t length, unsigned char digest[16]);

/* Fills `out` with the XSym file for `target`. Returns 0, or -ENAMETOOLONG past 1024 bytes. */
int xsym_encode(const char *target, char out[XSYM_FILE_SIZE]);

/*
 * Decodes an XSym file's content. Returns the target length (target copied to `target`, which
 * must hold XSYM_MAX_TARGET + 1 bytes, NUL-terminated), or -EINVAL when `buf` is not a valid
 * XSym file: wrong size, bad header, length over 1024, or an MD5 that does not match.
 */
ssize_t xsym_decode(const char *buf, size_t length, char *target);

#endif
