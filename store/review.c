/* The SQL of the responders' review: corrections of a complaint's fields,
   each an event with old and new value; the complaint ledger; the customer
   registry (import and lookup). See store.h, "Review". */
#include "store/store.h"
#include "store/store-internal.h"

#include <string.h>

#include "core/json.h"

/* ---- The fields an edit may change ---- */

/* Checks and normalises one value: sets *out (newly allocated, NULL for a
   cleared field) and returns 0, or returns -1 with STORE_ERROR_INVALID. */
typedef int (*review_check_fn)(const char *field, const char *in, char **out, GError **error);

struct review_field {
	const char *name;
	const char *column;      /* in complaints, or NULL: accounts, or ledger-only */
	bool after_decision;     /* may change once the complaint is decided */
	review_check_fn check;
};

static int review_check_line(const char *field, const char *in, char **out, GError **error);
static int review_check_text(const char *field, const char *in, char **out, GError **error);
static int review_check_email(const char *field, const char *in, char **out, GError **error);
static int review_check_phone(const char *field, const char *in, char **out, GError **error);
static int review_check_accounts(const char *field, const char *in, char **out, GError **error);
static int review_check_yes_no(const char *field, const char *in, char **out, GError **error);

static const struct review_field review_fields[] = {
	{ "name", "complainant_name", false, review_check_line },
	{ "email", "complainant_email", false, review_check_email },
	{ "phone", "complainant_phone", false, review_check_phone },
	{ "address", "complainant_address", false, review_check_text },
	{ "subject", "subject", false, review_check_line },
	{ "accounts", NULL, false, review_check_accounts },
	{ "respondent", NULL, true, review_check_line },
	{ "request", NULL, true, review_check_text },
	{ "facts", NULL, true, review_check_text },
	{ "result", NULL, true, review_check_text },
	{ "archived", NULL, true, review_check_yes_no },
	{ "remarks", NULL, true, review_check_text },
};

static const char *const review_field_names[] = {
	"name", "email", "phone", "address", "subject", "accounts", "respondent", "request",
	"facts", "result", "archived", "remarks", NULL };

#define REVIEW_LINE_MAX 200      /* characters of a one-line field */
#define REVIEW_TEXT_MAX 20000    /* characters of a free-text field */

const char *const *store_edit_fields(void)
{
	return review_field_names;
}

static const struct review_field *review_field_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(review_fields); i++)
		if (name != NULL && strcmp(review_fields[i].name, name) == 0)
			return &review_fields[i];
	return NULL;
}

static int review_invalid(GError **error, const char *field, const char *in, const char *expected)
{
	g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID, "%s=\"%s\": expected %s", field, in,
		    expected);
	return -1;
}

/* Trims and checks UTF-8, length and control characters (multi_line allows
   newlines and tabs; CR LF becomes LF). An empty result clears the field. */
static int review_check_string(const char *field, const char *in, bool multi_line, char **out,
			       GError **error)
{
	if (!g_utf8_validate(in, -1, NULL))
		return review_invalid(error, field, "(not UTF-8)", "UTF-8 text");
	g_autofree char *s = g_strstrip(g_strdup(in));
	GString *t = g_string_new(NULL);
	bool bad = false;
	for (const char *p = s; *p != '\0' && !bad; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		bad = (unsigned char)*p < 0x20 && !(multi_line && (*p == '\n' || *p == '\t'));
		g_string_append_c(t, *p);
	}
	long max = multi_line ? REVIEW_TEXT_MAX : REVIEW_LINE_MAX;
	bool too_long = g_utf8_strlen(t->str, -1) > max;
	char *v = g_string_free(t, FALSE);
	if (bad || too_long) {
		g_free(v);
		g_autofree char *what = g_strdup_printf("%s of at most %ld characters%s",
			multi_line ? "text" : "one line", max,
			bad ? " without control characters" : "");
		return review_invalid(error, field, in, what);
	}
	if (*v == '\0')
		g_clear_pointer(&v, g_free);
	*out = v;
	return 0;
}

static int review_check_line(const char *field, const char *in, char **out, GError **error)
{
	return review_check_string(field, in, false, out, error);
}

static int review_check_text(const char *field, const char *in, char **out, GError **error)
{
	return review_check_string(field, in, true, out, error);
}

