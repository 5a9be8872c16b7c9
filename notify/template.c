/* Notice templates: loading, checking and rendering; see notify.h.
   SECURITY: the template files are operator input, checked whole at start;
   the values put into them come from complaints and are masked here. */
#include "notify/notify.h"

#include <string.h>

#include "core/log.h"

G_DEFINE_QUARK(intake-notify-error-quark, notify_error)

static const char *const notify_kinds[] = {
	NOTIFY_ACKNOWLEDGMENT, NOTIFY_ACCEPTANCE, NOTIFY_NON_ACCEPTANCE, NULL };

/* The placeholders every template may use. */
static const char *const notify_placeholders[] = {
	"ref", "name", "subject", "note", "accounts", "received_at", "acceptance_due",
	"handling_due", "decided_at", "reason_text", "remedies", "sender", NULL };

/* Phrases may use the same but these two, which are phrases themselves. */
static const char *const notify_phrase_only[] = { "reason_text", "remedies", NULL };

static const char *const notify_reasons[] = {
	"not_customer", "agent_unauthorized", "duplicate", "in_proceedings", "no_substance",
	"incomplete", "other", NULL };

struct notify_template {
	char *path;
	char *subject, *body;
};

struct notify_templates {
	struct notify_template kinds[3];   /* in the order of notify_kinds */
	char *phrases_path;
	GHashTable *phrases;               /* key -> text */
	GTimeZone *tz;
};

void notify_templates_free(struct notify_templates *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(t->kinds); i++) {
		g_free(t->kinds[i].path);
		g_free(t->kinds[i].subject);
		g_free(t->kinds[i].body);
	}
	g_free(t->phrases_path);
	if (t->phrases != NULL)
		g_hash_table_unref(t->phrases);
	if (t->tz != NULL)
		g_time_zone_unref(t->tz);
	g_free(t);
}

/* Calls fn for every {name} in text, literal text in between; "{{" and "}}"
   are literal braces, a brace not part of {identifier} is literal too.
   Stops and returns -1 when fn does. */
typedef int (*notify_scan_fn)(const char *lit, size_t len, const char *name, void *ctx);

static size_t notify_ident_len(const char *p)
{
	size_t n = 0;
	while (g_ascii_islower(p[n]) || p[n] == '_')
		n++;
	return p[n] == '}' ? n : 0;
}

static int notify_scan(const char *text, notify_scan_fn fn, void *ctx)
{
	const char *p = text, *lit = text;
	while (*p != '\0') {
		size_t n = *p == '{' ? notify_ident_len(p + 1) : 0;
		bool pair = (*p == '{' && p[1] == '{') || (*p == '}' && p[1] == '}');
		if (n == 0 && !pair) {
			p++;
			continue;
		}
		if (fn(lit, (size_t)(p - lit), NULL, ctx) < 0)
			return -1;
		g_autofree char *name = pair ? NULL : g_strndup(p + 1, n);
		if (pair ? fn(p, 1, NULL, ctx) < 0 : fn(NULL, 0, name, ctx) < 0)   /* one brace */
			return -1;
		p += pair ? 2 : n + 2;
		lit = p;
	}
	return fn(lit, (size_t)(p - lit), NULL, ctx);
}

struct notify_check {
	const char *path;
	const char *const *refused;   /* placeholders not allowed here, or NULL */
	GError **error;
};

static int notify_check_one(const char *lit, size_t len, const char *name, void *ctx)
{
	(void)lit;
	(void)len;
	struct notify_check *c = ctx;
	if (name == NULL)
		return 0;
	if (g_strv_contains(notify_placeholders, name) &&
	    (c->refused == NULL || !g_strv_contains(c->refused, name)))
		return 0;
	g_autofree char *known = g_strjoinv("} {", (char **)notify_placeholders);
	g_set_error(c->error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG,
		    "%s: unknown placeholder {%s}%s: expected one of {%s}", c->path, name,
		    c->refused != NULL ? " (in a phrase; {reason_text} and {remedies} are not "
		    "allowed there)" : "", known);
	return -1;
}

static int notify_check_text(const char *path, const char *text, const char *const *refused,
			     GError **error)
{
	struct notify_check c = { path, refused, error };
	return notify_scan(text, notify_check_one, &c);
}

