/* The parsed record: ownership, JSON form and complainant resolution. */
#include "parsers/record.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"

static void record_attachment_free(gpointer p)
{
	struct record_attachment *a = p;
	g_free(a->filename);
	g_free(a->declared_type);
	g_free(a->detected_type);
	if (a->content != NULL)
		g_bytes_unref(a->content);
	if (a->fd >= 0)
		close(a->fd);
	g_free(a->text);
	g_free(a);
}

struct record *record_new(const char *channel)
{
	struct record *r = g_new0(struct record, 1);
	r->channel = g_strdup(channel);
	r->to = g_ptr_array_new_with_free_func(g_free);
	r->references = g_ptr_array_new_with_free_func(g_free);
	r->attachments = g_ptr_array_new_with_free_func(record_attachment_free);
	r->notes = g_ptr_array_new_with_free_func(g_free);
	r->extract = extract_result_new();
	return r;
}

static void record_address_clear(struct record_address *a)
{
	g_clear_pointer(&a->address, g_free);
	g_clear_pointer(&a->name, g_free);
}

void record_free(struct record *r)
{
	if (r == NULL)
		return;
	g_free(r->channel);
	record_address_clear(&r->from);
	record_address_clear(&r->complainant);
	if (r->forwarded_by != NULL) {
		record_address_clear(r->forwarded_by);
		g_free(r->forwarded_by);
	}
	g_free(r->reply_to);
	g_free(r->subject);
	g_free(r->message_id);
	g_free(r->in_reply_to);
	g_free(r->text);
	g_free(r->body_charset);
	g_free(r->complainant_phone);
	g_free(r->forward_note);
	g_free(r->reference);
	g_free(r->auto_submitted);
	g_ptr_array_unref(r->to);
	g_ptr_array_unref(r->references);
	g_ptr_array_unref(r->attachments);
	g_ptr_array_unref(r->notes);
	extract_result_free(r->extract);
	if (r->ocr != NULL) {
		g_free(r->ocr->engine);
		g_free(r->ocr->language);
		g_free(r->ocr->detected_type);
		g_free(r->ocr);
	}
	g_free(r->notice_by);
	g_free(r);
}

