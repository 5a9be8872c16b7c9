/* E-mail to record with GMime; see mime.h.
   SECURITY: every byte here comes from the Internet. The walk is bounded in
   depth and part count, and GMime (which builds every part before the walk)
   is given only the bytes before the (4 * max_parts)-th boundary line; over
   a limit the message is still recorded with a note. Header text, display names and filenames are decoded by rfc2047.c
   and bodies converted by charset_to_utf8, which always return valid UTF-8;
   GMime's own header decoding is never used for text that reaches the
   record (it loses or garbles Chinese text, see PITFALLS.md). Attachment
   names are reduced to a base name without control or bidi characters.
   Scans of the body text (inline forwards) are line by line, linear.
   Memory: the message is read through a stream (a file, or borrowed bytes)
   64 KiB at a time and GMime keeps offsets into it; decoded parts over
   1 MiB go to unlinked files (struct mime_sink), a header block over 1 MiB
   is cut; only text (the body, text attachments) is held whole. */
#include "parsers/mime.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/digest.h"
#include "parsers/charset.h"
#include "parsers/html.h"
#include "parsers/rfc2047.h"

#define MIME_DEFAULT_MAX_BYTES (50u << 20)
#define MIME_DEFAULT_MAX_DEPTH 20
#define MIME_DEFAULT_MAX_PARTS 500
#define MIME_FILENAME_MAX_CHARS 200
#define MIME_CHUNK 65536                /* bytes read from a stream at a time */
#define MIME_SPILL_BYTES (1u << 20)     /* a part's bytes beyond this go to a file */
#define MIME_HEAD_MAX (1u << 20)        /* a longer header block is cut here */
/* Lines after a quoted "From:" line searched for the rest of its block. */
#define MIME_QUOTE_BLOCK_LINES 8

/* What a walk takes from the parts it visits. */
enum mime_flags {
	MIME_TEXT = 1 << 0,     /* inline text is body text (else: only attachments) */
	MIME_REPORT = 1 << 1,   /* inside multipart/report: machine parts, no forwards */
};

/* State of one walk over a message tree. */
struct mime_walk {
	const struct mime_settings *s;
	struct record *r;
	GString *text;          /* body text in reading order, LF line ends */
	GString *attach_text;   /* text of text attachments, for extraction */
	unsigned parts;
	unsigned max_depth, max_parts;
	bool depth_noted, parts_noted, spill_noted;
	bool crlf;              /* the message has CRLF line ends */
	bool forwarded;         /* a forwarded complaint was found */
	size_t fwd_start, fwd_end, note_end;   /* its text, and the forwarder's note */
};