static int review_check_email(const char *field, const char *in, char **out, GError **error)
{
	if (review_check_line(field, in, out, error) < 0)
		return -1;
	if (*out == NULL)
		return 0;
	const char *at = strchr(*out, '@');
	if (at == NULL || at == *out || strchr(at + 1, '@') != NULL ||
	    strchr(at + 1, '.') == NULL || strpbrk(*out, " \t<>,;") != NULL ||
	    at[strlen(at) - 1] == '.' || strlen(*out) > 254) {
		g_clear_pointer(out, g_free);
		return review_invalid(error, field, in, "an e-mail address such as name@example.cn");
	}
	return 0;
}

static int review_check_phone(const char *field, const char *in, char **out, GError **error)
{
	if (review_check_line(field, in, out, error) < 0)
		return -1;
	if (*out == NULL)
		return 0;
	unsigned digits = 0;
	bool ok = strspn(*out, "0123456789+-() ") == strlen(*out);
	for (const char *p = *out; *p != '\0'; p++)
		digits += g_ascii_isdigit(*p) ? 1 : 0;
	if (!ok || digits < 5 || digits > 20) {
		g_clear_pointer(out, g_free);
		return review_invalid(error, field, in,
				      "a phone number of 5 to 20 digits (+, -, spaces allowed)");
	}
	return 0;
}

/* Splits a list of accounts at , ; whitespace and the Chinese ，、；. */
static char **review_split_accounts(const char *in)
{
	g_autofree char *s = g_strdup(in);
	static const char *const wide[] = { "，", "、", "；" };
	for (size_t i = 0; i < G_N_ELEMENTS(wide); i++)
		for (char *p = strstr(s, wide[i]); p != NULL; p = strstr(p, wide[i]))
			memset(p, ',', strlen(wide[i]));
	return g_strsplit_set(s, ",; \t\r\n", -1);
}

static bool review_is_account(const char *s)
{
	size_t n = strlen(s);
	return n >= 6 && n <= 20 && strspn(s, "0123456789") == n;
}

/* The normalised list: digits only, in order, each once, joined by ",". */
static int review_check_accounts(const char *field, const char *in, char **out, GError **error)
{
	g_auto(GStrv) parts = review_split_accounts(in);
	GString *list = g_string_new(NULL);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	for (char **p = parts; *p != NULL; p++) {
		if (**p == '\0' || g_hash_table_contains(seen, *p))
			continue;
		if (!review_is_account(*p)) {
			g_string_free(list, TRUE);
			g_autofree char *what = g_strdup_printf(
				"account numbers of 6 to 20 digits separated by commas (\"%s\" is not one)",
				*p);
			return review_invalid(error, field, in, what);
		}
		g_hash_table_add(seen, *p);
		g_string_append_printf(list, "%s%s", list->len > 0 ? "," : "", *p);
	}
	char *v = g_string_free(list, FALSE);
	if (*v == '\0')
		g_clear_pointer(&v, g_free);
	*out = v;
	return 0;
}

static int review_check_yes_no(const char *field, const char *in, char **out, GError **error)
{
	static const char *const yes[] = { "yes", "true", "1", "是", NULL };
	static const char *const no[] = { "no", "false", "0", "否", NULL };
	g_autofree char *s = g_ascii_strdown(in, -1);
	g_strstrip(s);
	if (*s == '\0')
		*out = NULL;
	else if (g_strv_contains(yes, s))
		*out = g_strdup("yes");
	else if (g_strv_contains(no, s))
		*out = g_strdup("no");
	else
		return review_invalid(error, field, in, "yes or no (是 / 否)");
	return 0;
}

/* ---- Reading and writing one field ---- */

/* The complaint being edited, read inside the transaction. */
struct review_target {
	int64_t id;
	char *status, *decided_by;
	int64_t decided_at;
};

static void review_target_clear(struct review_target *t)
{
	g_clear_pointer(&t->status, g_free);
	g_clear_pointer(&t->decided_by, g_free);
}

