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
	const char *const *own_addresses;   /* our mailboxes: mail from them is own_notice;
					       their (non-public) domains are our staff */
	const char *const *regulator_domains;   /* NULL: record_resolve's defaults */
	const char *const *regulator_phrases;   /* NULL: record_resolve's defaults */
	struct sniff *sniff;                /* required */
	const char *spill_dir;              /* where the bytes of parts over 1 MiB go
					       (unlinked files); NULL: the temporary folder */
};

/* Calls g_mime_init once per process (idempotent). */
void mime_init(void);

/* Parses one message. Never fails on hostile bytes: whatever cannot be read
   is noted in record->notes. Returns a record (free with record_free).
   - Text: inline text/plain and text/html (converted) parts in reading
     order, LF line ends; of a multipart/alternative the plain version when
     it has text, else the HTML one; attachments are collected from every
     version. Inside multipart/report every text part is text.
   - Forwarded complaints: a message/rfc822 part (outside a report) or an
     inline quoted header block ("From:"/"发件人:" followed by Sent/Date/To/
     Subject lines) in a mail whose subject (Fw:, 转发：) or note says it is
     forwarded, whose sender is neither the outer sender nor one of ours
     (own address or its non-public domain): the quoted sender becomes the
     complainant (name and phone from the forwarded text when it names
     them), the outer sender forwarded_by. A reply quoting a mail is not a
     forward.
   - Classification (auto_submitted): own_notice, bounce, receipt (a
     disposition-notification report), auto_reply, list.
   - Limits: over max_bytes only the headers are read; beyond max_depth and
     max_parts parts are not read; more than 4 * max_parts lines starting
     with "--" and the rest is not parsed. Each adds a note. A line of the
     header block that is no header moves to the start of the body (its
     text is kept, and so are the headers after it). */
struct record *mime_parse(const struct mime_settings *s, const char *data, size_t len);

/* The same, reading the message from a file (fd at offset 0, not closed):
   the message is read in chunks and the parser keeps offsets into the file,
   and decoded parts over 1 MiB go to unlinked files in s->spill_dir, read
   back through mappings (record_attachment.fd), so memory does not grow with
   the attachments. A header block over 1 MiB is read up to there only. */
struct record *mime_parse_fd(const struct mime_settings *s, int fd);

/* Decodes base64, tolerating separately padded chunks, line breaks and
   garbage characters (which are skipped). Returns newly allocated bytes. */
GBytes *mime_base64_decode(const char *in, size_t len);

#endif