void mime_init(void)
{
	static gsize done = 0;
	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

/* base64 digit values (also the URL-safe - and _), -1 for other bytes. */
static const signed char mime_b64_table[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, 62, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static inline int mime_b64_value(unsigned char c)
{
	return mime_b64_table[c];
}

/* State of a base64 decoding that goes on across chunks. */
struct mime_b64 {
	guint32 acc;
	int bits;
	bool padded;      /* the last digit seen was padding */
	bool skip_line;   /* text after the padding: skipped to the end of the line */
};

/* Decodes len bytes of in into out (room for len / 4 * 3 + 3 bytes);
   returns the bytes written. */
static size_t mime_b64_step(struct mime_b64 *st, const char *in, size_t len, guint8 *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (st->skip_line) {
			const char *nl = memchr(in + i, '\n', len - i);
			if (nl == NULL)
				break;
			i = (size_t)(nl - in);
			st->skip_line = false;
			continue;
		}
		/* Fast path: four digits at a quantum boundary make three bytes. */
		while (st->bits == 0 && i + 4 <= len) {
			int a = mime_b64_table[(unsigned char)in[i]], b = mime_b64_table[(unsigned char)in[i + 1]];
			int c = mime_b64_table[(unsigned char)in[i + 2]], d = mime_b64_table[(unsigned char)in[i + 3]];
			if ((a | b | c | d) < 0)
				break;
			guint32 q = (guint32)a << 18 | (guint32)b << 12 | (guint32)c << 6 | (guint32)d;
			out[n++] = (guint8)(q >> 16);
			out[n++] = (guint8)(q >> 8);
			out[n++] = (guint8)q;
			st->padded = false;
			i += 4;
		}
		if (i >= len)
			break;
		if (in[i] == '=') {   /* padding ends a quantum; another may follow */
			st->acc = 0;
			st->bits = 0;
			st->padded = true;
			continue;
		}
		if (st->padded && (in[i] == ' ' || in[i] == '\t')) {
			st->skip_line = true;   /* text after the padding on its line is not base64 */
			continue;
		}
		int v = mime_b64_value((unsigned char)in[i]);
		if (v < 0)
			continue;
		st->padded = false;
		st->acc = (st->acc << 6) | (guint32)v;
		st->bits += 6;
		if (st->bits >= 8) {
			st->bits -= 8;
			out[n++] = (guint8)(st->acc >> st->bits);
			st->acc &= (1u << st->bits) - 1;
		}
	}
	return n;
}

GBytes *mime_base64_decode(const char *in, size_t len)
{
	struct mime_b64 st = { 0 };
	guint8 *out = g_malloc(len / 4 * 3 + 3);
	size_t n = mime_b64_step(&st, in, len, out);
	return g_bytes_new_take(out, n);
}

/* ---- where decoded part bytes go ----
   In memory up to MIME_SPILL_BYTES; beyond, into an unlinked file in the
   spill folder, read back through a mapping: a large attachment costs disk,
   not memory. Hashed as it is written. If no file can be made, the bytes
   stay in memory (nothing is lost) and a note says so. */

struct mime_sink {
	const char *dir;
	GByteArray *mem;
	int fd;              /* the spill file, or -1 */
	uint64_t size;
	struct digest *sum;
	bool spill_failed;
};

static void mime_sink_init(struct mime_sink *k, const char *dir, bool hash)
{
	*k = (struct mime_sink){ .dir = dir, .mem = g_byte_array_new(), .fd = -1,
				 .sum = hash ? digest_new() : NULL };
}

static bool mime_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Moves what is in memory to a new unlinked file; false if none could be made. */
static bool mime_sink_spill(struct mime_sink *k)
{
	g_autofree char *tmpl = g_build_filename(k->dir != NULL ? k->dir : g_get_tmp_dir(),
						 "part-XXXXXX", NULL);
	int fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	unlink(tmpl);
	if (!mime_write_all(fd, k->mem->data, k->mem->len)) {
		close(fd);
		return false;
	}
	k->fd = fd;
	g_byte_array_set_size(k->mem, 0);
	return true;
}

/* Reads the first n bytes of the spill file back into memory and drops the
   file (the disk filled, or it cannot be mapped). */
static void mime_sink_unspill(struct mime_sink *k, uint64_t n)
{
	g_byte_array_set_size(k->mem, (guint)n);
	uint64_t got = 0;
	while (got < n) {
		ssize_t r = pread(k->fd, k->mem->data + got, (size_t)(n - got), (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (uint64_t)r;
	}
	g_byte_array_set_size(k->mem, (guint)got);
	close(k->fd);
	k->fd = -1;
	k->spill_failed = true;
}

static void mime_sink_write(struct mime_sink *k, const void *data, size_t len)
{
	if (k->sum != NULL)
		digest_update(k->sum, data, len);
	k->size += len;
	if (k->fd < 0 && !k->spill_failed && k->mem->len + len > MIME_SPILL_BYTES &&
	    !mime_sink_spill(k))
		k->spill_failed = true;
	if (k->fd >= 0) {
		if (mime_write_all(k->fd, data, len))
			return;
		mime_sink_unspill(k, k->size - len);
	}
	g_byte_array_append(k->mem, data, (guint)len);
}

/* The bytes written, as one GBytes (a mapping of the spill file when there
   is one: *fd_r then holds the file, else -1), and their SHA-256 when
   hashed. */
static GBytes *mime_sink_finish(struct mime_sink *k, int *fd_r, char sha_r[DIGEST_HEX])
{
	GBytes *b = NULL;
	if (k->sum != NULL)
		digest_hex(k->sum, sha_r);
	digest_free(k->sum);
	*fd_r = -1;
	if (k->fd >= 0) {
		GMappedFile *mf = g_mapped_file_new_from_fd(k->fd, FALSE, NULL);
		if (mf != NULL && g_mapped_file_get_length(mf) == k->size) {
			b = g_mapped_file_get_bytes(mf);
			*fd_r = k->fd;
		} else {
			mime_sink_unspill(k, k->size);
		}
		if (mf != NULL)
			g_mapped_file_unref(mf);
	}
	if (b == NULL)
		b = g_byte_array_free_to_bytes(k->mem);
	else
		g_byte_array_unref(k->mem);
	return b;
}

/* The raw value of a header of obj, or NULL. */
static const char *mime_raw_header(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	GMimeHeader *h = list != NULL ? g_mime_header_list_get_header(list, name) : NULL;
	return h != NULL ? g_mime_header_get_raw_value(h) : NULL;
}

/* Reads a part's raw content through its transfer decoding into the sink. */
static void mime_decode_into(GMimeDataWrapper *dw, struct mime_sink *k)
{
	GMimeStream *raw = g_mime_data_wrapper_get_stream(dw);
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(dw);
	bool b64 = enc == GMIME_CONTENT_ENCODING_BASE64;
	bool filtered = enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
			enc == GMIME_CONTENT_ENCODING_UUENCODE;
	GMimeStream *in = raw;
	if (filtered) {
		in = g_mime_stream_filter_new(raw);
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(in), f);
		g_object_unref(f);   /* the stream holds it */
	}
	struct mime_b64 st = { 0 };
	g_autofree char *buf = g_malloc(MIME_CHUNK);
	g_autofree guint8 *out = b64 ? g_malloc(MIME_CHUNK / 4 * 3 + 3) : NULL;
	g_mime_stream_reset(raw);
	for (;;) {
		ssize_t n = g_mime_stream_read(in, buf, MIME_CHUNK);
		if (n <= 0)
			break;
		/* Our own base64 decoder: GMime 3.2.13 mis-decodes separately padded chunks. */
		if (b64)
			mime_sink_write(k, out, mime_b64_step(&st, buf, (size_t)n, out));
		else
			mime_sink_write(k, buf, (size_t)n);
	}
	if (filtered)
		g_object_unref(in);
	g_mime_stream_reset(raw);
}

/* The decoded bytes of a leaf part (transfer encoding undone); a large
   part's bytes are a mapping of a spill file, given in *fd_r (else -1).
   With hash, the SHA-256 of the bytes goes to sha_r. */
static GBytes *mime_part_decode(struct mime_walk *w, GMimePart *part, bool hash, int *fd_r,
				char sha_r[DIGEST_HEX])
{
	struct mime_sink k;
	mime_sink_init(&k, w->s->spill_dir, hash);
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	if (dw != NULL)
		mime_decode_into(dw, &k);
	GBytes *b = mime_sink_finish(&k, fd_r, sha_r);
	if (k.spill_failed && !w->spill_noted) {
		record_note(w->r, "a part of %" G_GUINT64_FORMAT " bytes could not be written to a "
			    "temporary file: it was read in memory", (guint64)k.size);
		w->spill_noted = true;
	}
	return b;
}

/* The decoded bytes of a small part, for a look at its text. */
static GBytes *mime_part_bytes(struct mime_walk *w, GMimePart *part)
{
	int fd = -1;
	char sha[DIGEST_HEX];
	GBytes *b = mime_part_decode(w, part, false, &fd, sha);
	if (fd >= 0)
		close(fd);   /* the mapping stays valid */
	return b;
}

/* Appends text to dst with CRLF and CR turned into LF, on a new line when
   dst already holds text. */
static void mime_append_text(GString *dst, const char *text)
{
	if (dst->len > 0 && dst->str[dst->len - 1] != '\n')
		g_string_append_c(dst, '\n');
	for (const char *p = text; *p != '\0'; p++) {
		if (*p != '\r')
			g_string_append_c(dst, *p);
		else if (p[1] != '\n')
			g_string_append_c(dst, '\n');
	}
}

/* Converts a text part to UTF-8 (HTML to text) and notes the charset of the
   first body part. Returns newly allocated text. */
static char *mime_part_text(struct mime_walk *w, GMimePart *part, GBytes *bytes, bool is_body)
{
	const char *declared = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	const char *used = NULL;
	bool detected = false;
	size_t n = 0, out_len = 0;
	const char *data = g_bytes_get_data(bytes, &n);
	char *text = charset_to_utf8(declared, data != NULL ? data : "", n, &out_len, &used, &detected);
	if (is_body && w->r->body_charset == NULL) {
		w->r->body_charset = g_strdup(used);
		w->r->body_charset_detected = detected;
	}
	if (g_mime_content_type_is_type(ct, "text", "html")) {
		char *t = html_to_text(text, out_len);
		g_free(text);
		text = t;
	}
	return text;
}

/* A filename as given: Content-Disposition filename, else Content-Type
   name, decoded by us (RFC 2231, RFC 2047, raw 8-bit). NULL if none. */
static char *mime_filename_raw(GMimeObject *obj)
{
	const char *cd = mime_raw_header(obj, "Content-Disposition");
	const char *ct = mime_raw_header(obj, "Content-Type");
	char *name = cd != NULL ? rfc2047_decode_param(cd, strlen(cd), "filename") : NULL;
	if (name == NULL && ct != NULL)
		name = rfc2047_decode_param(ct, strlen(ct), "name");
	return name;
}

/* Characters a filename must not keep: controls, and the invisible
   direction marks that disguise "fdp.exe" as "exe.pdf". */
static bool mime_filename_char_ok(gunichar c)
{
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
		return false;
	if (c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0xfeff)
		return false;
	return true;
}

/* No path parts, no control or bidi characters, at most 200 characters,
   never empty. */
static char *mime_sanitize_filename(const char *name, unsigned index)
{
	const char *base = name != NULL ? name : "";
	for (const char *p = base; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	GString *out = g_string_new(NULL);
	unsigned chars = 0;
	for (const char *p = base; *p != '\0' && chars < MIME_FILENAME_MAX_CHARS;
	     p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (mime_filename_char_ok(c)) {
			g_string_append_unichar(out, c);
			chars++;
		}
	}
	while (out->len > 0 && (out->str[0] == '.' || out->str[0] == ' '))
		g_string_erase(out, 0, 1);
	while (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	if (out->len == 0)
		g_string_printf(out, "attachment-%u", index);
	return g_string_free(out, FALSE);
}

/* Lists an attachment; it takes fd (its spill file, or -1). sha is the
   SHA-256 of bytes, or NULL to compute it. */
static void mime_add_attachment(struct mime_walk *w, GMimeObject *part, GBytes *bytes, int fd,
				const char *sha, const char *filename)
{
	struct record_attachment *a = g_new0(struct record_attachment, 1);
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	size_t n = 0;
	const char *data = g_bytes_get_data(bytes, &n);
	a->filename = mime_sanitize_filename(filename, w->r->attachments->len + 1);
	g_autofree char *declared = g_mime_content_type_get_mime_type(ct);   /* allocated */
	a->declared_type = g_ascii_strdown(declared, -1);
	a->detected_type = sniff_buffer(w->s->sniff, data, n);
	a->size = n;
	if (sha != NULL)
		g_strlcpy(a->sha256, sha, sizeof a->sha256);
	else
		digest_sha256_hex(data, n, a->sha256);
	a->risky = sniff_is_risky_content(a->detected_type, a->filename, data, n);
	a->content = g_bytes_ref(bytes);
	a->fd = fd;
	g_ptr_array_add(w->r->attachments, a);
}

/* Text attachments (plain, HTML) feed the extraction. */
static void mime_attachment_text(struct mime_walk *w, GMimePart *part, GBytes *bytes)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	if (!g_mime_content_type_is_type(ct, "text", "plain") &&
	    !g_mime_content_type_is_type(ct, "text", "html"))
		return;
	g_autofree char *text = mime_part_text(w, part, bytes, false);
	mime_append_text(w->attach_text, text);
}

/* In a report, the human part and the machine parts (delivery status,
   returned headers) are all text. */
static bool mime_is_report_text(GMimePart *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	return g_mime_content_type_is_type(ct, "text", "*") ||
	       g_mime_content_type_is_type(ct, "message", "*");
}

static void mime_walk_object(struct mime_walk *w, GMimeObject *obj, unsigned depth, unsigned flags);
static GMimeMessage *mime_construct(const char *data, size_t len);
static size_t mime_bounded_length(const char *data, size_t len, unsigned max_parts);
static void mime_walk_inner(struct mime_walk *w, GMimeMessage *inner, GMimeObject *container,
			    unsigned depth, unsigned flags);

/* A message/rfc822 part with a base64 or quoted-printable transfer
   encoding: GMime leaves it a leaf; we decode and parse it. Returns true
   when it was walked as a message. */
static bool mime_walk_encoded_message(struct mime_walk *w, GMimePart *part, GBytes *bytes,
				      unsigned depth, unsigned flags)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	if (!g_mime_content_type_is_type(ct, "message", "rfc822") &&
	    !g_mime_content_type_is_type(ct, "message", "global"))
		return false;
	size_t n = 0;
	const char *data = g_bytes_get_data(bytes, &n);
	n = n > 0 ? mime_bounded_length(data, n, w->max_parts) : 0;
	GMimeMessage *inner = n > 0 ? mime_construct(data, n) : NULL;
	if (inner == NULL)
		return false;
	mime_walk_inner(w, inner, GMIME_OBJECT(part), depth, flags);
	g_object_unref(inner);
	return true;
}

/* Inline text parts are body text; a text part with a name but without
   "Content-Disposition: attachment" is both (a reader sees it inline). */
static void mime_walk_part(struct mime_walk *w, GMimePart *part, unsigned depth, unsigned flags)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	const char *disp = g_mime_object_get_disposition(GMIME_OBJECT(part));
	bool is_text = g_mime_content_type_is_type(ct, "text", "plain") ||
		       g_mime_content_type_is_type(ct, "text", "html");
	bool attached = disp != NULL && g_ascii_strcasecmp(disp, "attachment") == 0;
	int fd = -1;
	char sha[DIGEST_HEX] = "";
	g_autofree char *filename = mime_filename_raw(GMIME_OBJECT(part));
	bool listed = !is_text || attached || filename != NULL;
	GBytes *bytes = mime_part_decode(w, part, listed, &fd, sha);
	if ((flags & MIME_REPORT) && mime_is_report_text(part)) {
		g_autofree char *text = mime_part_text(w, part, bytes, true);
		mime_append_text(w->text, text);
	} else if (mime_walk_encoded_message(w, part, bytes, depth, flags)) {
		/* walked as a message */
	} else {
		bool body = is_text && !attached && (flags & MIME_TEXT);
		if (!is_text || attached || filename != NULL) {
			mime_add_attachment(w, GMIME_OBJECT(part), bytes, fd, listed ? sha : NULL, filename);
			fd = -1;
		}
		if (body) {
			g_autofree char *text = mime_part_text(w, part, bytes, true);
			mime_append_text(w->text, text);
		} else if (is_text) {
			mime_attachment_text(w, part, bytes);
		}
	}
	if (fd >= 0)
		close(fd);
	g_bytes_unref(bytes);
}

/* True when a text/plain part has nothing but blanks. */
static bool mime_plain_is_blank(struct mime_walk *w, GMimePart *part)
{
	GBytes *bytes = mime_part_bytes(w, part);
	size_t n = 0;
	const char *data = g_bytes_get_data(bytes, &n);
	g_autofree char *text = charset_to_utf8(
		g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset"),
		data, n, NULL, NULL, NULL);
	g_bytes_unref(bytes);
	return *g_strstrip(text) == '\0';
}

/* multipart/alternative: the index of the version read as text: a plain
   part with text, else HTML, else a multipart (related HTML), else the
   first. */
static int mime_pick_alternative(struct mime_walk *w, GMimeMultipart *mp)
{
	int html = -1, multi = -1, n = g_mime_multipart_get_count(mp);
	for (int i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);
		GMimeContentType *ct = g_mime_object_get_content_type(c);
		if (GMIME_IS_PART(c) && g_mime_content_type_is_type(ct, "text", "plain") &&
		    !mime_plain_is_blank(w, GMIME_PART(c)))
			return i;
		if (html < 0 && GMIME_IS_PART(c) && g_mime_content_type_is_type(ct, "text", "html"))
			html = i;
		else if (multi < 0 && GMIME_IS_MULTIPART(c))
			multi = i;
	}
	return html >= 0 ? html : multi >= 0 ? multi : 0;
}

