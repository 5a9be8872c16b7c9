/* The state of each source (mailbox, drop folder) in table source_state:
   progress kept across restarts (UIDVALIDITY, last UID) and what `intake
   status` shows (last poll, last error, counts). See store.h, "Source state". */
#include "store/store.h"
#include "store/store-internal.h"

#include <string.h>

void store_source_state_clear(struct store_source_state *s)
{
	if (s == NULL)
		return;
	g_free(s->name);
	g_free(s->kind);
	g_free(s->state);
	g_free(s->last_error);
	memset(s, 0, sizeof *s);
}

static void store_source_state_free(gpointer p)
{
	store_source_state_clear(p);
	g_free(p);
}

#define STORE_STATE_COLUMNS \
	"name, kind, state, uidvalidity, last_uid, last_poll_at, last_ok_at, last_error," \
	" last_error_at, ingested, backlog"

static void store_read_state(sqlite3_stmt *s, struct store_source_state *out)
{
	out->name = store_col_text(s, 0);
	out->kind = store_col_text(s, 1);
	out->state = store_col_text(s, 2);
	out->uidvalidity = sqlite3_column_int64(s, 3);
	out->last_uid = sqlite3_column_int64(s, 4);
	out->last_poll_at = sqlite3_column_int64(s, 5);
	out->last_ok_at = sqlite3_column_int64(s, 6);
	out->last_error = store_col_text(s, 7);
	out->last_error_at = sqlite3_column_int64(s, 8);
	out->ingested = sqlite3_column_int64(s, 9);
	out->backlog = sqlite3_column_int64(s, 10);
}

int store_source_state_get(struct store *st, const char *name, const char *kind,
			   struct store_source_state *out, GError **error)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " STORE_STATE_COLUMNS " FROM source_state WHERE name = ?", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, name);
	int rc = sqlite3_step(s), found = 0;
	if (rc == SQLITE_ROW) {
		store_read_state(s, out);
		found = 1;
	} else if (rc == SQLITE_DONE) {
		out->name = g_strdup(name);
		out->kind = g_strdup(kind);
		out->state = g_strdup("new");
	} else {
		found = store_fail(st, error, "reading the source state");
	}
	sqlite3_finalize(s);
	return found;
}

static void store_bind_time(sqlite3_stmt *s, int i, int64_t t)
{
	if (t == 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, t);
}

int store_source_state_put(struct store *st, const struct store_source_state *v,
			   GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT OR REPLACE INTO source_state (" STORE_STATE_COLUMNS ")"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?)", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, v->name);
	store_bind_text(s, 2, v->kind);
	store_bind_text(s, 3, v->state != NULL ? v->state : "ok");
	store_bind_time(s, 4, v->uidvalidity);
	sqlite3_bind_int64(s, 5, v->last_uid);
	store_bind_time(s, 6, v->last_poll_at);
	store_bind_time(s, 7, v->last_ok_at);
	store_bind_text(s, 8, v->last_error);
	store_bind_time(s, 9, v->last_error_at);
	sqlite3_bind_int64(s, 10, v->ingested);
	sqlite3_bind_int64(s, 11, v->backlog);
	int rc = store_step_done(st, s, error);
	store_cached_done(s);
	return rc;
}

GPtrArray *store_source_state_list(struct store *st, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " STORE_STATE_COLUMNS " FROM source_state ORDER BY name", error);
	if (s == NULL)
		return NULL;
	GPtrArray *list = g_ptr_array_new_with_free_func(store_source_state_free);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_source_state *v = g_new0(struct store_source_state, 1);
		store_read_state(s, v);
		g_ptr_array_add(list, v);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, error, "listing the source states");
		g_ptr_array_unref(list);
		return NULL;
	}
	return list;
}

/* Steps a cached query whose answer is whether it has a row: 1, 0 or -1. */
static int store_exists(struct store *st, sqlite3_stmt *s, const char *what, GError **error)
{
	int rc = sqlite3_step(s);
	int found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail(st, error, what);
	store_cached_done(s);
	return found;
}

int store_source_origin_known(struct store *st, const char *origin, GError **error)
{
	sqlite3_stmt *s = store_cached(st, "SELECT 1 FROM sources WHERE origin = ?", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, origin);
	return store_exists(st, s, "looking up an origin", error);
}

int store_source_message_id_known(struct store *st, const char *message_id,
				  const char *prefix, const char *except, GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"SELECT 1 FROM sources WHERE message_id = ?1"
		" AND substr(origin, 1, length(?2)) = ?2 AND substr(origin, 1, length(?3)) <> ?3"
		" LIMIT 1", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, message_id);
	store_bind_text(s, 2, prefix);
	store_bind_text(s, 3, except);
	return store_exists(st, s, "looking up a Message-ID", error);
}
