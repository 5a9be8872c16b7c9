/* E-mail to record with GMime; see mime.h.
   SECURITY: every byte here comes from the Internet. The walk is bounded in
   depth and part count; over a limit the message is still recorded with a
   note. Header text is decoded by rfc2047_decode and bodies converted by
   charset_to_utf8, both of which always return valid UTF-8. Attachment names
   are reduced to a base name without control characters. */
#include "parsers/mime.h"

#include <string.h>

#include "parsers/charset.h"
#include "parsers/html.h"
#include "parsers/rfc2047.h"

#define MIME_DEFAULT_MAX_BYTES (50u << 20)
#define MIME_DEFAULT_MAX_DEPTH 20
#define MIME_DEFAULT_MAX_PARTS 500

/* State of one walk over a message tree. */
struct mime_walk {
	const struct mime_settings *s;
	struct record *r;
	GString *plain;        /* inline text/plain of the outer message */
	GString *html;         /* inline text/html, used when there is no plain */
	GString *attach_text;  /* text of text attachments, for extraction */
	unsigned parts;
	unsigned max_depth, max_parts;
	bool depth_noted, parts_noted;
};

void mime_init(void)
{
	static gsize done = 0;
	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

static int mime_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

GBytes *mime_base64_decode(const char *in, size_t len)
{
	GByteArray *out = g_byte_array_sized_new((guint)(len / 4 * 3 + 3));
	guint32 acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '=') {   /* padding ends a quantum; another may follow */
			acc = 0;
			bits = 0;
			continue;
		}
		int v = mime_b64_value((unsigned char)in[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (guint32)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			guint8 b = (guint8)(acc >> bits);
			g_byte_array_append(out, &b, 1);
			acc &= (1u << bits) - 1;
		}
	}
	return g_byte_array_free_to_bytes(out);
}

/* The raw value of a header of obj, or NULL. */
static const char *mime_raw_header(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	GMimeHeader *h = list != NULL ? g_mime_header_list_get_header(list, name) : NULL;
	return h != NULL ? g_mime_header_get_raw_value(h) : NULL;
}

/* The decoded bytes of a leaf part (transfer encoding undone). */
static GBytes *mime_part_bytes(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	if (w == NULL)
		return g_bytes_new(NULL, 0);
	GMimeStream *mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_get_encoding(w) == GMIME_CONTENT_ENCODING_BASE64) {
		/* Our own decoder: GMime 3.2.13 mis-decodes separately padded chunks. */
		g_mime_stream_write_to_stream(g_mime_data_wrapper_get_stream(w), mem);
		g_mime_stream_reset(g_mime_data_wrapper_get_stream(w));
		GByteArray *raw = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		GBytes *b = mime_base64_decode((const char *)raw->data, raw->len);
		g_object_unref(mem);
		return b;
	}
	g_mime_data_wrapper_write_to_stream(w, mem);
	GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	GBytes *b = g_bytes_new(arr->data, arr->len);
	g_object_unref(mem);
	return b;
}

/* Converts a text part to UTF-8 and notes the charset used. */
static char *mime_part_text(struct mime_walk *w, GMimePart *part, GBytes *bytes, bool is_body)
{
	const char *declared = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	const char *used = NULL;
	bool detected = false;
	size_t n = 0, out_len = 0;
	const char *data = g_bytes_get_data(bytes, &n);
	char *text = charset_to_utf8(declared, data != NULL ? data : "", n, &out_len, &used, &detected);
	if (is_body && w->r->body_charset == NULL) {
		w->r->body_charset = g_strdup(used);
		w->r->body_charset_detected = detected;
	}
	return text;
}

/* A filename as given: RFC 2231 decoded by GMime; RFC 2047 words decoded by us. */
static char *mime_filename_raw(GMimePart *part)
{
	const char *name = g_mime_part_get_filename(part);
	if (name == NULL)
		return NULL;
	if (strstr(name, "=?") == NULL && g_utf8_validate(name, -1, NULL))
		return g_strdup(name);
	return rfc2047_decode(name, strlen(name));
}