/* Every version of an alternative is walked for its attachments (inline
   images of the HTML version); only the picked one gives text. */
static void mime_walk_multipart(struct mime_walk *w, GMimeMultipart *mp, unsigned depth,
				unsigned flags)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
	int n = g_mime_multipart_get_count(mp), pick = -1;
	if (g_mime_content_type_is_type(ct, "multipart", "alternative"))
		pick = mime_pick_alternative(w, mp);
	if (g_mime_content_type_is_type(ct, "multipart", "report"))
		flags |= MIME_REPORT;
	for (int i = 0; i < n; i++) {
		unsigned f = pick < 0 || i == pick ? flags : flags & ~(unsigned)MIME_TEXT;
		mime_walk_object(w, g_mime_multipart_get_part(mp, i), depth + 1, f);
	}
	const char *prologue = g_mime_multipart_get_prologue(mp);
	if (n == 0 && prologue != NULL && (flags & MIME_TEXT)) {
		/* No boundary was found: the whole content is the prologue. */
		g_autofree char *text = charset_to_utf8(NULL, prologue, strlen(prologue),
							 NULL, NULL, NULL);
		mime_append_text(w->text, text);
	}
}

/* ---------------------------------------------------------------- addresses */

/* Public mail domains: an own address there says nothing about the firm. */
static bool mime_is_public_domain(const char *domain)
{
	static const char *const pub[] = {
		"qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn",
		"sohu.com", "139.com", "189.cn", "aliyun.com", "gmail.com", "outlook.com",
		"hotmail.com", "live.com", "yahoo.com", "icloud.com", NULL };
	for (size_t i = 0; pub[i] != NULL; i++)
		if (g_ascii_strcasecmp(domain, pub[i]) == 0)
			return true;
	return false;
}

/* True when domain is d or a subdomain of it. */
static bool mime_domain_within(const char *domain, const char *d)
{
	size_t n = strlen(domain), m = strlen(d);
	if (n < m || g_ascii_strcasecmp(domain + n - m, d) != 0)
		return false;
	return n == m || domain[n - m - 1] == '.';
}

/* True when address is one of ours, or in the domain of one of ours (a
   colleague at a branch: sz.example.cn within example.cn). */
static bool mime_is_own_address(const struct mime_settings *s, const char *address)
{
	const char *at = address != NULL ? strrchr(address, '@') : NULL;
	for (size_t i = 0; at != NULL && s->own_addresses != NULL && s->own_addresses[i]; i++) {
		const char *own = s->own_addresses[i], *own_at = strrchr(own, '@');
		if (g_ascii_strcasecmp(address, own) == 0)
			return true;
		if (own_at != NULL && !mime_is_public_domain(own_at + 1) &&
		    mime_domain_within(at + 1, own_at + 1))
			return true;
	}
	return false;
}