static int review_target_get(struct store *st, const char *ref, struct review_target *t,
			     GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT id, status, decided_by, decided_at FROM complaints WHERE ref = ?", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, ref);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW) {
		t->id = sqlite3_column_int64(s, 0);
		t->status = store_col_text(s, 1);
		t->decided_by = store_col_text(s, 2);
		t->decided_at = sqlite3_column_int64(s, 3);
	} else if (rc == SQLITE_DONE) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no complaint %s", ref);
		ret = -1;
	} else {
		ret = store_fail(st, error, "reading the complaint to edit");
	}
	sqlite3_finalize(s);
	return ret;
}

/* A draft-only field of a decided complaint: says who decided, and when. */
static int review_refuse_decided(struct store *st, const char *ref, const struct review_target *t,
				 const char *field, GError **error)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t->decided_at);
	g_autoptr(GDateTime) at = g_date_time_to_timezone(utc, st->tz);
	g_autofree char *when = g_date_time_format(at, "%Y-%m-%d %H:%M:%S %:z");
	GString *late = g_string_new(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(review_fields); i++)
		if (review_fields[i].after_decision)
			g_string_append_printf(late, "%s%s", late->len ? ", " : "", review_fields[i].name);
	g_set_error(error, STORE_ERROR, STORE_ERROR_STATE,
		    "%s: %s cannot change: the complaint was already decided (%s) by %s at %s; "
		    "after the decision only %s can be edited", ref, field, t->status,
		    t->decided_by != NULL ? t->decided_by : "?", when, late->str);
	g_string_free(late, TRUE);
	return -1;
}

/* Runs a one-value query bound to (id, text); *out is its text or NULL. */
static int review_query_value(struct store *st, const char *sql, int64_t id, const char *text,
			      char **out, GError **error)
{
	sqlite3_stmt *s = store_prepare(st, sql, error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (text != NULL)
		store_bind_text(s, 2, text);
	int rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? store_col_text(s, 0) : NULL;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, error, "reading a field");
}

/* The newest edit of a ledger-only field (?1 complaint, ?2 field). */
#define REVIEW_LAST_EDIT_SQL \
	"SELECT json_extract(detail, '$.new') FROM events WHERE complaint_id = ?1" \
	" AND kind = 'edited' AND CASE WHEN json_valid(detail) THEN" \
	" json_extract(detail, '$.field') END = ?2 ORDER BY id DESC LIMIT 1"

/* The current value of a field, normalised like a new one. */
static int review_current(struct store *st, int64_t id, const struct review_field *f, char **out,
			  GError **error)
{
	if (f->column != NULL) {
		g_autofree char *sql = g_strdup_printf(
			"SELECT NULLIF(%s, '') FROM complaints WHERE id = ?1", f->column);
		return review_query_value(st, sql, id, NULL, out, error);
	}
	if (strcmp(f->name, "accounts") == 0)
		return review_query_value(st,
			"SELECT group_concat(value, ',') FROM (SELECT value FROM accounts"
			" WHERE complaint_id = ?1 ORDER BY id)", id, NULL, out, error);
	return review_query_value(st, REVIEW_LAST_EDIT_SQL, id, f->name, out, error);
}

/* Replaces the claimed accounts: those kept keep their context. */
static int review_set_accounts(struct store *st, int64_t id, const char *list, GError **error)
{
	g_auto(GStrv) values = list != NULL ? g_strsplit(list, ",", -1) : g_new0(char *, 1);
	sqlite3_stmt *del = store_prepare(st,
		"DELETE FROM accounts WHERE complaint_id = ?1 AND value NOT IN"
		" (SELECT value FROM json_each(?2))", error);
	if (del == NULL)
		return -1;
	g_autoptr(GString) arr = g_string_new("[");
	for (char **v = values; *v != NULL; v++)
		g_string_append_printf(arr, "%s\"%s\"", v == values ? "" : ",", *v);
	g_string_append_c(arr, ']');
	sqlite3_bind_int64(del, 1, id);
	store_bind_text(del, 2, arr->str);
	int rc = store_step_done(st, del, error);
	sqlite3_finalize(del);
	sqlite3_stmt *ins = rc == 0 ? store_prepare(st,
		"INSERT OR IGNORE INTO accounts (complaint_id, value, context) VALUES (?, ?, NULL)",
		error) : NULL;
	for (char **v = values; ins != NULL && *v != NULL && rc == 0; v++) {
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, id);
		store_bind_text(ins, 2, *v);
		rc = store_step_done(st, ins, error);
	}
	sqlite3_finalize(ins);
	return ins == NULL ? -1 : rc;
}