/* No path parts, no control characters, never empty. */
static char *mime_sanitize_filename(const char *name, unsigned index)
{
	const char *base = name != NULL ? name : "";
	for (const char *p = base; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	GString *out = g_string_new(NULL);
	for (const char *p = base; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0))
			g_string_append_unichar(out, c);
	}
	while (out->len > 0 && (out->str[0] == '.' || out->str[0] == ' '))
		g_string_erase(out, 0, 1);
	if (out->len == 0)
		g_string_printf(out, "attachment-%u", index);
	return g_string_free(out, FALSE);
}

static bool mime_is_attachment(GMimePart *part)
{
	const char *disp = g_mime_object_get_disposition(GMIME_OBJECT(part));
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	if (disp != NULL && g_ascii_strcasecmp(disp, "attachment") == 0)
		return true;
	if (g_mime_part_get_filename(part) != NULL)
		return true;
	return !g_mime_content_type_is_type(ct, "text", "plain") &&
	       !g_mime_content_type_is_type(ct, "text", "html");
}

static void mime_add_attachment(struct mime_walk *w, GMimePart *part, GBytes *bytes)
{
	struct record_attachment *a = g_new0(struct record_attachment, 1);
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	g_autofree char *raw = mime_filename_raw(part);
	size_t n = 0;
	const char *data = g_bytes_get_data(bytes, &n);
	a->filename = mime_sanitize_filename(raw, w->r->attachments->len + 1);
	a->declared_type = g_ascii_strdown(g_mime_content_type_get_mime_type(ct), -1);
	a->detected_type = sniff_buffer(w->s->sniff, data, n);
	a->size = n;
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(sum, (const guchar *)(data != NULL ? data : ""), (gssize)n);
	g_strlcpy(a->sha256, g_checksum_get_string(sum), sizeof a->sha256);
	g_checksum_free(sum);
	a->risky = sniff_is_risky(a->detected_type, a->filename);
	a->content = g_bytes_ref(bytes);
	g_ptr_array_add(w->r->attachments, a);
}

/* Text attachments (plain, HTML) feed the extraction. */
static void mime_attachment_text(struct mime_walk *w, GMimePart *part, GBytes *bytes)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	bool plain = g_mime_content_type_is_type(ct, "text", "plain");
	if (!plain && !g_mime_content_type_is_type(ct, "text", "html"))
		return;
	g_autofree char *text = mime_part_text(w, part, bytes, false);
	if (plain) {
		g_string_append(w->attach_text, text);
	} else {
		g_autofree char *t = html_to_text(text, strlen(text));
		g_string_append(w->attach_text, t);
	}
	g_string_append_c(w->attach_text, '\n');
}

static void mime_walk_part(struct mime_walk *w, GMimePart *part)
{
	GBytes *bytes = mime_part_bytes(part);
	if (mime_is_attachment(part)) {
		mime_add_attachment(w, part, bytes);
		mime_attachment_text(w, part, bytes);
	} else {
		GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
		bool html = g_mime_content_type_is_type(ct, "text", "html");
		g_autofree char *text = mime_part_text(w, part, bytes, true);
		GString *dst = html ? w->html : w->plain;
		if (dst->len > 0)
			g_string_append_c(dst, '\n');
		g_string_append(dst, text);
	}
	g_bytes_unref(bytes);
}

static void mime_walk_object(struct mime_walk *w, GMimeObject *obj, unsigned depth);

/* multipart/alternative: the plain version if it has text, else the HTML. */
static GMimeObject *mime_pick_alternative(GMimeMultipart *mp)
{
	GMimeObject *html = NULL, *other = NULL;
	int n = g_mime_multipart_get_count(mp);
	for (int i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);
		GMimeContentType *ct = g_mime_object_get_content_type(c);
		if (g_mime_content_type_is_type(ct, "text", "plain"))
			return c;
		if (g_mime_content_type_is_type(ct, "text", "html"))
			html = c;
		else if (other == NULL)
			other = c;
	}
	return html != NULL ? html : other;
}