/* The length of the first mailbox of a raw address list: up to the first
   ',' outside quotes, comments and angle brackets. A group's "name:" is
   skipped (*start_r moves past it). */
static size_t mime_first_mailbox(const char *raw, const char **start_r)
{
	int comment = 0;
	bool quoted = false, angle = false;
	const char *start = raw, *p = raw, *first_at = strchr(raw, '@');
	for (; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"' && comment == 0) {
			quoted = true;
		} else if (*p == '(') {
			comment++;
		} else if (*p == ')' && comment > 0) {
			comment--;
		} else if (comment == 0 && *p == '<') {
			angle = true;
		} else if (comment == 0 && *p == '>') {
			angle = false;
		} else if (comment == 0 && !angle && *p == ':' && first_at != NULL && p < first_at) {
			start = p + 1;
		} else if (comment == 0 && !angle && *p == ',') {
			break;
		}
	}
	*start_r = start;
	return (size_t)(p - start);
}

/* Removes quotes (and their backslash escapes) and comments; the text of
   the first comment goes to *comment_r (NULL when there is none). */
static char *mime_unquote(const char *s, size_t len, char **comment_r)
{
	GString *out = g_string_new(NULL), *cm = NULL;
	int depth = 0;
	bool quoted = false, first_done = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < len && (quoted || depth > 0)) {
			c = s[++i];
		} else if (c == '"' && depth == 0) {
			quoted = !quoted;
			continue;
		} else if (!quoted && c == '(') {
			if (depth++ == 0 && cm == NULL)
				cm = g_string_new(NULL);
			continue;
		} else if (!quoted && c == ')' && depth > 0) {
			first_done |= --depth == 0;
			continue;
		}
		if (depth == 0)
			g_string_append_c(out, c);
		else if (!first_done)
			g_string_append_c(cm, c);
	}
	*comment_r = cm != NULL ? g_string_free(cm, FALSE) : NULL;
	return g_string_free(out, FALSE);
}

/* A display name decoded by us, trimmed; NULL when empty. */
static char *mime_decode_name(const char *s)
{
	if (s == NULL)
		return NULL;
	char *name = rfc2047_decode(s, strlen(s));
	g_strstrip(name);
	size_t n = strlen(name);
	if (n >= 2 && ((name[0] == '"' && name[n - 1] == '"') || (name[0] == '\'' && name[n - 1] == '\''))) {
		memmove(name, name + 1, n - 2);
		name[n - 2] = '\0';
		g_strstrip(name);
	}
	if (*name == '\0')
		g_clear_pointer(&name, g_free);
	return name;
}

/* The address of a mailbox without angle brackets: its text without
   comments and blanks; NULL unless it has an '@'. */
static char *mime_bare_address(const char *s)
{
	char *a = g_strdup(s);
	g_strstrip(a);
	if (strchr(a, '@') == NULL || strpbrk(a, " \t<>") != NULL)
		g_clear_pointer(&a, g_free);
	return a;
}

/* Lower-cases the domain of an address in place; returns it, or NULL (and
   frees it) when it is empty or not valid UTF-8. */
static char *mime_clean_address(char *addr)
{
	if (addr != NULL && (*addr == '\0' || strchr(addr, '@') == NULL ||
			     !g_utf8_validate(addr, -1, NULL)))
		g_clear_pointer(&addr, g_free);
	char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	for (char *p = at; p != NULL && *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	return addr;
}

/* The address GMime finds in a raw header (its address parser handles
   routes and obsolete forms; its name decoding is not used). */
static char *mime_gmime_address(const char *raw)
{
	InternetAddressList *list = internet_address_list_parse(NULL, raw);
	char *addr = NULL;
	for (int i = 0; list != NULL && i < internet_address_list_length(list) && !addr; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			addr = g_strdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
		else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *m = internet_address_group_get_members(
				INTERNET_ADDRESS_GROUP(ia));
			InternetAddress *first = m != NULL && internet_address_list_length(m) > 0 ?
				internet_address_list_get_address(m, 0) : NULL;
			if (first != NULL && INTERNET_ADDRESS_IS_MAILBOX(first))
				addr = g_strdup(internet_address_mailbox_get_addr(
					INTERNET_ADDRESS_MAILBOX(first)));
		}
	}
	if (list != NULL)
		g_object_unref(list);
	return addr;
}

/* Parses the first mailbox of a raw address header into a: "name <addr>",
   "addr (name)", "addr", or a bare "name" without an address. */
static void mime_parse_mailbox(const char *raw, struct record_address *a)
{
	const char *start = NULL;
	size_t len = mime_first_mailbox(raw, &start);
	g_autofree char *comment = NULL;
	g_autofree char *plain = mime_unquote(start, len, &comment);
	char *lt = strchr(plain, '<');
	if (lt != NULL) {
		*lt = '\0';
		a->name = mime_decode_name(plain);
	} else {
		g_autofree char *bare = mime_bare_address(plain);
		a->name = mime_decode_name(bare != NULL ? comment : plain);
	}
	a->address = mime_clean_address(mime_gmime_address(raw));
}

/* The first header of that name that gives an address (a hostile mail may
   carry "From: <<<@@@>>>" before its real From), else the first one. */
static void mime_read_address(GMimeObject *obj, const char *header, struct record_address *a)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list != NULL ? g_mime_header_list_get_count(list) : 0;
	for (int i = 0; i < n && a->address == NULL; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *raw = g_mime_header_get_raw_value(h);
		if (g_ascii_strcasecmp(g_mime_header_get_name(h), header) != 0 || raw == NULL)
			continue;
		struct record_address t = { NULL, NULL };
		mime_parse_mailbox(raw, &t);
		if (t.address != NULL || a->name == NULL) {
			g_free(a->name);
			*a = t;
		} else {
			g_free(t.name);
		}
	}
}

/* ---------------------------------------------------------------- forwards */

/* True when a quoted or attached sender is the complainant of a forward:
   not the forwarder, not us. */
static bool mime_sender_is_other(const struct mime_walk *w, const struct record_address *q)
{
	const struct record_address *from = &w->r->from;
	if (q->address == NULL)
		return q->name != NULL && (from->name == NULL || strcmp(q->name, from->name) != 0);
	if (from->address != NULL && g_ascii_strcasecmp(q->address, from->address) == 0)
		return false;
	return !mime_is_own_address(w->s, q->address);
}

/* Records a forward: the outer sender forwarded, q is the complainant
   (ownership of q's strings moves to the record). */
static void mime_set_forward(struct mime_walk *w, struct record_address *q)
{
	struct record *r = w->r;
	struct record_address *fwd = g_new0(struct record_address, 1);
	fwd->address = g_strdup(r->from.address);
	fwd->name = g_strdup(r->from.name);
	r->forwarded_by = fwd;
	g_free(r->complainant.address);
	g_free(r->complainant.name);
	r->complainant = *q;
	q->address = q->name = NULL;
	w->forwarded = true;
}

/* The bytes of a parsed message, serialised again by GMime (which keeps
   unmodified headers and bodies as they were), with the line ends of the
   outer message: for a well-formed message, the bytes it was sent with. */
static GBytes *mime_message_bytes(GMimeMessage *msg, bool crlf)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GMimeFormatOptions *opts = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(opts, crlf ? GMIME_NEWLINE_FORMAT_DOS :
						 GMIME_NEWLINE_FORMAT_UNIX);
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), opts, mem);
	g_mime_format_options_free(opts);
	GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	GBytes *b = g_bytes_new(arr->data, arr->len);
	g_object_unref(mem);
	return b;
}

/* An attached message is listed as an attachment when it is named or
   disposed as one, or when it is no message at all (no header): then its
   bytes would otherwise be lost. */
