/* E-mail parsing with GMime: the whole MIME tree walked within limits, text in
   UTF-8 from any charset, RFC 2047 headers decoded by our own decoder
   (GMime 3.2.13 loses text, see PITFALLS.md), attachments typed from their
   bytes, forwarded complaints resolved to their original sender, machine mail
   classified, and the claimed values extracted. Bytes in, record out. */
#ifndef INTAKE_PARSERS_MIME_H
#define INTAKE_PARSERS_MIME_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "parsers/extract.h"
#include "parsers/record.h"
#include "parsers/sniff.h"

/* GMime 3.2 has no autoptr cleanups; declared once here. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)

struct mime_settings {                  /* 0 / NULL means the default */
	uint64_t max_bytes;                 /* default 50 MiB: beyond, headers only */
	unsigned max_depth;                 /* default 20 */
	unsigned max_parts;                 /* default 500 */
	const struct extract_settings *extract;
	const char *const *own_addresses;   /* our mailboxes: mail from them is own_notice */
	struct sniff *sniff;                /* required */
};

/* Calls g_mime_init once per process (idempotent). */
void mime_init(void);

/* Parses one message. Never fails on hostile bytes: whatever cannot be read
   is noted in record->notes. Returns a record (free with record_free). */
struct record *mime_parse(const struct mime_settings *s, const char *data, size_t len);

/* Decodes base64, tolerating separately padded chunks, line breaks and
   garbage characters (which are skipped). Returns newly allocated bytes. */
GBytes *mime_base64_decode(const char *in, size_t len);

#endif