/* Reads a UTF-8 file with LF line ends (CRLF accepted, a BOM dropped). */
static char *notify_read_text(const char *path, GError **error)
{
	char *data = NULL;
	GError *ferr = NULL;
	if (!g_file_get_contents(path, &data, NULL, &ferr)) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG, "notice template %s",
			    ferr->message);
		g_error_free(ferr);
		return NULL;
	}
	if (!g_utf8_validate(data, -1, NULL)) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG, "%s: not valid UTF-8", path);
		g_free(data);
		return NULL;
	}
	char *text = g_strdup(g_str_has_prefix(data, "\xEF\xBB\xBF") ? data + 3 : data);
	g_free(data);
	char *w = text;
	for (const char *r = text; *r != '\0'; r++)
		if (!(*r == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
	return text;
}

/* "Subject: ..." on the first line, an optional blank line, the body. */
static int notify_load_template(struct notify_template *t, const char *path, GError **error)
{
	g_autofree char *text = notify_read_text(path, error);
	if (text == NULL)
		return -1;
	char *nl = strchr(text, '\n');
	if (!g_str_has_prefix(text, "Subject:") || nl == NULL) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG,
			    "%s: the first line must be \"Subject: ...\", then the body", path);
		return -1;
	}
	*nl = '\0';
	t->path = g_strdup(path);
	t->subject = g_strstrip(g_strdup(text + strlen("Subject:")));
	t->body = g_strdup(nl[1] == '\n' ? nl + 2 : nl + 1);
	if (notify_check_text(path, t->subject, NULL, error) < 0 ||
	    notify_check_text(path, t->body, NULL, error) < 0)
		return -1;
	return 0;
}

/* "\n" in a phrase is a line break, "\\" a backslash. */
static char *notify_unescape(const char *v)
{
	GString *s = g_string_new(NULL);
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\\' && (p[1] == 'n' || p[1] == '\\'))
			g_string_append_c(s, *++p == 'n' ? '\n' : '\\');
		else
			g_string_append_c(s, *p);
	}
	return g_string_free(s, FALSE);
}

/* phrases.txt: "key = text" lines, '#' comments. */
static int notify_parse_phrases(struct notify_templates *t, const char *text, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", 0);
	for (size_t i = 0; lines[i] != NULL; i++) {
		char *line = g_strstrip(lines[i]);
		if (*line == '\0' || *line == '#')
			continue;
		char *eq = strchr(line, '=');
		if (eq == NULL) {
			g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG,
				    "%s:%zu: expected \"key = text\"", t->phrases_path, i + 1);
			return -1;
		}
		*eq = '\0';
		char *value = notify_unescape(g_strstrip(eq + 1));
		if (notify_check_text(t->phrases_path, value, notify_phrase_only, error) < 0) {
			g_free(value);
			return -1;
		}
		g_hash_table_replace(t->phrases, g_strdup(g_strstrip(line)), value);
	}
	return 0;
}

static int notify_require_phrase(struct notify_templates *t, const char *key, GError **error)
{
	if (g_hash_table_contains(t->phrases, key))
		return 0;
	g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG, "%s: missing \"%s = ...\"",
		    t->phrases_path, key);
	return -1;
}

static int notify_load_phrases(struct notify_templates *t, const char *dir, GError **error)
{
	t->phrases_path = g_build_filename(dir, "phrases.txt", NULL);
	t->phrases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autofree char *text = notify_read_text(t->phrases_path, error);
	if (text == NULL || notify_parse_phrases(t, text, error) < 0)
		return -1;
	static const char *const required[] = { "remedies", "anonymous", "time_format",
						"no_accounts", NULL };
	for (size_t i = 0; required[i] != NULL; i++)
		if (notify_require_phrase(t, required[i], error) < 0)
			return -1;
	for (size_t i = 0; notify_reasons[i] != NULL; i++) {
		g_autofree char *key = g_strconcat("reason.", notify_reasons[i], NULL);
		if (notify_require_phrase(t, key, error) < 0)
			return -1;
	}
	g_autoptr(GDateTime) probe = g_date_time_new_now(t->tz);
	g_autofree char *s = g_date_time_format(probe, g_hash_table_lookup(t->phrases, "time_format"));
	if (s == NULL) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG, "%s: time_format is not a "
			    "valid g_date_time_format() format", t->phrases_path);
		return -1;
	}
	return 0;
}

struct notify_templates *notify_templates_load(const char *dir, const char *language,
					       GTimeZone *tz, GError **error)
{
	struct notify_templates *t = g_new0(struct notify_templates, 1);
	t->tz = g_time_zone_ref(tz);
	g_autofree char *lang_dir = g_build_filename(dir, language, NULL);
	int rc = notify_load_phrases(t, lang_dir, error);
	for (size_t i = 0; rc == 0 && notify_kinds[i] != NULL; i++) {
		g_autofree char *file = g_strconcat(notify_kinds[i], ".txt", NULL);
		g_autofree char *path = g_build_filename(lang_dir, file, NULL);
		rc = notify_load_template(&t->kinds[i], path, error);
	}
	if (rc < 0) {
		notify_templates_free(t);
		return NULL;
	}
	return t;
}

/* Replaces every occurrence of needle (4+ bytes) by its masked form. */
static char *notify_mask_literal(char *text, const char *needle)
{
	if (needle == NULL || strlen(needle) < 4 || strstr(text, needle) == NULL)
		return text;
	g_autofree char *masked = log_mask_number(needle);
	g_auto(GStrv) parts = g_strsplit(text, needle, -1);
	g_free(text);
	return g_strjoinv(masked, parts);
}