static void mime_walk_multipart(struct mime_walk *w, GMimeMultipart *mp, unsigned depth)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
	if (g_mime_content_type_is_type(ct, "multipart", "alternative")) {
		GMimeObject *pick = mime_pick_alternative(mp);
		if (pick != NULL)
			mime_walk_object(w, pick, depth + 1);
		return;
	}
	int n = g_mime_multipart_get_count(mp);
	for (int i = 0; i < n; i++)
		mime_walk_object(w, g_mime_multipart_get_part(mp, i), depth + 1);
}

static void mime_walk_forward(struct mime_walk *w, GMimeMessagePart *mp, unsigned depth);

static void mime_walk_object(struct mime_walk *w, GMimeObject *obj, unsigned depth)
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
		mime_walk_multipart(w, GMIME_MULTIPART(obj), depth);
	else if (GMIME_IS_MESSAGE_PART(obj))
		mime_walk_forward(w, GMIME_MESSAGE_PART(obj), depth);
	else if (GMIME_IS_PART(obj))
		mime_walk_part(w, GMIME_PART(obj));
}

/* The display name of the first mailbox in a raw address header: the text
   before '<', unquoted and RFC 2047 decoded by us. NULL when there is none. */
static char *mime_display_name(const char *raw)
{
	const char *lt = NULL;
	bool quoted = false;
	for (const char *p = raw; *p != '\0' && lt == NULL; p++) {
		if (*p == '"' && (p == raw || p[-1] != '\\'))
			quoted = !quoted;
		else if (*p == '<' && !quoted)
			lt = p;
	}
	if (lt == NULL)
		return NULL;
	g_autofree char *part = g_strndup(raw, (gsize)(lt - raw));
	GString *s = g_string_new(NULL);
	for (const char *p = g_strstrip(part); *p != '\0'; p++) {
		if (*p == '"')
			continue;
		if (*p == '\\' && p[1] != '\0')
			p++;
		g_string_append_c(s, *p);
	}
	char *name = rfc2047_decode(s->str, s->len);
	g_string_free(s, TRUE);
	g_strstrip(name);
	if (*name == '\0')
		g_clear_pointer(&name, g_free);
	return name;
}

/* The first mailbox address of a raw address header, lower-cased domain. */
static char *mime_first_address(const char *raw)
{
	InternetAddressList *list = internet_address_list_parse(NULL, raw);
	char *addr = NULL;
	for (int i = 0; list != NULL && i < internet_address_list_length(list) && !addr; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			addr = g_strdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
	}
	if (list != NULL)
		g_object_unref(list);
	if (addr != NULL && (*addr == '\0' || !g_utf8_validate(addr, -1, NULL)))
		g_clear_pointer(&addr, g_free);
	char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	for (char *p = at; p != NULL && *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	return addr;
}

static void mime_read_address(GMimeObject *obj, const char *header, struct record_address *a)
{
	const char *raw = mime_raw_header(obj, header);
	if (raw == NULL)
		return;
	a->address = mime_first_address(raw);
	a->name = mime_display_name(raw);
}

static void mime_walk_forward(struct mime_walk *w, GMimeMessagePart *mp, unsigned depth)
{
	GMimeMessage *inner = g_mime_message_part_get_message(mp);
	if (inner == NULL)
		return;
	if (w->r->forwarded_by == NULL) {
		struct record_address *fwd = g_new0(struct record_address, 1);
		fwd->address = g_strdup(w->r->from.address);
		fwd->name = g_strdup(w->r->from.name);
		w->r->forwarded_by = fwd;
		g_clear_pointer(&w->r->complainant.address, g_free);
		g_clear_pointer(&w->r->complainant.name, g_free);
		mime_read_address(GMIME_OBJECT(inner), "From", &w->r->complainant);
	}
	GMimeObject *body = g_mime_message_get_mime_part(inner);
	if (body != NULL)
		mime_walk_object(w, body, depth + 1);
}

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
			if (addr != NULL && g_utf8_validate(addr, -1, NULL))
				g_ptr_array_add(r->to, g_strdup(addr));
		}
	}
	const char *rt = mime_raw_header(GMIME_OBJECT(msg), "Reply-To");
	if (rt != NULL)
		r->reply_to = mime_first_address(rt);
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

