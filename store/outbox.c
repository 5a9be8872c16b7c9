/* The outbox: every SQL statement about notices waiting to be sent, sent,
   failed or rendered for the post; see "Outbox" in store.h. Each change of a
   notice that belongs to a complaint leaves an event on that complaint. */
#include "store/store.h"
#include "store/store-internal.h"

#include <string.h>

#define STORE_OUTBOX_COLUMNS \
	"o.id, c.ref, o.kind, o.recipient, o.message_id, o.in_reply_to, o.subject, o.body," \
	" o.print_path, o.state, o.attempts, o.next_attempt_at, o.created_at, o.sent_at," \
	" o.last_error, c.complainant_name, c.complainant_address"
#define STORE_OUTBOX_FROM " FROM outbox o LEFT JOIN complaints c ON c.id = o.complaint_id"

void store_outbox_row_free(struct store_outbox_row *r)
{
	if (r == NULL)
		return;
	g_free(r->ref);
	g_free(r->kind);
	g_free(r->recipient);
	g_free(r->message_id);
	g_free(r->in_reply_to);
	g_free(r->subject);
	g_free(r->body);
	g_free(r->print_path);
	g_free(r->state);
	g_free(r->last_error);
	g_free(r->name);
	g_free(r->address);
	g_free(r);
}

static struct store_outbox_row *store_outbox_read(sqlite3_stmt *s)
{
	struct store_outbox_row *r = g_new0(struct store_outbox_row, 1);
	r->id = sqlite3_column_int64(s, 0);
	r->ref = store_col_text(s, 1);
	r->kind = store_col_text(s, 2);
	r->recipient = store_col_text(s, 3);
	r->message_id = store_col_text(s, 4);
	r->in_reply_to = store_col_text(s, 5);
	r->subject = store_col_text(s, 6);
	r->body = store_col_text(s, 7);
	r->print_path = store_col_text(s, 8);
	r->state = store_col_text(s, 9);
	r->attempts = sqlite3_column_int(s, 10);
	r->next_attempt_at = sqlite3_column_int64(s, 11);
	r->created_at = sqlite3_column_int64(s, 12);
	r->sent_at = sqlite3_column_int64(s, 13);
	r->last_error = store_col_text(s, 14);
	r->name = store_col_text(s, 15);
	r->address = store_col_text(s, 16);
	return r;
}

/* Steps a prepared SELECT of STORE_OUTBOX_COLUMNS into a new list; finalizes it. */
static GPtrArray *store_outbox_rows(struct store *st, sqlite3_stmt *s, GError **error)
{
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)store_outbox_row_free);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		g_ptr_array_add(list, store_outbox_read(s));
	if (rc != SQLITE_DONE) {
		store_fail(st, error, "reading the outbox");
		g_ptr_array_unref(list);
		list = NULL;
	}
	sqlite3_finalize(s);
	return list;
}

/* Records an event on the complaint of outbox row `id`, if it has one. */
static int store_outbox_event(struct store *st, int64_t id, int64_t at, const char *actor,
			      const char *kind, const char *detail, GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO events (complaint_id, at, actor, kind, detail)"
		" SELECT complaint_id, ?, ?, ?, ? FROM outbox WHERE id = ? AND complaint_id IS NOT NULL",
		error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, at);
	store_bind_text(s, 2, actor);
	store_bind_text(s, 3, kind);
	store_bind_text(s, 4, detail);
	sqlite3_bind_int64(s, 5, id);
	int rc = store_step_done(st, s, error);
	store_cached_done(s);
	return rc;
}

/* Notices of this kind to this recipient created in the 24 hours before now;
   -1 on error. */
static int64_t store_outbox_recent(struct store *st, const struct store_notice *n, int64_t now,
				   GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"SELECT count(*) FROM outbox WHERE kind = ? AND lower(recipient) = lower(?)"
		" AND created_at > ?", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, n->kind);
	store_bind_text(s, 2, n->recipient);
	sqlite3_bind_int64(s, 3, now - 86400);
	int64_t count = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) :
							store_fail(st, error, "counting notices");
	store_cached_done(s);
	return count;
}

static int64_t store_outbox_insert(struct store *st, int64_t complaint_id,
				   const struct store_notice *n, int64_t now, GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO outbox (complaint_id, kind, recipient, message_id, subject, body,"
		" in_reply_to, state, attempts, next_attempt_at, created_at)"
		" VALUES (?,?,?,?,?,?,?,'pending',0,?,?)", error);
	if (s == NULL)
		return -1;
	if (complaint_id > 0)
		sqlite3_bind_int64(s, 1, complaint_id);
	else
		sqlite3_bind_null(s, 1);
	store_bind_text(s, 2, n->kind);
	store_bind_text(s, 3, n->recipient);
	store_bind_text(s, 4, n->message_id);
	store_bind_text(s, 5, n->subject);
	store_bind_text(s, 6, n->body);
	store_bind_text(s, 7, n->in_reply_to);
	sqlite3_bind_int64(s, 8, now);
	sqlite3_bind_int64(s, 9, now);
	int64_t id = store_step_done(st, s, error) < 0 ? -1 : sqlite3_last_insert_rowid(st->db);
	store_cached_done(s);
	return id;
}

