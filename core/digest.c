/* SHA-256 by libcrypto's EVP interface; see digest.h. */
#include "core/digest.h"

#include <glib.h>
#include <openssl/evp.h>

struct digest {
	EVP_MD_CTX *ctx;
};

struct digest *digest_new(void)
{
	struct digest *d = g_new0(struct digest, 1);
	d->ctx = EVP_MD_CTX_new();
	if (d->ctx == NULL || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
		g_error("digest: SHA-256 not available from libcrypto");
	return d;
}

void digest_update(struct digest *d, const void *data, size_t len)
{
	if (len > 0)
		EVP_DigestUpdate(d->ctx, data, len);
}

static void digest_to_hex(const unsigned char *md, unsigned n, char hex_r[DIGEST_HEX])
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < n && i < 32; i++) {
		hex_r[2 * i] = digits[md[i] >> 4];
		hex_r[2 * i + 1] = digits[md[i] & 15];
	}
	hex_r[64] = '\0';
}

void digest_hex(struct digest *d, char hex_r[DIGEST_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(d->ctx, md, &n);
	digest_to_hex(md, n, hex_r);
}

void digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	g_free(d);
}

void digest_sha256_hex(const void *data, size_t len, char hex_r[DIGEST_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (EVP_Digest(len > 0 ? data : "", len, md, &n, EVP_sha256(), NULL) != 1)
		g_error("digest: SHA-256 not available from libcrypto");
	digest_to_hex(md, n, hex_r);
}