static void mime_list_message(struct mime_walk *w, GMimeMessage *inner, GMimeObject *container,
			      unsigned flags)
{
	const char *disp = g_mime_object_get_disposition(container);
	g_autofree char *filename = mime_filename_raw(container);
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(inner));
	bool broken = hl == NULL || g_mime_header_list_get_count(hl) == 0;
	if ((flags & MIME_REPORT) || (!broken && filename == NULL &&
				      (disp == NULL || g_ascii_strcasecmp(disp, "attachment") != 0)))
		return;
	GBytes *bytes = mime_message_bytes(inner, w->crlf);
	mime_add_attachment(w, container, bytes, -1, NULL, filename);
	g_bytes_unref(bytes);
}

static void mime_walk_inner(struct mime_walk *w, GMimeMessage *inner, GMimeObject *container,
			    unsigned depth, unsigned flags)
{
	bool fwd = false;
	mime_list_message(w, inner, container, flags);
	if (!(flags & MIME_REPORT) && !w->forwarded) {
		struct record_address q = { NULL, NULL };
		mime_read_address(GMIME_OBJECT(inner), "From", &q);
		if ((fwd = mime_sender_is_other(w, &q)))
			mime_set_forward(w, &q);
		g_free(q.address);
		g_free(q.name);
	}
	size_t start = w->text->len;
	GMimeObject *body = g_mime_message_get_mime_part(inner);
	if (body != NULL)
		mime_walk_object(w, body, depth + 1, flags);
	if (fwd) {
		w->note_end = w->fwd_start = start;
		w->fwd_end = w->text->len;
	}
}

static void mime_walk_object(struct mime_walk *w, GMimeObject *obj, unsigned depth, unsigned flags)
{
	if (depth > w->max_depth) {
		if (!w->depth_noted)
			record_note(w->r, "MIME nesting deeper than %u levels: the deeper parts were "
				    "not read (the original is kept whole)", w->max_depth);
		w->depth_noted = true;
		return;
	}
	if (++w->parts > w->max_parts) {
		if (!w->parts_noted)
			record_note(w->r, "more than %u MIME parts: the rest were not read "
				    "(the original is kept whole)", w->max_parts);
		w->parts_noted = true;
		return;
	}
	if (GMIME_IS_MULTIPART(obj))
		mime_walk_multipart(w, GMIME_MULTIPART(obj), depth, flags);
	else if (GMIME_IS_MESSAGE_PART(obj) && g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj)))
		mime_walk_inner(w, g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj)), obj, depth,
				flags);
	else if (GMIME_IS_PART(obj))
		mime_walk_part(w, GMIME_PART(obj), depth, flags);
}

/* If line [p, end) starts with one of the labels followed by ':' or '：',
   returns where the value starts, else NULL. */
static const char *mime_label_value(const char *p, const char *end, const char *const *labels)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '*'))
		p++;
	for (size_t i = 0; labels[i] != NULL; i++) {
		size_t n = strlen(labels[i]);
		if ((size_t)(end - p) < n || g_ascii_strncasecmp(p, labels[i], n) != 0)
			continue;
		const char *v = p + n;
		while (v < end && (*v == ' ' || *v == '*'))
			v++;
		if (v < end && *v == ':')
			return v + 1;
		if (end - v >= 3 && memcmp(v, "\xEF\xBC\x9A", 3) == 0)   /* '：' */
			return v + 3;
	}
	return NULL;
}

static const char *const mime_from_labels[] = {
	"From", "发件人", "發件人", "寄件者", "寄件人", NULL };
static const char *const mime_block_labels[] = {
	"Sent", "Date", "To", "Subject", "Cc", "发送时间", "發送時間", "时间", "時間", "日期",
	"寄件日期", "收件人", "收件者", "主题", "主題", "主旨", "抄送", "副本", NULL };

static const char *mime_line_end(const char *p)
{
	const char *e = strchr(p, '\n');
	return e != NULL ? e : p + strlen(p);
}

/* After a quoted "From:" line at line, the end of its header block (the
   start of the quoted body), or NULL when no other header line follows
   within a few lines. */
static const char *mime_quote_block_end(const char *line)
{
	const char *p = *mime_line_end(line) == '\n' ? mime_line_end(line) + 1 : NULL;
	bool found = false;
	for (unsigned n = 0; p != NULL && *p != '\0' && n < MIME_QUOTE_BLOCK_LINES; n++) {
		const char *e = mime_line_end(p);
		bool header = mime_label_value(p, e, mime_block_labels) != NULL;
		if (!header && found)
			return p;
		found |= header;
		if (!header && n > 0)
			return NULL;
		p = *e == '\n' ? e + 1 : e;
	}
	return found ? p : NULL;
}

/* Parses the value of a quoted From line: "name <addr>", "\"name\"<addr>;",
   "name [mailto:addr]", "addr", or only a name. */
static void mime_parse_quoted_sender(const char *v, const char *end, struct record_address *q)
{
	g_autofree char *s = g_strndup(v, (gsize)(end - v));
	char *mailto = strstr(s, "mailto:"), *lt = strchr(s, '<'), *cut = NULL, *addr = NULL;
	if (mailto != NULL) {
		addr = mailto + 7;
		cut = mailto > s && mailto[-1] == '[' ? mailto - 1 : mailto;
	} else if (lt != NULL) {
		addr = lt + 1;
		cut = lt;
	}
	if (addr != NULL) {
		addr[strcspn(addr, "]> \t;,")] = '\0';
		*cut = '\0';
		q->address = mime_clean_address(mime_bare_address(addr));
		g_strdelimit(s, ";", ' ');
		q->name = mime_decode_name(s);
		return;
	}
	g_strdelimit(s, ";,", ' ');
	q->address = mime_clean_address(mime_bare_address(s));
	if (q->address == NULL)
		q->name = mime_decode_name(s);
}

/* The first quoted header block in the text: its sender, where the block
   starts and where the quoted body starts. Returns false if none. */
static bool mime_find_quoted(const char *text, struct record_address *q, size_t *block_r,
			     size_t *body_r)
{
	for (const char *p = text; *p != '\0';) {
		const char *e = mime_line_end(p), *v = mime_label_value(p, e, mime_from_labels);
		const char *body = v != NULL ? mime_quote_block_end(p) : NULL;
		if (body != NULL) {
			mime_parse_quoted_sender(v, e, q);
			*block_r = (size_t)(p - text);
			*body_r = (size_t)(body - text);
			return q->address != NULL || q->name != NULL;
		}
		p = *e == '\n' ? e + 1 : e;
	}
	return false;
}

/* True when the subject starts with one of the prefixes (after tags such
   as "[外部邮件]" or "【外部】" and blanks), followed by ':' or '：'. */
static bool mime_subject_prefix(const char *subject, const char *const *prefixes)
{
	const char *p = subject != NULL ? subject : "";
	for (;;) {
		while (*p == ' ')
			p++;
		const char *close = *p == '[' ? strchr(p, ']') :
			g_str_has_prefix(p, "【") ? strstr(p, "】") : NULL;
		if (close == NULL)
			break;
		p = close + (*close == ']' ? 1 : strlen("】"));
	}
	const char *end = p + strlen(p);
	return mime_label_value(p, end, prefixes) != NULL;
}

/* True when text[0, n) says it forwards something ("forwarded", not the
   "forward" of "look forward to"). */
static bool mime_note_says_forward(const char *text, size_t n)
{
	static const char *const words[] = { "转发", "轉發", "轉寄", "转寄", NULL };
	g_autofree char *note = g_strndup(text, n);
	g_autofree char *lower = g_ascii_strdown(note, -1);
	if (strstr(lower, "forwarded") != NULL)
		return true;
	for (size_t i = 0; words[i] != NULL; i++)
		if (strstr(note, words[i]) != NULL)
			return true;
	return false;
}