int store_outbox_queue(struct store *st, int64_t complaint_id, const struct store_notice *n,
		       int64_t now, GError **error)
{
	if (n->max_per_day > 0 && n->recipient != NULL) {
		int64_t recent = store_outbox_recent(st, n, now, error);
		if (recent < 0)
			return -1;
		if (recent >= n->max_per_day) {
			g_autofree char *why = g_strdup_printf(
				"%s not queued: this address already had %" G_GINT64_FORMAT
				" in 24 hours (limit %u)", n->kind, (gint64)recent, n->max_per_day);
			return complaint_id > 0 && store_event(st, complaint_id, now, "intake",
				"notice_suppressed", why, error) < 0 ? -1 : 0;
		}
	}
	int64_t id = store_outbox_insert(st, complaint_id, n, now, error);
	if (id < 0)
		return -1;
	g_autofree char *detail = g_strdup_printf("%s #%" G_GINT64_FORMAT " by %s", n->kind,
						  (gint64)id, n->recipient != NULL ? "e-mail" : "post");
	if (complaint_id > 0 &&
	    store_event(st, complaint_id, now, "intake", "notice_queued", detail, error) < 0)
		return -1;
	return 1;
}

GPtrArray *store_outbox_list(struct store *st, const char *state, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " STORE_OUTBOX_COLUMNS STORE_OUTBOX_FROM
		" WHERE ?1 IS NULL OR o.state = ?1 ORDER BY o.id DESC", error);
	if (s == NULL)
		return NULL;
	store_bind_text(s, 1, state);
	return store_outbox_rows(st, s, error);
}

/* Inside a transaction: the due rows, each leased until now + lease_s. */
static GPtrArray *store_outbox_lease(struct store *st, int64_t now, int64_t lease_s,
				     unsigned max, bool with_mail, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " STORE_OUTBOX_COLUMNS STORE_OUTBOX_FROM
		" WHERE o.state = 'pending' AND o.next_attempt_at <= ?"
		" AND (? OR o.recipient IS NULL) ORDER BY o.next_attempt_at, o.id LIMIT ?", error);
	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, with_mail);
	sqlite3_bind_int64(s, 3, max);
	GPtrArray *rows = store_outbox_rows(st, s, error);
	sqlite3_stmt *u = rows != NULL ? store_prepare(st,
		"UPDATE outbox SET next_attempt_at = ? WHERE id = ?", error) : NULL;
	for (guint i = 0; u != NULL && i < rows->len; i++) {
		struct store_outbox_row *r = rows->pdata[i];
		sqlite3_reset(u);
		sqlite3_bind_int64(u, 1, now + lease_s);
		sqlite3_bind_int64(u, 2, r->id);
		if (store_step_done(st, u, error) < 0)
			g_clear_pointer(&rows, g_ptr_array_unref);
	}
	sqlite3_finalize(u);
	return rows;
}

GPtrArray *store_outbox_claim(struct store *st, int64_t now, int64_t lease_s, unsigned max,
			      bool with_mail, GError **error)
{
	if (store_tx_begin(st, false, error) < 0)
		return NULL;
	GPtrArray *rows = store_outbox_lease(st, now, lease_s, max, with_mail, error);
	if (rows != NULL && store_tx_commit(st, false, error) == 0)
		return rows;
	if (rows != NULL)
		g_ptr_array_unref(rows);
	store_tx_rollback(st, false);
	return NULL;
}

int store_outbox_release(struct store *st, int64_t id, int64_t at, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND state = 'pending'", error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_int64(s, 2, id);
	int rc = store_step_done(st, s, error);
	sqlite3_finalize(s);
	return rc;
}

/* One change of an outbox row: an UPDATE with ?1 = time, ?2 = text and
   ?3 = the row's id, and the event it leaves on the complaint. */
struct store_outbox_change {
	const char *sql;
	int64_t time;
	const char *text;
	const char *event, *detail, *actor;
	int64_t at;
};

