/* SHA-256 of originals and attachments, by OpenSSL's libcrypto (already
   linked through libcurl): it uses the CPU's SHA instructions where there
   are some, about 6 times the speed of GLib's GChecksum measured here, and
   hashing ran over every byte of every message. */
#ifndef INTAKE_CORE_DIGEST_H
#define INTAKE_CORE_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX 65   /* 64 hex digits and a NUL */

struct digest;

/* A running SHA-256. Aborts on allocation failure, like g_new. */
struct digest *digest_new(void);
void digest_update(struct digest *d, const void *data, size_t len);
/* Writes the lower-case hex digest of what was given so far. The digest may
   not be updated afterwards. */
void digest_hex(struct digest *d, char hex_r[DIGEST_HEX]);
void digest_free(struct digest *d);   /* NULL-safe */

/* The SHA-256 of one buffer, in lower-case hex. */
void digest_sha256_hex(const void *data, size_t len, char hex_r[DIGEST_HEX]);

#endif