static bool mime_is_bounce(GMimeObject *obj, const struct record *r)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *rp = g_mime_object_get_header(obj, "Return-Path");
	g_autofree char *local = r->from.address != NULL ?
		g_ascii_strdown(r->from.address, -1) : g_strdup("");
	if (ct != NULL && g_mime_content_type_is_type(ct, "multipart", "report"))
		return true;
	if (rp != NULL && strstr(rp, "<>") != NULL)
		return true;
	return g_str_has_prefix(local, "mailer-daemon@") || g_str_has_prefix(local, "postmaster@") ||
	       mime_header_is(obj, "X-Failed-Recipients", NULL);
}

static bool mime_is_auto_reply(GMimeObject *obj, const struct record *r)
{
	static const char *const subjects[] = {
		"自动回复", "自動回覆", "auto:", "automatic reply", "autoreply", "auto-reply",
		"auto reply", "out of office", "out of the office", "休假", NULL };
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
	if (mime_is_own(r, own))
		return "own_notice";
	if (mime_is_bounce(obj, r))
		return "bounce";
	if (mime_is_auto_reply(obj, r))
		return "auto_reply";
	if (mime_is_list(obj))
		return "list";
	return NULL;
}

/* The final body text: plain if any, else the HTML converted. */
static char *mime_body_text(struct mime_walk *w)
{
	if (w->plain->len > 0 || w->html->len == 0)
		return g_strdup(w->plain->str);
	return html_to_text(w->html->str, w->html->len);
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
	r->text = charset_to_utf8(NULL, data, len, &out_len, &used, &detected);
	r->body_charset = g_strdup(used);
	r->body_charset_detected = detected;
}

static GMimeMessage *mime_construct(const char *data, size_t len)
{
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(data, len);
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	return g_mime_parser_construct_message(parser, NULL);
}

/* Only the header block of an over-size message is parsed. */
static size_t mime_header_length(const char *data, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (data[i] == '\n' && data[i + 1] == '\n')
			return i + 2;
		if (data[i] == '\n' && data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

static void mime_walk_message(const struct mime_settings *s, struct record *r, GMimeMessage *msg,
			      bool walk_body)
{
	struct mime_walk w = {
		.s = s, .r = r,
		.plain = g_string_new(NULL), .html = g_string_new(NULL),
		.attach_text = g_string_new(NULL),
		.max_depth = s->max_depth ? s->max_depth : MIME_DEFAULT_MAX_DEPTH,
		.max_parts = s->max_parts ? s->max_parts : MIME_DEFAULT_MAX_PARTS,
	};
	mime_read_headers(msg, r);
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	if (walk_body && body != NULL)
		mime_walk_object(&w, body, 1);
	r->text = mime_body_text(&w);
	mime_extract(s, r, w.attach_text);
	const char *kind = mime_classify(msg, r, s->own_addresses);
	r->auto_submitted = g_strdup(kind);
	g_string_free(w.plain, TRUE);
	g_string_free(w.html, TRUE);
	g_string_free(w.attach_text, TRUE);
}

struct record *mime_parse(const struct mime_settings *s, const char *data, size_t len)
{
	struct record *r = record_new("email");
	uint64_t max = s->max_bytes ? s->max_bytes : MIME_DEFAULT_MAX_BYTES;
	bool whole = len <= max;
	if (!whole)
		record_note(r, "message of %zu bytes is over the limit of %" G_GUINT64_FORMAT
			    " bytes: only its headers were read (the original is kept whole)",
			    len, (guint64)max);
	mime_init();
	GMimeMessage *msg = mime_construct(data, whole ? len : mime_header_length(data, len));
	if (msg == NULL) {
		mime_fallback_text(r, data, whole ? len : 0);
		const char *text = r->text;
		extract_text_into(r->extract, s->extract, text, strlen(text));
	} else {
		mime_walk_message(s, r, msg, whole);
		g_object_unref(msg);
	}
	record_resolve(r, NULL, NULL);
	return r;
}