/* Where the forwarder's note ends: before the quoted block and the
   separator line above it ("-----Original Message-----", "原始邮件"...). */
static size_t mime_note_end(const char *text, size_t block)
{
	static const char *const marks[] = { "----", "Original", "原始", "Forwarded", "转发的",
					     "轉寄", NULL };
	if (block == 0)
		return 0;
	size_t start = block - 1;   /* the '\n' ending the previous line */
	while (start > 0 && text[start - 1] != '\n')
		start--;
	g_autofree char *line = g_strndup(text + start, block - start);
	for (size_t i = 0; marks[i] != NULL; i++)
		if (strstr(line, marks[i]) != NULL)
			return start;
	return block;
}

/* An inline forward: a quoted header block whose sender is someone else,
   in a mail whose subject (Fw:, 转发：) or note says it is forwarded. A
   reply (Re:) quoting an earlier mail is not a forward. */
static void mime_find_inline_forward(struct mime_walk *w)
{
	static const char *const fw[] = { "fw", "fwd", "转发", "轉發", "转", "轉寄", "转寄", NULL };
	static const char *const re[] = { "re", "回复", "回覆", "答复", "答覆", NULL };
	struct record_address q = { NULL, NULL };
	size_t block = 0, body = 0;
	if (mime_find_quoted(w->text->str, &q, &block, &body) && mime_sender_is_other(w, &q)) {
		const char *subj = w->r->subject;
		bool is_fw = mime_subject_prefix(subj, fw) ||
			     (!mime_subject_prefix(subj, re) && mime_note_says_forward(w->text->str, block));
		if (is_fw) {
			mime_set_forward(w, &q);
			w->note_end = mime_note_end(w->text->str, block);
			w->fwd_start = body;
			w->fwd_end = w->text->len;
		}
	}
	g_free(q.address);
	g_free(q.name);
}

/* The complainant of a forward as the forwarded text names them: a
   labelled or signed name, the first phone, and an e-mail address when the
   quoted sender had none. */
static void mime_forward_complainant(struct mime_walk *w)
{
	struct record *r = w->r;
	struct extract_result *x = extract_result_new();
	extract_text_into(x, w->s->extract, w->text->str + w->fwd_start, w->fwd_end - w->fwd_start);
	if (x->names->len > 0) {
		g_free(r->complainant.name);
		r->complainant.name = g_strdup(((struct extract_value *)x->names->pdata[0])->value);
	}
	r->complainant_phone = g_strdup(record_complainant_phone(x->phones));
	for (guint i = 0; r->complainant.address == NULL && i < x->emails->len; i++) {
		const char *e = ((struct extract_value *)x->emails->pdata[i])->value;
		if (!mime_is_own_address(w->s, e) &&
		    (r->from.address == NULL || g_ascii_strcasecmp(e, r->from.address) != 0))
			r->complainant.address = g_strdup(e);
	}
	r->forward_note = g_strndup(w->text->str, w->note_end);
	extract_result_free(x);
}

/* ---------------------------------------------------------------- headers */

static char *mime_subject(GMimeObject *obj)
{
	const char *raw = mime_raw_header(obj, "Subject");
	if (raw == NULL)
		return g_strdup("");
	char *s = rfc2047_decode(raw, strlen(raw));
	return g_strstrip(s);
}

static char *mime_message_id(const char *raw)
{
	if (raw == NULL)
		return NULL;
	char *id = g_mime_utils_decode_message_id(raw);
	if (id != NULL && (*id == '\0' || !g_utf8_validate(id, -1, NULL)))
		g_clear_pointer(&id, g_free);
	return id;
}

static void mime_read_recipients(GMimeMessage *msg, struct record *r)
{
	InternetAddressList *to = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);
	for (int i = 0; to != NULL && i < internet_address_list_length(to); i++) {
		InternetAddress *ia = internet_address_list_get_address(to, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			if (addr != NULL && *addr != '\0' && g_utf8_validate(addr, -1, NULL))
				g_ptr_array_add(r->to, g_strdup(addr));
		}
	}
	const char *rt = mime_raw_header(GMIME_OBJECT(msg), "Reply-To");
	if (rt != NULL)
		r->reply_to = mime_clean_address(mime_gmime_address(rt));
}

static void mime_read_references(GMimeObject *obj, struct record *r)
{
	const char *raw = mime_raw_header(obj, "References");
	GMimeReferences *refs = raw != NULL ? g_mime_references_parse(NULL, raw) : NULL;
	for (int i = 0; refs != NULL && i < g_mime_references_length(refs); i++) {
		const char *id = g_mime_references_get_message_id(refs, i);
		if (id != NULL && g_utf8_validate(id, -1, NULL))
			g_ptr_array_add(r->references, g_strdup(id));
	}
	if (refs != NULL)
		g_mime_references_free(refs);
}

static void mime_read_headers(GMimeMessage *msg, struct record *r)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	mime_read_address(obj, "From", &r->from);
	r->subject = mime_subject(obj);
	r->message_id = mime_message_id(mime_raw_header(obj, "Message-ID"));
	r->in_reply_to = mime_message_id(mime_raw_header(obj, "In-Reply-To"));
	mime_read_references(obj, r);
	mime_read_recipients(msg, r);
	GDateTime *date = g_mime_message_get_date(msg);
	if (date != NULL) {
		r->date = g_date_time_to_unix(date);
		r->has_date = true;
	}
}

/* ---------------------------------------------------------------- classification */

static bool mime_header_is(GMimeObject *obj, const char *name, const char *const *values)
{
	const char *v = g_mime_object_get_header(obj, name);
	if (v == NULL)
		return false;
	if (values == NULL)
		return true;
	g_autofree char *t = g_strstrip(g_ascii_strdown(v, -1));
	for (size_t i = 0; values[i] != NULL; i++)
		if (g_str_has_prefix(t, values[i]))
			return true;
	return false;
}

/* The report-type of a message whose body is a multipart/report ("" when
   it has none), or NULL if it is not one. */
static const char *mime_report_type(GMimeMessage *msg)
{
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	GMimeContentType *ct = body != NULL ? g_mime_object_get_content_type(body) : NULL;
	if (ct == NULL || !g_mime_content_type_is_type(ct, "multipart", "report"))
		return NULL;
	const char *t = g_mime_content_type_get_parameter(ct, "report-type");
	return t != NULL ? t : "";
}

static bool mime_is_bounce(GMimeMessage *msg, const struct record *r)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	const char *rt = mime_report_type(msg);
	const char *rp = g_mime_object_get_header(obj, "Return-Path");
	g_autofree char *local = g_ascii_strdown(r->from.address != NULL ? r->from.address :
						 r->from.name != NULL ? r->from.name : "", -1);
	if (rt != NULL && g_ascii_strcasecmp(rt, "disposition-notification") != 0)
		return true;
	if (rp != NULL && strstr(rp, "<>") != NULL)
		return true;
	return g_str_has_prefix(local, "mailer-daemon") || g_str_has_prefix(local, "postmaster@") ||
	       mime_header_is(obj, "X-Failed-Recipients", NULL);
}

static bool mime_is_auto_reply(GMimeObject *obj, const struct record *r)
{
	static const char *const subjects[] = {
		"自动回复", "自動回覆", "自动答复", "auto:", "automatic reply", "autoreply",
		"auto-reply", "auto reply", "out of office", "out of the office", "休假", NULL };
	const char *as = g_mime_object_get_header(obj, "Auto-Submitted");
	g_autofree char *as_l = as != NULL ? g_strstrip(g_ascii_strdown(as, -1)) : NULL;
	if (as_l != NULL && strcmp(as_l, "no") != 0)
		return true;
	if (mime_header_is(obj, "X-Autoreply", NULL) || mime_header_is(obj, "X-Autorespond", NULL) ||
	    mime_header_is(obj, "Precedence", (const char *const[]){ "auto_reply", NULL }))
		return true;
	g_autofree char *subj = g_utf8_strdown(r->subject != NULL ? r->subject : "", -1);
	for (size_t i = 0; subjects[i] != NULL; i++)
		if (g_str_has_prefix(subj, subjects[i]))
			return true;
	return false;
}