char *notify_mask(const char *text, const char *const *accounts)
{
	char *out = log_mask_text(text != NULL ? text : "", 8);
	for (size_t i = 0; accounts != NULL && accounts[i] != NULL; i++)
		out = notify_mask_literal(out, accounts[i]);
	return out;
}

/* The values of one rendering, by placeholder name. */
struct notify_render {
	const struct notify_templates *t;
	GHashTable *values;
	GString *out;
};

static void notify_put_time(struct notify_render *r, const char *key, int64_t t)
{
	g_autoptr(GDateTime) utc = t > 0 ? g_date_time_new_from_unix_utc(t) : NULL;
	g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_timezone(utc, r->t->tz) : NULL;
	const char *fmt = g_hash_table_lookup(r->t->phrases, "time_format");
	char *s = local != NULL ? g_date_time_format(local, fmt) : NULL;
	g_hash_table_replace(r->values, (char *)key, s != NULL ? s : g_strdup(""));
}

static char *notify_accounts_text(const struct notify_templates *t, const char *const *accounts)
{
	if (accounts == NULL || accounts[0] == NULL)
		return g_strdup(g_hash_table_lookup(t->phrases, "no_accounts"));
	GString *s = g_string_new(NULL);
	for (size_t i = 0; accounts[i] != NULL; i++) {
		g_autofree char *m = log_mask_number(accounts[i]);
		g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", m);
	}
	return g_string_free(s, FALSE);
}

static int notify_append(const char *lit, size_t len, const char *name, void *ctx)
{
	struct notify_render *r = ctx;
	if (name == NULL) {
		g_string_append_len(r->out, lit, (gssize)len);
	} else {
		const char *v = g_hash_table_lookup(r->values, name);
		g_string_append(r->out, v != NULL ? v : "");
	}
	return 0;
}

/* Expands a text checked at load (so that every name is known). */
static char *notify_expand(struct notify_render *r, const char *text)
{
	r->out = g_string_new(NULL);
	notify_scan(text, notify_append, r);
	return g_string_free(g_steal_pointer(&r->out), FALSE);
}

static void notify_fill(struct notify_render *r, const struct notify_values *v)
{
	const struct notify_templates *t = r->t;
	g_autofree char *name = notify_mask(v->name, v->accounts);
	g_hash_table_replace(r->values, "ref", g_strdup(v->ref != NULL ? v->ref : ""));
	g_hash_table_replace(r->values, "name", g_strdup(*g_strstrip(name) != '\0' ? name :
			     g_hash_table_lookup(t->phrases, "anonymous")));
	g_hash_table_replace(r->values, "subject", notify_mask(v->subject, v->accounts));
	g_hash_table_replace(r->values, "note", notify_mask(v->note, v->accounts));
	g_hash_table_replace(r->values, "accounts", notify_accounts_text(t, v->accounts));
	g_hash_table_replace(r->values, "sender", g_strdup(v->sender != NULL ? v->sender : ""));
	notify_put_time(r, "received_at", v->received_at);
	notify_put_time(r, "acceptance_due", v->acceptance_due);
	notify_put_time(r, "handling_due", v->handling_due);
	notify_put_time(r, "decided_at", v->decided_at);
	g_hash_table_replace(r->values, "remedies",
			     notify_expand(r, g_hash_table_lookup(t->phrases, "remedies")));
}

static int notify_kind_index(const char *kind)
{
	for (int i = 0; notify_kinds[i] != NULL; i++)
		if (strcmp(notify_kinds[i], kind) == 0)
			return i;
	return -1;
}

/* One line for a header: control characters become spaces, "[REF]" is
   put in front if the template left it out. */
static char *notify_subject_line(const char *subject, const char *ref)
{
	g_autofree char *s = notify_header_text(subject);
	g_autofree char *tag = g_strdup_printf("[%s]", ref != NULL ? ref : "");
	if (ref != NULL && strstr(s, tag) == NULL)
		return g_strconcat(tag, " ", s, NULL);
	return g_steal_pointer(&s);
}

int notify_render(const struct notify_templates *t, const char *kind,
		  const struct notify_values *v, char **subject_r, char **body_r, GError **error)
{
	int k = notify_kind_index(kind);
	g_autofree char *reason_key = g_strconcat("reason.", v->reason != NULL ? v->reason : "", NULL);
	const char *reason = g_hash_table_lookup(t->phrases, reason_key);
	if (k < 0 || (v->reason != NULL && reason == NULL)) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_MESSAGE, "no template for %s%s%s",
			    kind, v->reason != NULL ? " with reason " : "",
			    v->reason != NULL ? v->reason : "");
		return -1;
	}
	struct notify_render r = { .t = t };
	r.values = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	notify_fill(&r, v);
	g_hash_table_replace(r.values, "reason_text", reason != NULL ? notify_expand(&r, reason) :
			     g_strdup(""));
	g_autofree char *subject = notify_expand(&r, t->kinds[k].subject);
	*subject_r = notify_subject_line(subject, v->ref);
	*body_r = notify_expand(&r, t->kinds[k].body);
	g_hash_table_unref(r.values);
	return 0;
}