static int store_outbox_change_tx(struct store *st, int64_t id,
				  const struct store_outbox_change *c, GError **error)
{
	sqlite3_stmt *s = store_prepare(st, c->sql, error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, c->time);
	store_bind_text(s, 2, c->text);
	sqlite3_bind_int64(s, 3, id);
	int rc = store_step_done(st, s, error);
	sqlite3_finalize(s);
	if (rc < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no notice #%" G_GINT64_FORMAT
			    " in a state that allows this", (gint64)id);
		return -1;
	}
	return store_outbox_event(st, id, c->at, c->actor, c->event, c->detail, error);
}

static int store_outbox_change(struct store *st, int64_t id, const struct store_outbox_change *c,
			       GError **error)
{
	if (store_tx_begin(st, false, error) < 0)
		return -1;
	if (store_outbox_change_tx(st, id, c, error) == 0 && store_tx_commit(st, false, error) == 0)
		return 0;
	store_tx_rollback(st, false);
	return -1;
}

int store_outbox_sent(struct store *st, int64_t id, int64_t now, GError **error)
{
	g_autofree char *detail = g_strdup_printf("notice #%" G_GINT64_FORMAT " accepted by the "
						  "SMTP server", (gint64)id);
	struct store_outbox_change c = {
		.sql = "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?1,"
		       " next_attempt_at = NULL WHERE id = ?3 AND state = 'pending'",
		.time = now, .event = "notice_sent", .detail = detail, .actor = "intake",
		.at = now };
	return store_outbox_change(st, id, &c, error);
}

int store_outbox_attempt_failed(struct store *st, int64_t id, const char *error_text,
				int64_t retry_at, GError **error)
{
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree char *detail = g_strdup_printf("notice #%" G_GINT64_FORMAT " %s: %s",
		(gint64)id, retry_at > 0 ? "not delivered, will retry" : "failed for good",
		error_text);
	struct store_outbox_change c = {
		.sql = "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,"
		       " next_attempt_at = CASE WHEN ?1 > 0 THEN ?1 END,"
		       " state = CASE WHEN ?1 > 0 THEN 'pending' ELSE 'failed' END"
		       " WHERE id = ?3 AND state = 'pending'",
		.time = retry_at, .text = error_text,
		.event = retry_at > 0 ? "notice_retry" : "notice_failed", .detail = detail,
		.actor = "intake", .at = now };
	return store_outbox_change(st, id, &c, error);
}

int store_outbox_printed(struct store *st, int64_t id, const char *path, int64_t now,
			 GError **error)
{
	g_autofree char *detail = g_strdup_printf("notice #%" G_GINT64_FORMAT " rendered for the "
						  "post: %s", (gint64)id, path);
	struct store_outbox_change c = {
		.sql = "UPDATE outbox SET state = 'print', print_path = ?2, attempts = attempts + 1,"
		       " sent_at = ?1, next_attempt_at = NULL WHERE id = ?3 AND state = 'pending'",
		.time = now, .text = path, .event = "notice_printed", .detail = detail,
		.actor = "intake", .at = now };
	return store_outbox_change(st, id, &c, error);
}

/* The state of one row, newly allocated, or NULL when there is none. */
static char *store_outbox_state(struct store *st, int64_t id)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT state FROM outbox WHERE id = ?", NULL);
	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	char *state = sqlite3_step(s) == SQLITE_ROW ? store_col_text(s, 0) : NULL;
	sqlite3_finalize(s);
	return state;
}

int store_outbox_requeue(struct store *st, int64_t id, const char *actor, int64_t now,
			 GError **error)
{
	g_autofree char *state = store_outbox_state(st, id);
	if (state == NULL) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no notice #%" G_GINT64_FORMAT,
			    (gint64)id);
		return -1;
	}
	if (strcmp(state, "failed") != 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_STATE, "notice #%" G_GINT64_FORMAT
			    " is %s, not failed: only a failed notice can be requeued", (gint64)id,
			    state);
		return -1;
	}
	g_autofree char *detail = g_strdup_printf("notice #%" G_GINT64_FORMAT " requeued",
						  (gint64)id);
	struct store_outbox_change c = {
		.sql = "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?1"
		       " WHERE id = ?3 AND state = 'failed'",
		.time = now, .event = "notice_requeued", .detail = detail, .actor = actor,
		.at = now };
	return store_outbox_change(st, id, &c, error);
}

int store_outbox_count(struct store *st, struct store_outbox_counts *out, GError **error)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT state, count(*) FROM outbox GROUP BY state",
					error);
	if (s == NULL)
		return -1;
	memset(out, 0, sizeof *out);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 0);
		int64_t n = sqlite3_column_int64(s, 1);
		if (strcmp(state, "pending") == 0)
			out->pending = n;
		else if (strcmp(state, "sent") == 0)
			out->sent = n;
		else if (strcmp(state, "failed") == 0)
			out->failed = n;
		else if (strcmp(state, "print") == 0)
			out->print = n;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, "counting the outbox");
}