static int review_apply(struct store *st, int64_t id, const struct review_field *f,
			const char *value, GError **error)
{
	if (f->column == NULL)
		return strcmp(f->name, "accounts") == 0 ? review_set_accounts(st, id, value, error) : 0;
	g_autofree char *sql = g_strdup_printf("UPDATE complaints SET %s = ? WHERE id = ?",
					       f->column);
	sqlite3_stmt *s = store_prepare(st, sql, error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, value);
	sqlite3_bind_int64(s, 2, id);
	int rc = store_step_done(st, s, error);
	sqlite3_finalize(s);
	return rc;
}

/* A value in an event: a string, null, or for accounts an array. */
static void review_json_value(struct json *j, const struct review_field *f, const char *v)
{
	if (v == NULL || strcmp(f->name, "accounts") != 0) {
		json_string(j, v);
		return;
	}
	g_auto(GStrv) parts = g_strsplit(v, ",", -1);
	json_begin_array(j);
	for (char **p = parts; *p != NULL; p++)
		json_string(j, *p);
	json_end_array(j);
}

static char *review_event_detail(const struct review_field *f, const char *old, const char *new)
{
	struct json *j = json_new(false);
	json_begin_object(j);
	json_kv_string(j, "field", f->name);
	json_key(j, "old");
	review_json_value(j, f, old);
	json_key(j, "new");
	review_json_value(j, f, new);
	json_end_object(j);
	char *s = json_finish(j);
	return g_strchomp(s);
}

/* Applies one checked edit; returns 1 when it changed the field, 0, or -1. */
static int review_edit_one(struct store *st, int64_t id, const struct review_field *f,
			   const char *value, const char *actor, int64_t at, GError **error)
{
	g_autofree char *old = NULL;
	if (review_current(st, id, f, &old, error) < 0)
		return -1;
	if (g_strcmp0(old, value) == 0)
		return 0;
	if (review_apply(st, id, f, value, error) < 0)
		return -1;
	g_autofree char *detail = review_event_detail(f, old, value);
	return store_event(st, id, at, actor, "edited", detail, error) < 0 ? -1 : 1;
}

static int review_edit_tx(struct store *st, const char *ref, struct store_edit *edits, size_t n,
			  char **values, const char *actor, int64_t at, GError **error)
{
	struct review_target t = { 0 };
	if (review_target_get(st, ref, &t, error) < 0)
		return -1;
	int changes = 0;
	for (size_t i = 0; i < n && changes >= 0; i++) {
		const struct review_field *f = review_field_find(edits[i].field);
		if (!f->after_decision && strcmp(t.status, "draft") != 0) {
			changes = review_refuse_decided(st, ref, &t, f->name, error);
			break;
		}
		int rc = review_edit_one(st, t.id, f, values[i], actor, at, error);
		edits[i].changed = rc == 1;
		changes = rc < 0 ? -1 : changes + rc;
	}
	review_target_clear(&t);
	return changes;
}

/* Checks every edit before any database access; values[i] gets the
   normalised value. */
static int review_check_all(struct store_edit *edits, size_t n, char **values, GError **error)
{
	for (size_t i = 0; i < n; i++) {
		const struct review_field *f = review_field_find(edits[i].field);
		if (f == NULL) {
			g_autofree char *known = g_strjoinv(", ", (char **)review_field_names);
			g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
				    "unknown field \"%s\": expected one of %s",
				    edits[i].field != NULL ? edits[i].field : "", known);
			return -1;
		}
		if (f->check(f->name, edits[i].value != NULL ? edits[i].value : "", &values[i],
			     error) < 0)
			return -1;
	}
	return 0;
}

int store_edit(struct store *st, const char *ref, struct store_edit *edits, size_t n,
	       const char *actor, int64_t at, GError **error)
{
	char **values = g_new0(char *, n + 1);
	int rc = -1;
	for (size_t i = 0; i < n; i++)
		edits[i].changed = false;
	if (review_check_all(edits, n, values, error) < 0 ||
	    store_tx_begin(st, false, error) < 0)
		goto out;
	rc = review_edit_tx(st, ref, edits, n, values, actor, at, error);
	if (rc >= 0 && store_tx_commit(st, false, error) == 0)
		goto out;
	store_tx_rollback(st, false);
	for (size_t i = 0; i < n; i++)
		edits[i].changed = false;
	rc = -1;
out:
	for (size_t i = 0; i < n; i++)
		g_free(values[i]);
	g_free(values);
	return rc;
}

