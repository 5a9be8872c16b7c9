/* Internal to store/: the handle and the statement helpers shared by the
   files of the store module (store.c, and one file per further concern).
   Not for use outside store/. */
#ifndef INTAKE_STORE_STORE_INTERNAL_H
#define INTAKE_STORE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "store/store.h"

struct store {
	sqlite3 *db;
	char *path;
	GTimeZone *tz;   /* for times in messages; default the process's zone */
	/* The open group commit (store_group_begin), if any. */
	bool group;
	int64_t group_since;     /* g_get_monotonic_time() at its BEGIN */
	unsigned group_n;        /* writes joined to it */
	uint64_t group_lost;     /* groups rolled back since open */
	store_sync_fn group_sync;
	void *group_sync_ctx;
	GHashTable *cache;       /* SQL text -> sqlite3_stmt*, see store_cached */
};

/* Sets a STORE_ERROR_DB error "PATH: WHAT: sqlite message"; returns -1. */
int store_fail(struct store *st, GError **error, const char *what);
/* Runs SQL without results. Returns 0 or -1. */
int store_exec(struct store *st, const char *sql, GError **error);
/* Prepares a statement; NULL with error. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, GError **error);
/* A write transaction. grouped: the write may join the open group commit
   (a savepoint in it); otherwise an open group is committed first and the
   write gets its own transaction. Returns 0 or -1. */
int store_tx_begin(struct store *st, bool grouped, GError **error);
int store_tx_commit(struct store *st, bool grouped, GError **error);
void store_tx_rollback(struct store *st, bool grouped);
/* A prepared statement kept for the life of the handle, for SQL run once per
   message (sql must be a string constant: its address is the key). Give it
   back with store_cached_done, which resets it. NULL with error. */
sqlite3_stmt *store_cached(struct store *st, const char *sql, GError **error);
void store_cached_done(sqlite3_stmt *s);
/* Binds text, or NULL when v is NULL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* A column as newly allocated text, or NULL. */
char *store_col_text(sqlite3_stmt *s, int i);
/* Steps a statement that returns no rows (or one ignored). Returns 0 or -1. */
int store_step_done(struct store *st, sqlite3_stmt *s, GError **error);
/* Writes one audit event (complaint_id 0: of no one complaint). Returns 0 or -1. */
int store_event(struct store *st, int64_t complaint_id, int64_t at, const char *actor,
		const char *kind, const char *detail, GError **error);

#endif