static bool mime_is_list(GMimeObject *obj)
{
	return mime_header_is(obj, "List-Id", NULL) || mime_header_is(obj, "List-Unsubscribe", NULL) ||
	       mime_header_is(obj, "Precedence", (const char *const[]){ "bulk", "list", "junk", NULL });
}

static bool mime_is_own(const struct record *r, const char *const *own)
{
	for (size_t i = 0; own != NULL && r->from.address != NULL && own[i] != NULL; i++)
		if (g_ascii_strcasecmp(r->from.address, own[i]) == 0)
			return true;
	return false;
}

static const char *mime_classify(GMimeMessage *msg, const struct record *r, const char *const *own)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	const char *rt = mime_report_type(msg);
	if (mime_is_own(r, own))
		return "own_notice";
	if (mime_is_bounce(msg, r))
		return "bounce";
	if (rt != NULL)
		return "receipt";
	if (mime_is_auto_reply(obj, r))
		return "auto_reply";
	if (mime_is_list(obj))
		return "list";
	return NULL;
}

/* ---------------------------------------------------------------- the message */

/* The final body text: trailing blanks and blank lines removed. */
static char *mime_body_text(struct mime_walk *w)
{
	GString *t = w->text;
	while (t->len > 0 && g_ascii_isspace(t->str[t->len - 1]))
		t->len--;
	return g_strndup(t->str, t->len);
}

static void mime_extract(const struct mime_settings *s, struct record *r, GString *attach_text)
{
	const char *subj = r->subject != NULL ? r->subject : "";
	extract_text_into(r->extract, s->extract, subj, strlen(subj));
	extract_text_into(r->extract, s->extract, r->text, strlen(r->text));
	extract_text_into(r->extract, s->extract, attach_text->str, attach_text->len);
}

/* Input that GMime cannot read as a message is kept as text. */
static void mime_fallback_text(struct record *r, const char *data, size_t len)
{
	const char *used = NULL;
	bool detected = false;
	size_t out_len = 0;
	record_note(r, "not a MIME message: the whole input was read as text");
	r->subject = g_strdup("");
	g_autofree char *text = charset_to_utf8(NULL, data, len, &out_len, &used, &detected);
	GString *t = g_string_new(NULL);
	mime_append_text(t, text);
	r->text = g_string_free(t, FALSE);
	r->body_charset = g_strdup(used);
	r->body_charset_detected = detected;
}

/* A read-only stream over borrowed bytes: GMime's own memory stream copies
   what it is given, and the parser copies nothing more (it keeps offsets
   into a seekable stream), so a message is in memory once. The bytes must
   outlive the stream and every part parsed from it. */
static void mime_borrowed_free(gpointer arr, GObject *stream)
{
	(void)stream;
	g_byte_array_free(arr, FALSE);   /* the shell only: the bytes are borrowed */
}

static GMimeStream *mime_stream_borrow(const char *data, size_t len)
{
	GByteArray *arr = g_byte_array_new_take((guint8 *)(data != NULL ? data : ""), len);
	GMimeStream *st = g_mime_stream_mem_new_with_byte_array(arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	g_object_weak_ref(G_OBJECT(st), mime_borrowed_free, arr);
	return st;
}

static GMimeMessage *mime_construct_stream(GMimeStream *stream)
{
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	return g_mime_parser_construct_message(parser, NULL);
}

static GMimeMessage *mime_construct(const char *data, size_t len)
{
	g_autoptr(GMimeStream) stream = mime_stream_borrow(data, len);
	return mime_construct_stream(stream);
}

/* True when line [p, e) is a header field "Name:" (printable ASCII name,
   blanks allowed before the colon). */
static bool mime_is_field_line(const char *p, const char *e)
{
	const char *q = p;
	while (q < e && *q > ' ' && *q < 0x7f && *q != ':')
		q++;
	if (q == p)
		return false;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	return q < e && *q == ':';
}

/* Repairs the top header block. A line in it that is no header field and
   no continuation would be dropped by GMime (text lost): it is moved to the
   start of the body, and the headers after it are kept (mime4j starts the
   body there, losing them: From, Subject and Message-ID may follow). An
   encoded-word line without its leading blank (a broken fold) continues the
   header before it. Returns a repaired copy of the message (g_free) with its
   length in *len_r, or NULL when nothing needs repair (or the first line is
   no header: then GMime reads it all as body). Linear in len. */
static char *mime_repair_headers(const char *data, size_t len, size_t *len_r)
{
	GString *head = NULL, *moved = NULL;
	const char *p = data, *end = data + len, *copied = data, *nl = "\n";
	for (unsigned n = 0; p < end; n++) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		e = e != NULL ? e : end;
		const char *content_end = e > p && e[-1] == '\r' ? e - 1 : e;
		const char *next = e < end ? e + 1 : end;
		if (content_end == p)
			break;                               /* the blank line */
		bool ok = (n == 0 && (size_t)(end - p) >= 5 && memcmp(p, "From ", 5) == 0) ||
			  (n > 0 && (*p == ' ' || *p == '\t')) || mime_is_field_line(p, content_end);
		if (!ok && n == 0)
			return NULL;
		if (!ok) {
			if (head == NULL) {
				head = g_string_sized_new(len + 16);
				moved = g_string_new(NULL);
			}
			g_string_append_len(head, copied, p - copied);
			if (content_end - p >= 2 && p[0] == '=' && p[1] == '?') {
				g_string_append_c(head, ' ');          /* a broken fold */
				g_string_append_len(head, p, next - p);
			} else {
				g_string_append_len(moved, p, next - p);
			}
			nl = content_end < e ? "\r\n" : "\n";
			copied = next;
		}
		p = next;
	}
	if (head == NULL)
		return NULL;
	g_string_append_len(head, copied, p - copied);   /* the rest of the headers */
	if (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));   /* the blank line */
		p = e != NULL ? e + 1 : end;
	}
	g_string_append(head, nl);
	if (moved->len > 0 && moved->str[moved->len - 1] != '\n')
		g_string_append(moved, nl);
	g_string_append_len(head, moved->str, moved->len);
	g_string_append_len(head, p, end - p);
	g_string_free(moved, TRUE);
	*len_r = head->len;
	return g_string_free(head, FALSE);
}

/* GMime builds every part of a message before we walk it: 300,000 empty
   parts in 3 MB took 400 MB. So the bytes given to it end before the
   (4 * max_parts)-th line that starts with "--" (a boundary, or a text line
   such as a signature separator): the walk would not read beyond
   max_parts parts anyway. Returns the length to parse. */
static size_t mime_bounded_length_stream(GMimeStream *st, unsigned max_parts)
{
	size_t lines = 0, limit = (size_t)max_parts * 4, off = 0;
	char buf[MIME_CHUNK];
	int dashes = 0;   /* '-' seen at the start of the current line; -1: not at a start */
	g_mime_stream_reset(st);
	for (;;) {
		ssize_t n = g_mime_stream_read(st, buf, sizeof buf);
		if (n <= 0)
			break;
		for (size_t i = 0; i < (size_t)n;) {
			if (dashes < 0) {
				const char *nl = memchr(buf + i, '\n', (size_t)n - i);
				if (nl == NULL)
					break;
				i = (size_t)(nl - buf) + 1;
				dashes = 0;
			} else if (buf[i] != '-') {
				dashes = -1;
			} else if (i++, ++dashes == 2) {
				if (++lines > limit) {
					g_mime_stream_reset(st);
					return off + i - 2;
				}
				dashes = -1;
			}
		}
		off += (size_t)n;
	}
	g_mime_stream_reset(st);
	return off;
}