/* ---- The ledger-only fields ---- */

/* The newest edit of one ledger-only field of complaint c, as a column. */
#define REVIEW_LAST(field) \
	"(SELECT json_extract(e.detail, '$.new') FROM events e WHERE e.complaint_id = c.id" \
	" AND e.kind = 'edited' AND CASE WHEN json_valid(e.detail) THEN" \
	" json_extract(e.detail, '$.field') END = '" field "' ORDER BY e.id DESC LIMIT 1)"
#define REVIEW_FIELD_COLUMNS \
	REVIEW_LAST("respondent") ", " REVIEW_LAST("request") ", " REVIEW_LAST("facts") ", " \
	REVIEW_LAST("result") ", " REVIEW_LAST("remarks") ", " REVIEW_LAST("archived")
#define REVIEW_N_FIELD_COLUMNS 6

/* Reads the columns of REVIEW_FIELD_COLUMNS starting at column i. */
static void review_read_fields(sqlite3_stmt *s, int i, struct store_review_fields *f)
{
	f->respondent = store_col_text(s, i);
	f->request = store_col_text(s, i + 1);
	f->facts = store_col_text(s, i + 2);
	f->result = store_col_text(s, i + 3);
	f->remarks = store_col_text(s, i + 4);
	const unsigned char *a = sqlite3_column_text(s, i + 5);
	f->archived = a != NULL && strcmp((const char *)a, "yes") == 0;
}

void store_review_fields_clear(struct store_review_fields *f)
{
	g_clear_pointer(&f->respondent, g_free);
	g_clear_pointer(&f->request, g_free);
	g_clear_pointer(&f->facts, g_free);
	g_clear_pointer(&f->result, g_free);
	g_clear_pointer(&f->remarks, g_free);
	f->archived = false;
}

int store_review_fields_get(struct store *st, const char *ref, struct store_review_fields *out,
			    GError **error)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " REVIEW_FIELD_COLUMNS " FROM complaints c WHERE c.ref = ?", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, ref);
	int rc = sqlite3_step(s), ret = rc == SQLITE_ROW ? 0 : -1;
	if (rc == SQLITE_ROW)
		review_read_fields(s, 0, out);
	else if (rc == SQLITE_DONE)
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no complaint %s", ref);
	else
		store_fail(st, error, "reading the review fields");
	sqlite3_finalize(s);
	return ret;
}

/* ---- The ledger ---- */

void store_ledger_row_free(struct store_ledger_row *r)
{
	if (r == NULL)
		return;
	g_free(r->ref);
	g_free(r->channel);
	g_free(r->status);
	g_free(r->decided_by);
	g_free(r->reason);
	g_free(r->note);
	g_free(r->merged_into);
	g_free(r->name);
	g_free(r->subject);
	g_free(r->body);
	g_strfreev(r->accounts);
	store_review_fields_clear(&r->review);
	g_free(r);
}

#define REVIEW_LEDGER_SQL \
	"SELECT c.id, c.ref, c.channel, c.status, c.received_at, c.acceptance_due," \
	" c.decided_at, c.decided_by, c.reason, c.note," \
	" (SELECT m.ref FROM complaints m WHERE m.id = c.merged_into)," \
	" c.complainant_name, c.subject, c.body, c.major, " REVIEW_FIELD_COLUMNS \
	" FROM complaints c WHERE (?1 = 0 OR c.received_at >= ?1)" \
	" AND (?2 = 0 OR c.received_at < ?2) ORDER BY c.received_at, c.ref"

