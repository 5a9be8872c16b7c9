/* Building a notice as RFC 5322 mail with GMime; see notify.h.
   SECURITY: subject text may carry complainant words; every header value is
   stripped of control characters before GMime encodes it, and addresses and
   Message-IDs are used only when they have a strict shape. */
#include "notify/notify.h"

#include <string.h>

#include "parsers/mime.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeFormatOptions, g_mime_format_options_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeTextPart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InternetAddressList, g_object_unref)

char *notify_message_id(const char *from_address)
{
	const char *at = from_address != NULL ? strrchr(from_address, '@') : NULL;
	const char *domain = at != NULL && notify_address_valid(from_address) ? at + 1 : "localhost";
	return g_strdup_printf("<intake.%" G_GINT64_FORMAT ".%08x%08x@%s>",
			       (gint64)(g_get_real_time() / G_USEC_PER_SEC), g_random_int(),
			       g_random_int(), domain);
}

char *notify_from_address(const char *from)
{
	const char *lt = from != NULL ? strrchr(from, '<') : NULL;
	g_autofree char *addr = g_strdup(lt != NULL ? lt + 1 : from != NULL ? from : "");
	g_strdelimit(addr, ">", '\0');
	return g_strdup(g_strstrip(addr));
}

char *notify_clean_message_id(const char *id)
{
	if (id == NULL)
		return NULL;
	size_t len = strlen(id);
	if (len >= 2 && id[0] == '<' && id[len - 1] == '>') {
		id++;
		len -= 2;
	}
	if (len == 0 || len > 250)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return NULL;
	}
	return g_strdup_printf("<%.*s>", (int)len, id);
}

char *notify_header_text(const char *text)
{
	char *s = g_strdup(text != NULL ? text : "");
	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return g_strstrip(s);
}

/* The body with CRLF line ends (the canonical form of text, RFC 2046). */
static char *notify_crlf(const char *body)
{
	GString *s = g_string_sized_new(strlen(body) + 64);
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			g_string_append_c(s, '\r');
		g_string_append_c(s, *p);
	}
	return g_string_free(s, FALSE);
}

static int notify_set_from(GMimeMessage *msg, const char *from, GError **error)
{
	g_autofree char *clean = notify_header_text(from);
	g_autoptr(InternetAddressList) list = internet_address_list_parse(NULL, clean);
	InternetAddress *ia = list != NULL && internet_address_list_length(list) == 1 ?
		internet_address_list_get_address(list, 0) : NULL;
	if (ia == NULL || !INTERNET_ADDRESS_IS_MAILBOX(ia) ||
	    !notify_address_valid(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_MESSAGE,
			    "[smtp] from \"%s\": expected one sender such as 客户服务中心 "
			    "<ts@example.cn>", clean);
		return -1;
	}
	internet_address_set_charset(ia, "utf-8");
	internet_address_list_add(g_mime_message_get_from(msg), ia);
	return 0;
}

static void notify_set_ids(GMimeMessage *msg, const struct notify_mail *m)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	g_autofree char *own = notify_clean_message_id(m->message_id);
	g_autofree char *parent = notify_clean_message_id(m->in_reply_to);
	if (own != NULL) {
		g_autofree char *bare = g_strndup(own + 1, strlen(own) - 2);
		g_mime_message_set_message_id(msg, bare);
	}
	if (parent != NULL) {
		g_mime_object_set_header(obj, "In-Reply-To", parent, NULL);
		g_mime_object_set_header(obj, "References", parent, NULL);
	}
	/* RFC 3834: an automatic response; the second one asks Exchange to send
	   no out-of-office answer to it. */
	g_mime_object_set_header(obj, "Auto-Submitted", "auto-replied", NULL);
	g_mime_object_set_header(obj, "X-Auto-Response-Suppress", "All", NULL);
}

static void notify_set_body(GMimeMessage *msg, const char *body)
{
	g_autoptr(GMimeTextPart) part = g_mime_text_part_new_with_subtype("plain");
	g_autofree char *crlf = notify_crlf(body != NULL ? body : "");
	g_mime_text_part_set_text(part, crlf);
	g_mime_text_part_set_charset(part, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_BASE64);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
}

static GBytes *notify_serialize(GMimeMessage *msg)
{
	g_autoptr(GMimeFormatOptions) opts = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
	GByteArray *buf = g_byte_array_new();
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_byte_array(buf);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), opts, stream);
	g_mime_stream_flush(stream);
	return g_byte_array_free_to_bytes(buf);
}

GBytes *notify_message_build(const struct notify_mail *m, GError **error)
{
	mime_init();
	if (!notify_address_valid(m->to)) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_MESSAGE,
			    "recipient \"%s\" is not a plain e-mail address", m->to ? m->to : "");
		return NULL;
	}
	g_autoptr(GMimeMessage) msg = g_mime_message_new(TRUE);
	if (notify_set_from(msg, m->from, error) < 0)
		return NULL;
	InternetAddress *to = internet_address_mailbox_new(NULL, m->to);
	internet_address_list_add(g_mime_message_get_to(msg), to);
	g_object_unref(to);
	g_autofree char *subject = notify_header_text(m->subject);
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(m->date);
	g_autoptr(GDateTime) date = utc == NULL ? NULL : m->tz != NULL ?
		g_date_time_to_timezone(utc, m->tz) : g_date_time_to_local(utc);
	if (date != NULL)
		g_mime_message_set_date(msg, date);
	notify_set_ids(msg, m);
	notify_set_body(msg, m->body);
	return notify_serialize(msg);
}