static size_t mime_bounded_length(const char *data, size_t len, unsigned max_parts)
{
	g_autoptr(GMimeStream) st = mime_stream_borrow(data, len);
	return mime_bounded_length_stream(st, max_parts);
}

/* Where the header block of data [0, len) ends, searching from `from`: the
   position after its blank line, or 0 when none is there. */
static size_t mime_blank_line_end(const char *data, size_t from, size_t len)
{
	for (size_t i = from; i + 1 < len; i++) {
		if (data[i] != '\n')
			continue;
		if (data[i + 1] == '\n')
			return i + 2;
		if (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The header block of a stream, through its blank line (the whole stream
   when it has none), at most MIME_HEAD_MAX bytes: *cut_r tells that it was
   longer. */
static GByteArray *mime_read_head(GMimeStream *st, bool *cut_r)
{
	GByteArray *head = g_byte_array_new();
	char buf[MIME_CHUNK];
	*cut_r = false;
	g_mime_stream_reset(st);
	for (;;) {
		ssize_t n = g_mime_stream_read(st, buf, sizeof buf);
		if (n <= 0)
			break;
		size_t from = head->len > 2 ? head->len - 2 : 0;
		g_byte_array_append(head, (const guint8 *)buf, (guint)n);
		size_t end = mime_blank_line_end((const char *)head->data, from, head->len);
		if (end > 0) {
			g_byte_array_set_size(head, (guint)end);
			break;
		}
		if (head->len >= MIME_HEAD_MAX) {
			g_byte_array_set_size(head, MIME_HEAD_MAX);
			*cut_r = true;
			break;
		}
	}
	g_mime_stream_reset(st);
	return head;
}

/* The stream's bytes from `from` on, appended to dst (at most max). */
static void mime_read_rest(GMimeStream *st, size_t from, GByteArray *dst, uint64_t max)
{
	char buf[MIME_CHUNK];
	g_mime_stream_seek(st, (gint64)from, GMIME_STREAM_SEEK_SET);
	while (dst->len < max) {
		ssize_t n = g_mime_stream_read(st, buf, sizeof buf);
		if (n <= 0)
			break;
		g_byte_array_append(dst, (const guint8 *)buf, (guint)MIN((uint64_t)n, max - dst->len));
	}
	g_mime_stream_reset(st);
}

/* True when the first line of data is a header field (or an mbox "From "). */
static bool mime_starts_with_field(const char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);
	const char *e = nl != NULL ? nl : data + len;
	return (len >= 5 && memcmp(data, "From ", 5) == 0) || mime_is_field_line(data, e);
}

static void mime_walk_message(const struct mime_settings *s, struct record *r, GMimeMessage *msg,
			      bool walk_body, bool crlf)
{
	struct mime_walk w = {
		.s = s, .r = r, .crlf = crlf,
		.text = g_string_new(NULL), .attach_text = g_string_new(NULL),
		.max_depth = s->max_depth ? s->max_depth : MIME_DEFAULT_MAX_DEPTH,
		.max_parts = s->max_parts ? s->max_parts : MIME_DEFAULT_MAX_PARTS,
	};
	mime_read_headers(msg, r);
	r->complainant.address = g_strdup(r->from.address);
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	if (walk_body && body != NULL)
		mime_walk_object(&w, body, 1, MIME_TEXT);
	const char *kind = mime_classify(msg, r, s->own_addresses);
	r->auto_submitted = g_strdup(kind);
	if (!w.forwarded && kind == NULL)
		mime_find_inline_forward(&w);
	if (w.forwarded)
		mime_forward_complainant(&w);
	r->text = mime_body_text(&w);
	mime_extract(s, r, w.attach_text);
	g_string_free(w.text, TRUE);
	g_string_free(w.attach_text, TRUE);
}

/* The message to parse when its header block needed repair: the repaired
   headers and the rest, in memory (only broken header blocks take this). */
static GByteArray *mime_repaired(GMimeStream *st, const GByteArray *head, const char *fixed,
				 size_t fixed_len, bool whole, uint64_t max)
{
	GByteArray *all = g_byte_array_sized_new((guint)fixed_len);
	g_byte_array_append(all, (const guint8 *)fixed, (guint)fixed_len);
	if (whole)
		mime_read_rest(st, head->len, all, max + fixed_len);
	return all;
}

static void mime_parse_fallback(const struct mime_settings *s, struct record *r, GMimeStream *st,
				bool whole, uint64_t max)
{
	g_autoptr(GByteArray) all = g_byte_array_new();
	if (whole)
		mime_read_rest(st, 0, all, max);
	mime_fallback_text(r, all->len > 0 ? (const char *)all->data : "", all->len);
	const char *text = r->text;
	extract_text_into(r->extract, s->extract, text, strlen(text));
}

static struct record *mime_parse_stream(const struct mime_settings *s, GMimeStream *st)
{
	struct record *r = record_new("email");
	uint64_t max = s->max_bytes ? s->max_bytes : MIME_DEFAULT_MAX_BYTES;
	gint64 slen = g_mime_stream_length(st);
	uint64_t len = slen > 0 ? (uint64_t)slen : 0;
	bool whole = len <= max, cut = false;
	if (!whole)
		record_note(r, "message of %" G_GUINT64_FORMAT " bytes is over the limit of %"
			    G_GUINT64_FORMAT " bytes: only its headers were read (the original is kept "
			    "whole)", (guint64)len, (guint64)max);
	mime_init();
	g_autoptr(GByteArray) head = mime_read_head(st, &cut);
	const char *hd = head->len > 0 ? (const char *)head->data : "";
	if (cut && mime_starts_with_field(hd, head->len)) {
		record_note(r, "the header block is over %u bytes: only the headers in its first %u "
			    "bytes were read (the original is kept whole)", MIME_HEAD_MAX, MIME_HEAD_MAX);
		whole = false;
	}
	const char *nl = memchr(hd, '\n', head->len);
	bool crlf = nl != NULL && nl > hd && nl[-1] == '\r';
	size_t fixed_len = 0;
	g_autofree char *fixed = mime_repair_headers(hd, head->len, &fixed_len);
	g_autoptr(GByteArray) repaired = fixed != NULL ?
		mime_repaired(st, head, fixed, fixed_len, whole, max) : NULL;
	g_autoptr(GMimeStream) src = repaired != NULL ?
		mime_stream_borrow((const char *)repaired->data, repaired->len) : g_object_ref(st);
	unsigned max_parts = s->max_parts ? s->max_parts : MIME_DEFAULT_MAX_PARTS;
	uint64_t src_len = repaired != NULL ? repaired->len : len;
	uint64_t parse_len = whole ? mime_bounded_length_stream(src, max_parts) :
			     repaired != NULL ? fixed_len : head->len;
	if (whole && parse_len < src_len)
		record_note(r, "more than %u boundary lines: only the first %" G_GUINT64_FORMAT
			    " bytes were parsed (the original is kept whole)", max_parts * 4,
			    (guint64)parse_len);
	g_autoptr(GMimeStream) sub = g_mime_stream_substream(src, 0, (gint64)parse_len);
	GMimeMessage *msg = mime_construct_stream(sub);
	if (msg == NULL) {
		mime_parse_fallback(s, r, src, whole, max);
	} else {
		mime_walk_message(s, r, msg, whole, crlf);
		g_object_unref(msg);
	}
	record_resolve(r, s->regulator_domains, s->regulator_phrases);
	return r;
}

struct record *mime_parse(const struct mime_settings *s, const char *data, size_t len)
{
	g_autoptr(GMimeStream) st = mime_stream_borrow(data, len);
	return mime_parse_stream(s, st);
}

struct record *mime_parse_fd(const struct mime_settings *s, int fd)
{
	g_autoptr(GMimeStream) st = g_mime_stream_fs_new(fd);
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(st), FALSE);
	return mime_parse_stream(s, st);
}