static struct store_ledger_row *review_read_row(sqlite3_stmt *s)
{
	struct store_ledger_row *r = g_new0(struct store_ledger_row, 1);
	r->ref = store_col_text(s, 1);
	r->channel = store_col_text(s, 2);
	r->status = store_col_text(s, 3);
	r->received_at = sqlite3_column_int64(s, 4);
	r->acceptance_due = sqlite3_column_int64(s, 5);
	r->decided_at = sqlite3_column_int64(s, 6);
	r->decided_by = store_col_text(s, 7);
	r->reason = store_col_text(s, 8);
	r->note = store_col_text(s, 9);
	r->merged_into = store_col_text(s, 10);
	r->name = store_col_text(s, 11);
	r->subject = store_col_text(s, 12);
	r->body = store_col_text(s, 13);
	r->major = sqlite3_column_int(s, 14) != 0;
	review_read_fields(s, 15, &r->review);
	return r;
}

/* The claimed accounts of complaint id, with the statement `acc`. */
static int review_row_accounts(struct store *st, sqlite3_stmt *acc, int64_t id,
			       struct store_ledger_row *r, GError **error)
{
	GPtrArray *list = g_ptr_array_new();
	sqlite3_reset(acc);
	sqlite3_bind_int64(acc, 1, id);
	int rc;
	while ((rc = sqlite3_step(acc)) == SQLITE_ROW)
		g_ptr_array_add(list, store_col_text(acc, 0));
	g_ptr_array_add(list, NULL);
	r->accounts = (char **)g_ptr_array_free(list, FALSE);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, "reading the ledger's accounts");
}

static int review_ledger_rows(struct store *st, sqlite3_stmt *s, sqlite3_stmt *acc,
			      GPtrArray *rows, GError **error)
{
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_ledger_row *r = review_read_row(s);
		g_ptr_array_add(rows, r);
		if (review_row_accounts(st, acc, sqlite3_column_int64(s, 0), r, error) < 0)
			return -1;
	}
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, "reading the ledger");
}

GPtrArray *store_ledger(struct store *st, int64_t from, int64_t to, GError **error)
{
	sqlite3_stmt *s = store_prepare(st, REVIEW_LEDGER_SQL, error);
	sqlite3_stmt *acc = s != NULL ? store_prepare(st,
		"SELECT value FROM accounts WHERE complaint_id = ? ORDER BY id", error) : NULL;
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)store_ledger_row_free);
	int rc = -1;
	if (acc != NULL) {
		sqlite3_bind_int64(s, 1, from);
		sqlite3_bind_int64(s, 2, to);
		rc = store_exec(st, "BEGIN", error) < 0 ? -1 :
			review_ledger_rows(st, s, acc, rows, error);
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_finalize(s);
	sqlite3_finalize(acc);
	if (rc < 0)
		g_clear_pointer(&rows, g_ptr_array_unref);
	return rows;
}

/* ---- The customer registry ---- */

/* One claimed account of a draft and whether the registry knows it. */
struct review_claim {
	int64_t complaint_id;
	char *value;
	bool in_registry;
};

static void review_claim_clear(gpointer p)
{
	g_free(((struct review_claim *)p)->value);
}

/* Every draft's claimed accounts with their registry status, in a fixed
   order (the same before and after an import). NULL with error. */
static GArray *review_claims(struct store *st, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT a.complaint_id, a.value,"
		" EXISTS (SELECT 1 FROM customers k WHERE k.account = a.value)"
		" FROM accounts a JOIN complaints c ON c.id = a.complaint_id"
		" WHERE c.status = 'draft' ORDER BY a.complaint_id, a.id", error);
	if (s == NULL)
		return NULL;
	GArray *claims = g_array_new(FALSE, TRUE, sizeof(struct review_claim));
	g_array_set_clear_func(claims, review_claim_clear);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct review_claim c = { sqlite3_column_int64(s, 0), store_col_text(s, 1),
					  sqlite3_column_int(s, 2) != 0 };
		g_array_append_val(claims, c);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, error, "reading the drafts' accounts");
		g_array_unref(claims);
		return NULL;
	}
	return claims;
}

static int review_put_customers(struct store *st, const struct store_customer *rows, size_t n,
				bool replace, GError **error)
{
	if (replace && store_exec(st, "DELETE FROM customers", error) < 0)
		return -1;
	sqlite3_stmt *s = store_prepare(st,
		"INSERT INTO customers (account, name, id_number, phone) VALUES (?,?,?,?)"
		" ON CONFLICT (account) DO UPDATE SET name = excluded.name,"
		" id_number = excluded.id_number, phone = excluded.phone", error);
	if (s == NULL)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_reset(s);
		store_bind_text(s, 1, rows[i].account);
		store_bind_text(s, 2, rows[i].name);
		store_bind_text(s, 3, rows[i].id_number);
		store_bind_text(s, 4, rows[i].phone);
		rc = store_step_done(st, s, error);
	}
	sqlite3_finalize(s);
	return rc;
}