void record_note(struct record *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_ptr_array_add(r->notes, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

static void record_json_address(struct json *j, const char *key, const struct record_address *a)
{
	json_key(j, key);
	if (a == NULL) {
		json_null(j);
		return;
	}
	json_begin_object(j);
	json_kv_string(j, "address", a->address != NULL ? a->address : "");
	json_kv_string(j, "name", a->name != NULL ? a->name : "");
	json_end_object(j);
}

static void record_json_strings(struct json *j, const char *key, GPtrArray *list)
{
	json_key(j, key);
	json_begin_array(j);
	for (guint i = 0; i < list->len; i++)
		json_string(j, list->pdata[i]);
	json_end_array(j);
}

/* A list of extract values as plain strings. */
static void record_json_values(struct json *j, const char *key, GPtrArray *list)
{
	json_key(j, key);
	json_begin_array(j);
	for (guint i = 0; i < list->len; i++)
		json_string(j, ((struct extract_value *)list->pdata[i])->value);
	json_end_array(j);
}

static void record_json_accounts(struct json *j, GPtrArray *list)
{
	json_key(j, "accounts");
	json_begin_array(j);
	for (guint i = 0; i < list->len; i++) {
		const struct extract_value *v = list->pdata[i];
		json_begin_object(j);
		json_kv_string(j, "value", v->value);
		json_kv_string(j, "context", v->context);
		json_kv_bool(j, "in_registry", false);
		json_end_object(j);
	}
	json_end_array(j);
}

static void record_json_attachments(struct json *j, GPtrArray *list)
{
	json_key(j, "attachments");
	json_begin_array(j);
	for (guint i = 0; i < list->len; i++) {
		const struct record_attachment *a = list->pdata[i];
		json_begin_object(j);
		json_kv_string(j, "filename", a->filename);
		json_kv_string(j, "declared_type", a->declared_type);
		json_kv_string(j, "detected_type", a->detected_type);
		json_kv_int(j, "size", (int64_t)a->size);
		json_kv_string(j, "sha256", a->sha256);
		json_kv_bool(j, "risky", a->risky);
		json_kv_string(j, "text", a->text);
		json_end_object(j);
	}
	json_end_array(j);
}

static void record_json_ocr(struct json *j, const struct record_ocr *o)
{
	json_key(j, "ocr");
	if (o == NULL) {
		json_null(j);
		return;
	}
	json_begin_object(j);
	json_kv_string(j, "engine", o->engine);
	json_kv_int(j, "pages", o->pages);
	json_kv_string(j, "language", o->language);
	json_kv_string(j, "detected_type", o->detected_type);
	json_end_object(j);
}

static void record_json_complainant(struct json *j, const struct record *r)
{
	json_key(j, "complainant");
	json_begin_object(j);
	json_kv_string(j, "name", r->complainant.name != NULL ? r->complainant.name : "");
	json_kv_string(j, "email", r->complainant.address != NULL ? r->complainant.address : "");
	json_kv_string(j, "phone", r->complainant_phone != NULL ? r->complainant_phone : "");
	json_end_object(j);
}

static void record_json_date(struct json *j, const struct record *r, GTimeZone *tz)
{
	json_key(j, "date");
	if (!r->has_date) {
		json_null(j);
		return;
	}
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(r->date);
	g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_timezone(utc, tz) : NULL;
	g_autofree char *s = local != NULL ? g_date_time_format(local, "%Y-%m-%dT%H:%M:%S%:z") : NULL;
	json_string(j, s);
}

static void record_json_body(struct json *j, const struct record *r)
{
	json_kv_string(j, "text", r->text != NULL ? r->text : "");
	json_kv_string(j, "body_charset", r->body_charset);
	json_kv_bool(j, "body_charset_detected", r->body_charset_detected);
	record_json_attachments(j, r->attachments);
	record_json_accounts(j, r->extract->accounts);
	record_json_values(j, "id_numbers", r->extract->id_numbers);
	record_json_values(j, "credit_codes", r->extract->credit_codes);
	record_json_values(j, "phones", r->extract->phones);
	record_json_values(j, "emails", r->extract->emails);
	record_json_values(j, "names", r->extract->names);
}

char *record_to_json(const struct record *r, GTimeZone *tz, bool pretty)
{
	struct json *j = json_new(pretty);
	json_begin_object(j);
	json_kv_string(j, "channel", r->channel);
	record_json_complainant(j, r);
	record_json_address(j, "forwarded_by", r->forwarded_by);
	json_kv_bool(j, "major", r->major);
	record_json_address(j, "from", &r->from);
	json_kv_string(j, "reply_to", r->reply_to);
	record_json_strings(j, "to", r->to);
	json_kv_string(j, "subject", r->subject != NULL ? r->subject : "");
	record_json_date(j, r, tz);
	json_kv_string(j, "message_id", r->message_id);
	json_kv_string(j, "in_reply_to", r->in_reply_to);
	record_json_body(j, r);
	json_kv_string(j, "reference", r->reference);
	json_kv_string(j, "auto_submitted", r->auto_submitted);
	record_json_ocr(j, r->ocr);
	json_kv_string(j, "notice_by", r->notice_by);
	record_json_strings(j, "notes", r->notes);
	json_end_object(j);
	return json_finish(j);
}

static const char *const record_default_domains[] = {
	"csrc.gov.cn", "sac.net.cn", "cfachina.org", "amac.org.cn", "cca.org.cn", "12386", NULL };
static const char *const record_default_phrases[] = {
	"12386", "证监会", "证券业协会", "期货业协会", "基金业协会", "消费者协会", "消保委",
	"证券交易所", "期货交易所", NULL };

static bool record_domain_matches(const char *address, const char *const *domains)
{
	const char *at = address != NULL ? strrchr(address, '@') : NULL;
	if (at == NULL)
		return false;
	for (size_t i = 0; domains[i] != NULL; i++) {
		size_t n = strlen(domains[i]), len = strlen(at + 1);
		if (len >= n && g_ascii_strcasecmp(at + 1 + len - n, domains[i]) == 0 &&
		    (len == n || at[1 + len - n - 1] == '.'))
			return true;
		if (g_ascii_isdigit(domains[i][0]) && strstr(at + 1, domains[i]) != NULL)
			return true;
	}
	return false;
}

static bool record_has_phrase(const struct record *r, const char *const *phrases)
{
	const char *name = r->forwarded_by != NULL ? r->forwarded_by->name : NULL;
	for (size_t i = 0; phrases[i] != NULL; i++) {
		if ((r->subject != NULL && strstr(r->subject, phrases[i]) != NULL) ||
		    (name != NULL && strstr(name, phrases[i]) != NULL) ||
		    (r->forward_note != NULL && strstr(r->forward_note, phrases[i]) != NULL))
			return true;
	}
	return false;
}

static const char *record_first(GPtrArray *values)
{
	return values->len > 0 ? ((struct extract_value *)values->pdata[0])->value : NULL;
}

/* If the digits of value are written at s (ASCII or full-width, with
   blanks, hyphens or brackets between them), returns true. */
static bool record_digits_at(const char *s, const char *value)
{
	const unsigned char *p = (const unsigned char *)s;
	for (const char *v = value; *v != '\0'; v++) {
		while (*p == ' ' || *p == '-' || *p == '(' || *p == ')')
			p++;
		if (*p == (unsigned char)*v) {
			p++;
		} else if (p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x90 + (unsigned char)(*v - '0')) {
			p += 3;
		} else {
			return false;
		}
	}
	return true;
}

/* True when the phone is written in its context right after a contact
   label (联系电话：, 本人手机：, Tel:) that is not someone else's (营业部电话,
   客服热线): the complainant's own number rather than one the complaint
   mentions. */
static bool record_phone_labelled(const struct extract_value *v)
{
	static const char *const labels[] = {
		"电话", "手机", "联系方式", "联系", "電話", "手機", "聯絡", "聯繫", "tel", "mobile",
		"phone", NULL };
	static const char *const others[] = {
		"营业部", "营業部", "營業部", "客服", "热线", "熱線", "经理", "經理", "公司", "员工",
		"員工", "工作人员", "工作人員", NULL };
	const char *c = v->context != NULL ? v->context : "";
	for (const char *p = c; *p != '\0'; p++) {
		if (p != c && g_ascii_isdigit(p[-1]))
			continue;
		if (!record_digits_at(p, v->value))
			continue;
		size_t from = p - c > 18 ? (size_t)(p - c) - 18 : 0;
		g_autofree char *before = g_ascii_strdown(c + from, p - (c + from));
		for (size_t i = 0; others[i] != NULL; i++)
			if (strstr(before, others[i]) != NULL)
				return false;
		for (size_t i = 0; labels[i] != NULL; i++)
			if (strstr(before, labels[i]) != NULL)
				return true;
		return false;
	}
	return false;
}

const char *record_complainant_phone(GPtrArray *phones)
{
	for (guint i = 0; i < phones->len; i++)
		if (record_phone_labelled(phones->pdata[i]))
			return ((struct extract_value *)phones->pdata[i])->value;
	return record_first(phones);
}

/* A regulator's transfer sheet: the regulator forwarded, the complainant
   is the investor the text names. */
static void record_regulator_transfer(struct record *r)
{
	struct record_address *fwd = g_new0(struct record_address, 1);
	fwd->address = g_strdup(r->from.address);
	fwd->name = g_strdup(r->from.name);
	r->forwarded_by = fwd;
	g_free(r->complainant.address);
	r->complainant.address = NULL;
	for (guint i = 0; i < r->extract->emails->len && r->complainant.address == NULL; i++) {
		const char *e = ((struct extract_value *)r->extract->emails->pdata[i])->value;
		if (r->from.address == NULL || g_ascii_strcasecmp(e, r->from.address) != 0)
			r->complainant.address = g_strdup(e);
	}
	g_free(r->complainant.name);
	r->complainant.name = g_strdup(record_first(r->extract->names));
	r->complainant_phone = g_strdup(record_complainant_phone(r->extract->phones));
}

static void record_direct(struct record *r)
{
	const char *name = record_first(r->extract->names);
	if (r->complainant.address == NULL)
		r->complainant.address = g_strdup(r->from.address);
	g_free(r->complainant.name);
	r->complainant.name = g_strdup(name != NULL ? name : r->from.name);
	if (r->complainant_phone == NULL)
		r->complainant_phone = g_strdup(record_complainant_phone(r->extract->phones));
}

void record_resolve(struct record *r, const char *const *domains, const char *const *phrases)
{
	domains = domains != NULL ? domains : record_default_domains;
	phrases = phrases != NULL ? phrases : record_default_phrases;
	if (r->forwarded_by == NULL && r->auto_submitted == NULL &&
	    record_domain_matches(r->from.address, domains))
		record_regulator_transfer(r);
	else if (r->forwarded_by == NULL)
		record_direct(r);
	if (r->reference == NULL)
		r->reference = g_strdup(record_first(r->extract->references));
	const char *sender = r->forwarded_by != NULL ? r->forwarded_by->address : r->from.address;
	r->major = r->auto_submitted == NULL &&
		   (record_domain_matches(sender, domains) ||
		    (r->forwarded_by != NULL && record_has_phrase(r, phrases)));
}