/* One "registry" event per draft whose accounts changed status. */
static int review_registry_events(struct store *st, GArray *before, GArray *after,
				  const char *actor, int64_t at, unsigned *changed_r,
				  GError **error)
{
	g_autoptr(GString) detail = g_string_new(NULL);
	for (guint i = 0; i < before->len && i < after->len; i++) {
		const struct review_claim *b = &g_array_index(before, struct review_claim, i);
		const struct review_claim *a = &g_array_index(after, struct review_claim, i);
		if (b->in_registry != a->in_registry)
			g_string_append_printf(detail, "%s%s %s the customer registry",
					       detail->len ? "; " : "", a->value,
					       a->in_registry ? "now in" : "no longer in");
		bool last = i + 1 == after->len ||
			g_array_index(after, struct review_claim, i + 1).complaint_id != a->complaint_id;
		if (!last || detail->len == 0)
			continue;
		if (store_event(st, a->complaint_id, at, actor, "registry", detail->str, error) < 0)
			return -1;
		(*changed_r)++;
		g_string_truncate(detail, 0);
	}
	return 0;
}

/* The import itself, an event of no complaint. */
static int review_import_event(struct store *st, const char *actor, int64_t at,
			       const char *detail, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"INSERT INTO events (complaint_id, at, actor, kind, detail)"
		" VALUES (NULL, ?, ?, 'customers_imported', ?)", error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, at);
	store_bind_text(s, 2, actor);
	store_bind_text(s, 3, detail);
	int rc = store_step_done(st, s, error);
	sqlite3_finalize(s);
	return rc;
}

static int review_import_tx(struct store *st, const struct store_customer *rows, size_t n,
			    bool replace, const char *actor, const char *what, int64_t at,
			    unsigned *changed_r, GError **error)
{
	GArray *before = review_claims(st, error), *after = NULL;
	char *detail = NULL;
	int rc = -1;
	if (before == NULL || review_put_customers(st, rows, n, replace, error) < 0 ||
	    (after = review_claims(st, error)) == NULL ||
	    review_registry_events(st, before, after, actor, at, changed_r, error) < 0)
		goto out;
	detail = g_strdup_printf(
		"%zu customer(s) from %s (%s); %u draft(s) changed registry status", n,
		what != NULL ? what : "?", replace ? "registry replaced" : "inserted or updated",
		*changed_r);
	rc = review_import_event(st, actor, at, detail, error);
out:
	g_free(detail);
	if (before != NULL)
		g_array_unref(before);
	if (after != NULL)
		g_array_unref(after);
	return rc;
}

int store_customers_import(struct store *st, const struct store_customer *rows, size_t n,
			   bool replace, const char *actor, const char *what, int64_t at,
			   unsigned *drafts_changed_r, GError **error)
{
	unsigned changed = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].account == NULL || *rows[i].account == '\0') {
			g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
				    "customer %zu has no account number", i + 1);
			return -1;
		}
	if (store_tx_begin(st, false, error) < 0)
		return -1;
	if (review_import_tx(st, rows, n, replace, actor, what, at, &changed, error) < 0 ||
	    store_tx_commit(st, false, error) < 0) {
		store_tx_rollback(st, false);
		return -1;
	}
	if (drafts_changed_r != NULL)
		*drafts_changed_r = changed;
	return (int)n;
}

int store_customer_lookup(struct store *st, const char *account, char **name_r, GError **error)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT name FROM customers WHERE account = ?", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, account);
	int rc = sqlite3_step(s), found = 0;
	if (rc == SQLITE_ROW) {
		found = 1;
		if (name_r != NULL)
			*name_r = store_col_text(s, 0);
	} else if (rc != SQLITE_DONE) {
		found = store_fail(st, error, "looking up the customer registry");
	}
	sqlite3_finalize(s);
	return found;
}
