/* SQLite store, migrations and the complaint state machine; see store.h. */
#include "store/store.h"
#include "store/store-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(intake-store-error-quark, store_error)


/* Migration N takes the schema from version N to N+1. Append only. */
static const char *const store_migrations[] = {
	"CREATE TABLE complaints ("
	" id INTEGER PRIMARY KEY,"
	" ref TEXT NOT NULL UNIQUE,"
	" channel TEXT NOT NULL CHECK (channel IN ('email','letter','fax')),"
	" status TEXT NOT NULL DEFAULT 'draft'"
	"  CHECK (status IN ('draft','accepted','not_accepted','merged')),"
	" received_at INTEGER NOT NULL,"
	" acceptance_due INTEGER NOT NULL,"
	" handling_due INTEGER NOT NULL,"
	" handling_due_extended INTEGER NOT NULL,"
	" calendar_uncertain INTEGER NOT NULL DEFAULT 0,"
	" complainant_name TEXT, complainant_email TEXT, complainant_phone TEXT,"
	" subject TEXT, body TEXT, message_id TEXT,"
	" major INTEGER NOT NULL DEFAULT 0,"
	" suggested_reason TEXT,"
	" reason TEXT, note TEXT, decided_by TEXT, decided_at INTEGER,"
	" merged_into INTEGER REFERENCES complaints(id),"
	" possible_duplicate_of INTEGER REFERENCES complaints(id),"
	" complainant_address TEXT,"
	" notice_by TEXT NOT NULL DEFAULT 'email' CHECK (notice_by IN ('email','post','none')),"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX complaints_due ON complaints(status, acceptance_due);"
	"CREATE TABLE sources ("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" origin TEXT NOT NULL UNIQUE,"
	" sha256 TEXT NOT NULL UNIQUE,"
	" size INTEGER NOT NULL,"
	" spool_path TEXT NOT NULL,"
	" message_id TEXT,"
	" received_at INTEGER NOT NULL,"
	" ingested_at INTEGER NOT NULL,"
	" disposition TEXT NOT NULL,"
	" complaint_id INTEGER REFERENCES complaints(id),"
	" note TEXT);"
	"CREATE INDEX sources_message_id ON sources(message_id);"
	"CREATE TABLE accounts ("
	" id INTEGER PRIMARY KEY,"
	" complaint_id INTEGER NOT NULL REFERENCES complaints(id),"
	" value TEXT NOT NULL, context TEXT,"
	" UNIQUE (complaint_id, value));"
	"CREATE TABLE attachments ("
	" id INTEGER PRIMARY KEY,"
	" complaint_id INTEGER NOT NULL REFERENCES complaints(id),"
	" filename TEXT, declared_type TEXT, detected_type TEXT,"
	" size INTEGER NOT NULL, sha256 TEXT, spool_path TEXT,"
	" risky INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" complaint_id INTEGER REFERENCES complaints(id),"
	" at INTEGER NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT);"
	"CREATE INDEX events_complaint ON events(complaint_id);"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" complaint_id INTEGER REFERENCES complaints(id),"
	" kind TEXT NOT NULL, recipient TEXT,"
	" message_id TEXT NOT NULL UNIQUE, subject TEXT, body TEXT,"
	" in_reply_to TEXT, print_path TEXT,"
	" state TEXT NOT NULL DEFAULT 'pending'"
	"  CHECK (state IN ('pending','sent','failed','print')),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, last_error TEXT,"
	" created_at INTEGER NOT NULL, sent_at INTEGER);"
	"CREATE TABLE customers ("
	" account TEXT PRIMARY KEY, name TEXT, id_number TEXT, phone TEXT, email TEXT);"
	"CREATE TABLE source_state ("
	" name TEXT PRIMARY KEY, kind TEXT NOT NULL,"
	" uidvalidity INTEGER, last_uid INTEGER NOT NULL DEFAULT 0,"
	" last_poll_at INTEGER, last_ok_at INTEGER, last_error TEXT, last_error_at INTEGER,"
	" ingested INTEGER NOT NULL DEFAULT 0, backlog INTEGER NOT NULL DEFAULT 0,"
	" state TEXT NOT NULL DEFAULT 'ok');"
	"CREATE TABLE ref_counters (day TEXT PRIMARY KEY, last INTEGER NOT NULL);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);",
	/* 2: the daily cap counts a recipient's notices, the drainer looks for
	   due ones; without these both scan the whole outbox per message. */
	"CREATE INDEX outbox_recipient ON outbox(lower(recipient), kind, created_at);"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt_at);",
	/* 3: a new complaint is compared with the earlier ones from its address. */
	"CREATE INDEX complaints_email ON complaints(lower(complainant_email), received_at);",
};

int store_fail(struct store *st, GError **error, const char *what)
{
	g_set_error(error, STORE_ERROR, STORE_ERROR_DB, "%s: %s: %s", st->path, what,
		    sqlite3_errmsg(st->db));
	return -1;
}

int store_exec(struct store *st, const char *sql, GError **error)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_DB, "%s: %s", st->path,
			    msg != NULL ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Prepares a statement; NULL with error. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_fail(st, error, "prepare");
		return NULL;
	}
	return stmt;
}

sqlite3_stmt *store_cached(struct store *st, const char *sql, GError **error)
{
	sqlite3_stmt *stmt = g_hash_table_lookup(st->cache, sql);
	if (stmt != NULL)
		return stmt;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
	    SQLITE_OK) {
		store_fail(st, error, "prepare");
		return NULL;
	}
	g_hash_table_insert(st->cache, (gpointer)sql, stmt);
	return stmt;
}

void store_cached_done(sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* ---- transactions and the group commit ---- */

int store_group_begin(struct store *st, store_sync_fn sync, void *ctx, GError **error)
{
	if (st->group)
		return 0;
	if (store_exec(st, "BEGIN IMMEDIATE", error) < 0)
		return -1;
	st->group = true;
	st->group_since = g_get_monotonic_time();
	st->group_n = 0;
	st->group_sync = sync;
	st->group_sync_ctx = ctx;
	return 0;
}

static void store_group_drop(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->group = false;
	st->group_lost++;
}

int store_group_commit(struct store *st, GError **error)
{
	if (!st->group)
		return 0;
	if ((st->group_sync != NULL && st->group_sync(st->group_sync_ctx, error) < 0) ||
	    store_exec(st, "COMMIT", error) < 0) {
		store_group_drop(st);
		return -1;
	}
	st->group = false;
	return 0;
}

bool store_group_open(const struct store *st) { return st->group; }
int64_t store_group_age(const struct store *st)
{
	return st->group ? g_get_monotonic_time() - st->group_since : 0;
}
unsigned store_group_size(const struct store *st) { return st->group ? st->group_n : 0; }
uint64_t store_group_lost(const struct store *st) { return st->group_lost; }

int store_tx_begin(struct store *st, bool grouped, GError **error)
{
	if (st->group && grouped)
		return store_exec(st, "SAVEPOINT grouped", error);
	if (store_group_commit(st, error) < 0)
		return -1;
	return store_exec(st, "BEGIN IMMEDIATE", error);
}

int store_tx_commit(struct store *st, bool grouped, GError **error)
{
	if (!(st->group && grouped))
		return store_exec(st, "COMMIT", error);
	if (store_exec(st, "RELEASE grouped", error) < 0)
		return -1;
	st->group_n++;
	return 0;
}

/* A failed statement may have rolled back the whole transaction by itself
   (SQLITE_FULL, SQLITE_IOERR ...): then the group is gone too. */
void store_tx_rollback(struct store *st, bool grouped)
{
	if (!(st->group && grouped)) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	if (sqlite3_get_autocommit(st->db) ||
	    sqlite3_exec(st->db, "ROLLBACK TO grouped; RELEASE grouped", NULL, NULL, NULL) !=
		    SQLITE_OK)
		store_group_drop(st);
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

char *store_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t != NULL ? g_strdup((const char *)t) : NULL;
}

static int store_version(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

int store_schema_version(struct store *st)
{
	return store_version(st);
}

static int store_migrate(struct store *st, GError **error)
{
	int v = store_version(st);
	int known = (int)G_N_ELEMENTS(store_migrations);
	if (v < 0)
		return store_fail(st, error, "reading the schema version");
	if (v > known) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA,
			    "%s: database schema %d is newer than this intake (%d); upgrade intake",
			    st->path, v, known);
		return -1;
	}
	/* Each step re-reads the version under the write lock: another process
	   opening the same new database (the daemon and a CLI command started
	   together) may have migrated it meanwhile. */
	while (v < known) {
		if (store_exec(st, "BEGIN IMMEDIATE", error) < 0)
			return -1;
		int now = store_version(st);
		if (now != v) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			if (now < 0)
				return store_fail(st, error, "reading the schema version");
			v = now;
			continue;
		}
		g_autofree char *sql = g_strdup_printf("%s; PRAGMA user_version = %d; COMMIT;",
						       store_migrations[v], v + 1);
		if (store_exec(st, sql, error) < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		v++;
	}
	return 0;
}

/* Creates the file with mode 0600 before SQLite opens it. */
static int store_create_file(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_DB, "mkdir(%s) failed: %s", dir,
			    g_strerror(errno));
		return -1;
	}
	/* Never open() and close() an existing database: close() drops every
	   POSIX lock this process holds on the file, including those of another
	   open connection (a SIGHUP reload), which then writes unlocked. */
	if (g_file_test(path, G_FILE_TEST_EXISTS))
		return 0;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_DB, "open(%s) failed: %s", path,
			    g_strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static void store_stmt_free(gpointer p)
{
	sqlite3_finalize(p);
}

/* Switches a new database to WAL. Connections opening it at the same moment
   get SQLITE_BUSY at once, without the busy handler: retried here for up to
   about 10 s, as the busy timeout would. */
static int store_wal(struct store *st, GError **error)
{
	for (int i = 0;; i++) {
		int rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || i >= 500)
			return store_fail(st, error, "setting WAL mode");
		g_usleep(20000);
	}
}

struct store *store_open(const char *path, GError **error)
{
	if (store_create_file(path, error) < 0)
		return NULL;
	struct store *st = g_new0(struct store, 1);
	st->path = g_strdup(path);
	st->tz = g_time_zone_new_local();
	st->cache = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, store_stmt_free);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		store_fail(st, error, "open");
		store_free(st);
		return NULL;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (store_wal(st, error) < 0 ||
	    store_exec(st, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
			   "PRAGMA cache_size = -8192;", error) < 0 ||
	    store_migrate(st, error) < 0) {
		store_free(st);
		return NULL;
	}
	return st;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	if (st->group) {
		GError *err = NULL;
		if (store_group_commit(st, &err) < 0)
			g_warning("%s", err->message);
		g_clear_error(&err);
	}
	if (st->cache != NULL)
		g_hash_table_destroy(st->cache);
	sqlite3_close(st->db);
	g_free(st->path);
	g_time_zone_unref(st->tz);
	g_free(st);
}

void store_set_timezone(struct store *st, GTimeZone *tz)
{
	g_time_zone_unref(st->tz);
	st->tz = g_time_zone_ref(tz);
}

/* Runs a statement that returns no rows; binds are already set. */
int store_step_done(struct store *st, sqlite3_stmt *s, GError **error)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(st, error, "step");
	return 0;
}

int store_event(struct store *st, int64_t complaint_id, int64_t at, const char *actor,
		       const char *kind, const char *detail, GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO events (complaint_id, at, actor, kind, detail) VALUES (?,?,?,?,?)", error);
	if (s == NULL)
		return -1;
	if (complaint_id > 0)
		sqlite3_bind_int64(s, 1, complaint_id);
	else
		sqlite3_bind_null(s, 1);   /* an event of the whole store (an import, a digest) */
	sqlite3_bind_int64(s, 2, at);
	store_bind_text(s, 3, actor);
	store_bind_text(s, 4, kind);
	store_bind_text(s, 5, detail);
	int rc = store_step_done(st, s, error);
	store_cached_done(s);
	return rc;
}

int store_find_source(struct store *st, const char *origin, const char *sha256, char **ref_r,
		      GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"SELECT c.ref FROM sources s LEFT JOIN complaints c ON c.id = s.complaint_id"
		" WHERE s.origin = ? OR s.sha256 = ? LIMIT 1", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, origin);
	store_bind_text(s, 2, sha256);
	int rc = sqlite3_step(s), found = 0;
	if (rc == SQLITE_ROW) {
		*ref_r = store_col_text(s, 0);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		found = store_fail(st, error, "looking up a source");
	}
	store_cached_done(s);
	return found;
}

/* Takes the next number of the day; returns the reference or NULL. */
static char *store_next_ref(struct store *st, const char *prefix, const char *day, GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO ref_counters (day, last) VALUES (?, 1)"
		" ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last", error);
	if (s == NULL)
		return NULL;
	store_bind_text(s, 1, day);
	char *ref = NULL;
	if (sqlite3_step(s) == SQLITE_ROW)
		ref = g_strdup_printf("%s%s-%04d", prefix, day, sqlite3_column_int(s, 0));
	else
		store_fail(st, error, "numbering the reference");
	store_cached_done(s);
	return ref;
}

static int64_t store_insert_complaint(struct store *st, const struct store_source *src,
				      const struct store_draft *d, const char *ref, int64_t now,
				      GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO complaints (ref, channel, received_at, acceptance_due, handling_due,"
		" handling_due_extended, calendar_uncertain, complainant_name, complainant_email,"
		" complainant_phone, subject, body, message_id, major, created_at, notice_by,"
		" possible_duplicate_of)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, ref);
	store_bind_text(s, 2, d->channel);
	sqlite3_bind_int64(s, 3, src->received_at);
	sqlite3_bind_int64(s, 4, d->acceptance_due);
	sqlite3_bind_int64(s, 5, d->handling_due);
	sqlite3_bind_int64(s, 6, d->handling_due_extended);
	sqlite3_bind_int(s, 7, d->calendar_uncertain);
	store_bind_text(s, 8, d->name);
	store_bind_text(s, 9, d->email);
	store_bind_text(s, 10, d->phone);
	store_bind_text(s, 11, d->subject);
	store_bind_text(s, 12, d->body);
	store_bind_text(s, 13, d->message_id);
	sqlite3_bind_int(s, 14, d->major);
	sqlite3_bind_int64(s, 15, now);
	store_bind_text(s, 16, d->notice_by != NULL ? d->notice_by : "email");
	if (d->possible_duplicate_of > 0)
		sqlite3_bind_int64(s, 17, d->possible_duplicate_of);
	else
		sqlite3_bind_null(s, 17);
	int64_t id = store_step_done(st, s, error) < 0 ? -1 : sqlite3_last_insert_rowid(st->db);
	store_cached_done(s);
	return id;
}

static int store_insert_source(struct store *st, const struct store_source *src,
			       int64_t complaint_id, int64_t now, GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO sources (kind, origin, sha256, size, spool_path, message_id,"
		" received_at, ingested_at, disposition, complaint_id, note)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?)", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, src->kind);
	store_bind_text(s, 2, src->origin);
	store_bind_text(s, 3, src->sha256);
	sqlite3_bind_int64(s, 4, src->size);
	store_bind_text(s, 5, src->spool_path);
	store_bind_text(s, 6, src->message_id);
	sqlite3_bind_int64(s, 7, src->received_at);
	sqlite3_bind_int64(s, 8, now);
	store_bind_text(s, 9, complaint_id > 0 ? "draft" : src->disposition);
	if (complaint_id > 0)
		sqlite3_bind_int64(s, 10, complaint_id);
	else
		sqlite3_bind_null(s, 10);
	store_bind_text(s, 11, src->note);
	int rc = store_step_done(st, s, error);
	store_cached_done(s);
	return rc;
}

static int store_insert_accounts(struct store *st, int64_t cid, const struct store_draft *d,
				 GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT OR IGNORE INTO accounts (complaint_id, value, context) VALUES (?,?,?)", error);
	if (s == NULL)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < d->n_accounts && rc == 0; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, cid);
		store_bind_text(s, 2, d->accounts[i].value);
		store_bind_text(s, 3, d->accounts[i].context);
		rc = store_step_done(st, s, error);
	}
	store_cached_done(s);
	return rc;
}

static int store_insert_attachments(struct store *st, int64_t cid, const struct store_draft *d,
				    GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO attachments (complaint_id, filename, declared_type, detected_type,"
		" size, sha256, spool_path, risky) VALUES (?,?,?,?,?,?,?,?)", error);
	if (s == NULL)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < d->n_attachments && rc == 0; i++) {
		const struct store_attachment *a = &d->attachments[i];
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, cid);
		store_bind_text(s, 2, a->filename);
		store_bind_text(s, 3, a->declared_type);
		store_bind_text(s, 4, a->detected_type);
		sqlite3_bind_int64(s, 5, a->size);
		store_bind_text(s, 6, a->sha256);
		store_bind_text(s, 7, a->spool_path);
		sqlite3_bind_int(s, 8, a->risky);
		rc = store_step_done(st, s, error);
	}
	store_cached_done(s);
	return rc;
}

/* The body of store_ingest, inside its transaction. */
static int store_ingest_tx(struct store *st, const struct store_source *src,
			   const struct store_draft *d, char **ref_r, GError **error)
{
	int found = store_find_source(st, src->origin, src->sha256, ref_r, error);
	if (found != 0)
		return found < 0 ? -1 : 0;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree char *ref = store_next_ref(st, d->ref_prefix, d->ref_day, error);
	if (ref == NULL)
		return -1;
	int64_t cid = store_insert_complaint(st, src, d, ref, now, error);
	if (cid < 0 || store_insert_source(st, src, cid, now, error) < 0 ||
	    store_insert_accounts(st, cid, d, error) < 0 ||
	    store_insert_attachments(st, cid, d, error) < 0)
		return -1;
	g_autofree char *detail = g_strdup_printf("draft from %s %s", src->kind, src->origin);
	if (store_event(st, cid, now, d->actor, "created", detail, error) < 0)
		return -1;
	const struct store_notice *n = d->notice != NULL ? d->notice(ref, d->notice_ctx) : NULL;
	if (n != NULL && store_outbox_queue(st, cid, n, now, error) < 0)
		return -1;
	*ref_r = g_steal_pointer(&ref);
	return 1;
}

static int store_record_source_tx(struct store *st, const struct store_source *src,
				  GError **error)
{
	g_autofree char *ref = NULL;
	int found = store_find_source(st, src->origin, src->sha256, &ref, error);
	if (found != 0)
		return found < 0 ? -1 : 0;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	return store_insert_source(st, src, 0, now, error) < 0 ? -1 : 1;
}

int store_record_source(struct store *st, const struct store_source *src, GError **error)
{
	if (store_tx_begin(st, src->group, error) < 0)
		return -1;
	int rc = store_record_source_tx(st, src, error);
	if (rc >= 0 && store_tx_commit(st, src->group, error) == 0)
		return rc;
	store_tx_rollback(st, src->group);
	return -1;
}

int store_ingest(struct store *st, const struct store_source *src, const struct store_draft *d,
		 char **ref_r, GError **error)
{
	*ref_r = NULL;
	if (store_tx_begin(st, src->group, error) < 0)
		return -1;
	int rc = store_ingest_tx(st, src, d, ref_r, error);
	if (rc >= 0 && store_tx_commit(st, src->group, error) == 0)
		return rc;
	store_tx_rollback(st, src->group);
	g_clear_pointer(ref_r, g_free);
	return -1;
}

static void store_account_free(gpointer p)
{
	struct store_complaint_account *a = p;
	g_free(a->value);
	g_free(a->context);
	g_free(a);
}

static void store_attachment_free(gpointer p)
{
	struct store_complaint_attachment *a = p;
	g_free(a->filename);
	g_free(a->declared_type);
	g_free(a->detected_type);
	g_free(a->sha256);
	g_free(a->spool_path);
	g_free(a);
}

static void store_event_free(gpointer p)
{
	struct store_event *e = p;
	g_free(e->actor);
	g_free(e->kind);
	g_free(e->detail);
	g_free(e);
}

static void store_csource_free(gpointer p)
{
	struct store_complaint_source *s = p;
	g_free(s->kind);
	g_free(s->origin);
	g_free(s->sha256);
	g_free(s->spool_path);
	g_free(s->note);
	g_free(s);
}

void store_complaint_free(struct store_complaint *c)
{
	if (c == NULL)
		return;
	g_free(c->ref);
	g_free(c->channel);
	g_free(c->status);
	g_free(c->name);
	g_free(c->email);
	g_free(c->phone);
	g_free(c->subject);
	g_free(c->body);
	g_free(c->message_id);
	g_free(c->reason);
	g_free(c->note);
	g_free(c->decided_by);
	g_free(c->merged_into);
	g_free(c->notice_by);
	g_free(c->possible_duplicate_of);
	g_clear_pointer(&c->accounts, g_ptr_array_unref);
	g_clear_pointer(&c->attachments, g_ptr_array_unref);
	g_clear_pointer(&c->events, g_ptr_array_unref);
	g_clear_pointer(&c->sources, g_ptr_array_unref);
	g_free(c);
}

#define STORE_COMPLAINT_COLUMNS \
	"c.id, c.ref, c.channel, c.status, c.received_at, c.acceptance_due, c.handling_due," \
	" c.handling_due_extended, c.calendar_uncertain, c.major, c.complainant_name," \
	" c.complainant_email, c.complainant_phone, c.subject, c.body, c.message_id, c.reason," \
	" c.note, c.decided_by, (SELECT m.ref FROM complaints m WHERE m.id = c.merged_into)," \
	" c.decided_at, c.created_at, c.notice_by," \
	" (SELECT d.ref FROM complaints d WHERE d.id = c.possible_duplicate_of)"

static struct store_complaint *store_read_complaint(sqlite3_stmt *s)
{
	struct store_complaint *c = g_new0(struct store_complaint, 1);
	c->id = sqlite3_column_int64(s, 0);
	c->ref = store_col_text(s, 1);
	c->channel = store_col_text(s, 2);
	c->status = store_col_text(s, 3);
	c->received_at = sqlite3_column_int64(s, 4);
	c->acceptance_due = sqlite3_column_int64(s, 5);
	c->handling_due = sqlite3_column_int64(s, 6);
	c->handling_due_extended = sqlite3_column_int64(s, 7);
	c->calendar_uncertain = sqlite3_column_int(s, 8) != 0;
	c->major = sqlite3_column_int(s, 9) != 0;
	c->name = store_col_text(s, 10);
	c->email = store_col_text(s, 11);
	c->phone = store_col_text(s, 12);
	c->subject = store_col_text(s, 13);
	c->body = store_col_text(s, 14);
	c->message_id = store_col_text(s, 15);
	c->reason = store_col_text(s, 16);
	c->note = store_col_text(s, 17);
	c->decided_by = store_col_text(s, 18);
	c->merged_into = store_col_text(s, 19);
	c->decided_at = sqlite3_column_int64(s, 20);
	c->created_at = sqlite3_column_int64(s, 21);
	c->notice_by = store_col_text(s, 22);
	c->possible_duplicate_of = store_col_text(s, 23);
	c->accounts = g_ptr_array_new_with_free_func(store_account_free);
	return c;
}

static int store_load_accounts(struct store *st, struct store_complaint *c, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT a.value, a.context, EXISTS (SELECT 1 FROM customers k WHERE k.account = a.value)"
		" FROM accounts a WHERE a.complaint_id = ? ORDER BY a.id", error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, c->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct store_complaint_account *a = g_new0(struct store_complaint_account, 1);
		a->value = store_col_text(s, 0);
		a->context = store_col_text(s, 1);
		a->in_registry = sqlite3_column_int(s, 2) != 0;
		g_ptr_array_add(c->accounts, a);
	}
	sqlite3_finalize(s);
	return 0;
}

static int store_load_attachments(struct store *st, struct store_complaint *c, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT filename, declared_type, detected_type, size, sha256, spool_path, risky"
		" FROM attachments WHERE complaint_id = ? ORDER BY id", error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, c->id);
	c->attachments = g_ptr_array_new_with_free_func(store_attachment_free);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct store_complaint_attachment *a = g_new0(struct store_complaint_attachment, 1);
		a->filename = store_col_text(s, 0);
		a->declared_type = store_col_text(s, 1);
		a->detected_type = store_col_text(s, 2);
		a->size = sqlite3_column_int64(s, 3);
		a->sha256 = store_col_text(s, 4);
		a->spool_path = store_col_text(s, 5);
		a->risky = sqlite3_column_int(s, 6) != 0;
		g_ptr_array_add(c->attachments, a);
	}
	sqlite3_finalize(s);
	return 0;
}

static int store_load_events(struct store *st, struct store_complaint *c, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT at, actor, kind, detail FROM events WHERE complaint_id = ? ORDER BY id", error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, c->id);
	c->events = g_ptr_array_new_with_free_func(store_event_free);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct store_event *e = g_new0(struct store_event, 1);
		e->at = sqlite3_column_int64(s, 0);
		e->actor = store_col_text(s, 1);
		e->kind = store_col_text(s, 2);
		e->detail = store_col_text(s, 3);
		g_ptr_array_add(c->events, e);
	}
	sqlite3_finalize(s);
	return 0;
}

static int store_load_sources(struct store *st, struct store_complaint *c, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT kind, origin, sha256, spool_path, received_at, note FROM sources"
		" WHERE complaint_id = ? ORDER BY id", error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, c->id);
	c->sources = g_ptr_array_new_with_free_func(store_csource_free);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct store_complaint_source *src = g_new0(struct store_complaint_source, 1);
		src->kind = store_col_text(s, 0);
		src->origin = store_col_text(s, 1);
		src->sha256 = store_col_text(s, 2);
		src->spool_path = store_col_text(s, 3);
		src->received_at = sqlite3_column_int64(s, 4);
		src->note = store_col_text(s, 5);
		g_ptr_array_add(c->sources, src);
	}
	sqlite3_finalize(s);
	return 0;
}

GPtrArray *store_list_drafts(struct store *st, const char *channel, int64_t due_before,
			     GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " STORE_COMPLAINT_COLUMNS " FROM complaints c WHERE c.status = 'draft'"
		" AND (?1 IS NULL OR c.channel = ?1) AND (?2 = 0 OR c.acceptance_due <= ?2)"
		" ORDER BY c.acceptance_due, c.ref", error);
	if (s == NULL)
		return NULL;
	store_bind_text(s, 1, channel);
	sqlite3_bind_int64(s, 2, due_before);
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)store_complaint_free);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		g_ptr_array_add(list, store_read_complaint(s));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, error, "listing drafts");
		g_ptr_array_unref(list);
		return NULL;
	}
	for (guint i = 0; i < list->len; i++)
		store_load_accounts(st, list->pdata[i], NULL);
	return list;
}

struct store_complaint *store_get(struct store *st, const char *ref, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " STORE_COMPLAINT_COLUMNS " FROM complaints c WHERE c.ref = ?", error);
	if (s == NULL)
		return NULL;
	store_bind_text(s, 1, ref);
	struct store_complaint *c = NULL;
	if (sqlite3_step(s) == SQLITE_ROW)
		c = store_read_complaint(s);
	sqlite3_finalize(s);
	if (c == NULL) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no complaint %s", ref);
		return NULL;
	}
	if (store_load_accounts(st, c, error) < 0 || store_load_attachments(st, c, error) < 0 ||
	    store_load_events(st, c, error) < 0 || store_load_sources(st, c, error) < 0) {
		store_complaint_free(c);
		return NULL;
	}
	return c;
}

static const char *const store_reasons[] = {
	"not_customer", "agent_unauthorized", "duplicate", "in_proceedings", "no_substance",
	"incomplete", "other", NULL };

static int store_coded_error(GError **error, int code, const char *fmt, va_list ap)
	G_GNUC_PRINTF(3, 0);
static int store_coded_error(GError **error, int code, const char *fmt, va_list ap)
{
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	g_set_error_literal(error, STORE_ERROR, code, msg);
	return -1;
}

/* A transition refused because of the complaint's state. */
static int store_state_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int store_state_error(GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	store_coded_error(error, STORE_ERROR_STATE, fmt, ap);
	va_end(ap);
	return -1;
}

/* A decision that is wrong in itself (unknown reason, missing note). */
static int store_invalid_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int store_invalid_error(GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	store_coded_error(error, STORE_ERROR_INVALID, fmt, ap);
	va_end(ap);
	return -1;
}

/* Checks the decision itself, before any database access. */
static int store_check_decision(const char *ref, const struct store_decision *dec, GError **error)
{
	if (strcmp(dec->status, "accepted") == 0)
		return 0;
	if (strcmp(dec->status, "merged") == 0) {
		if (dec->merged_into == NULL || strcmp(dec->merged_into, ref) == 0)
			return store_invalid_error(error, "%s cannot be merged into itself", ref);
		return 0;
	}
	if (strcmp(dec->status, "not_accepted") != 0)
		return store_invalid_error(error, "unknown decision \"%s\"", dec->status);
	if (dec->reason == NULL || !g_strv_contains(store_reasons, dec->reason)) {
		g_autofree char *codes = g_strjoinv(", ", (char **)store_reasons);
		return store_invalid_error(error, "unknown reason \"%s\": expected one of %s",
					 dec->reason != NULL ? dec->reason : "", codes);
	}
	if (strcmp(dec->reason, "other") == 0 && (dec->note == NULL || *dec->note == '\0'))
		return store_invalid_error(error, "reason \"other\" needs a note saying why");
	return 0;
}

/* Finds the complaint; a decided one is refused, naming who decided first. */
static int64_t store_draft_id(struct store *st, const char *ref, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT id, status, decided_by, decided_at FROM complaints WHERE ref = ?", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, ref);
	int64_t id = -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no complaint %s", ref);
	} else if (strcmp((const char *)sqlite3_column_text(s, 1), "draft") != 0) {
		g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(sqlite3_column_int64(s, 3));
		g_autoptr(GDateTime) at = g_date_time_to_timezone(utc, st->tz);
		g_autofree char *when = g_date_time_format(at, "%Y-%m-%d %H:%M:%S %:z");
		const unsigned char *by = sqlite3_column_text(s, 2);
		store_state_error(error, "%s was already decided (%s) by %s at %s", ref,
				  sqlite3_column_text(s, 1), by != NULL ? (const char *)by : "?", when);
	} else {
		id = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return id;
}

/* The target of a merge: it must exist and not itself be merged away. */
static int64_t store_merge_target(struct store *st, const char *ref, GError **error)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT id, status FROM complaints WHERE ref = ?", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, ref);
	int64_t id = -1;
	if (sqlite3_step(s) != SQLITE_ROW)
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no complaint %s to merge into",
			    ref);
	else if (strcmp((const char *)sqlite3_column_text(s, 1), "merged") == 0)
		store_state_error(error, "%s is itself merged into another complaint", ref);
	else
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return id;
}

static int store_decide_tx(struct store *st, const char *ref, const struct store_decision *dec,
			   GError **error)
{
	int64_t id = store_draft_id(st, ref, error), into = 0;
	if (id < 0)
		return -1;
	if (strcmp(dec->status, "merged") == 0 &&
	    (into = store_merge_target(st, dec->merged_into, error)) < 0)
		return -1;
	sqlite3_stmt *s = store_prepare(st,
		"UPDATE complaints SET status = ?, reason = ?, note = ?, decided_by = ?,"
		" decided_at = ?, merged_into = ? WHERE id = ? AND status = 'draft'", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, dec->status);
	store_bind_text(s, 2, dec->reason);
	store_bind_text(s, 3, dec->note);
	store_bind_text(s, 4, dec->actor);
	sqlite3_bind_int64(s, 5, dec->at);
	if (into > 0)
		sqlite3_bind_int64(s, 6, into);
	else
		sqlite3_bind_null(s, 6);
	sqlite3_bind_int64(s, 7, id);
	int rc = store_step_done(st, s, error);
	sqlite3_finalize(s);
	if (rc < 0)
		return -1;
	g_autofree char *detail = g_strdup_printf("%s%s%s%s%s", dec->reason ? dec->reason : "",
		dec->merged_into ? "into " : "", dec->merged_into ? dec->merged_into : "",
		dec->note ? (dec->reason || dec->merged_into ? ": " : "") : "",
		dec->note ? dec->note : "");
	if (store_event(st, id, dec->at, dec->actor, dec->status, detail, error) < 0)
		return -1;
	return dec->notice != NULL && store_outbox_queue(st, id, dec->notice, dec->at, error) < 0 ?
		-1 : 0;
}

int store_decide(struct store *st, const char *ref, const struct store_decision *dec,
		 GError **error)
{
	if (store_check_decision(ref, dec, error) < 0)
		return -1;
	if (store_tx_begin(st, false, error) < 0)
		return -1;
	if (store_decide_tx(st, ref, dec, error) == 0 && store_tx_commit(st, false, error) == 0)
		return 0;
	store_tx_rollback(st, false);
	return -1;
}

char *store_meta_get(struct store *st, const char *key)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT value FROM meta WHERE key = ?", NULL);
	if (s == NULL)
		return NULL;
	store_bind_text(s, 1, key);
	char *v = sqlite3_step(s) == SQLITE_ROW ? store_col_text(s, 0) : NULL;
	sqlite3_finalize(s);
	return v;
}

int store_meta_set(struct store *st, const char *key, const char *value, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"INSERT INTO meta (key, value) VALUES (?, ?)"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, key);
	store_bind_text(s, 2, value);
	int rc = store_step_done(st, s, error);
	sqlite3_finalize(s);
	return rc;
}

/* Updates one draft's deadlines and records the change. */
static int store_update_deadlines(struct store *st, int64_t id, const struct store_deadlines *o,
				  const struct store_deadlines *n, const char *actor,
				  const char *why, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"UPDATE complaints SET acceptance_due = ?, handling_due = ?,"
		" handling_due_extended = ?, calendar_uncertain = ? WHERE id = ?", error);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, n->acceptance_due);
	sqlite3_bind_int64(s, 2, n->handling_due);
	sqlite3_bind_int64(s, 3, n->handling_due_extended);
	sqlite3_bind_int(s, 4, n->uncertain);
	sqlite3_bind_int64(s, 5, id);
	int rc = store_step_done(st, s, error);
	sqlite3_finalize(s);
	if (rc < 0)
		return -1;
	g_autofree char *detail = g_strdup_printf(
		"%s: acceptance_due %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
		", handling_due %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT ", uncertain %d -> %d",
		why, (gint64)o->acceptance_due, (gint64)n->acceptance_due, (gint64)o->handling_due,
		(gint64)n->handling_due, o->uncertain, n->uncertain);
	return store_event(st, id, g_get_real_time() / G_USEC_PER_SEC, actor, "deadlines_changed",
			   detail, error);
}

static bool store_deadlines_equal(const struct store_deadlines *a, const struct store_deadlines *b)
{
	return a->acceptance_due == b->acceptance_due && a->handling_due == b->handling_due &&
	       a->handling_due_extended == b->handling_due_extended && a->uncertain == b->uncertain;
}

static int store_recompute_tx(struct store *st, store_deadline_fn fn, void *ctx,
			      const char *actor, const char *why, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT id, received_at, acceptance_due, handling_due, handling_due_extended,"
		" calendar_uncertain FROM complaints WHERE status = 'draft' ORDER BY id", error);
	if (s == NULL)
		return -1;
	int changed = 0;
	while (changed >= 0 && sqlite3_step(s) == SQLITE_ROW) {
		struct store_deadlines o = {
			sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
			sqlite3_column_int64(s, 4), sqlite3_column_int(s, 5) != 0 }, n = o;
		if (fn(sqlite3_column_int64(s, 1), &n, ctx) < 0 || store_deadlines_equal(&o, &n))
			continue;
		if (store_update_deadlines(st, sqlite3_column_int64(s, 0), &o, &n, actor, why,
					   error) < 0)
			changed = -1;
		else
			changed++;
	}
	sqlite3_finalize(s);
	return changed;
}

int store_recompute_deadlines(struct store *st, store_deadline_fn fn, void *ctx,
			      const char *actor, const char *why, GError **error)
{
	if (store_tx_begin(st, false, error) < 0)
		return -1;
	int n = store_recompute_tx(st, fn, ctx, actor, why, error);
	if (n >= 0 && store_tx_commit(st, false, error) == 0)
		return n;
	store_tx_rollback(st, false);
	return -1;
}

int store_recent_from(struct store *st, const char *email, int64_t since, unsigned max,
		      store_text_fn fn, void *ctx, GError **error)
{
	sqlite3_stmt *s = store_cached(st,
		"SELECT id, subject, body FROM complaints"
		" WHERE lower(complainant_email) = lower(?1) AND received_at >= ?2"
		" ORDER BY received_at DESC, id DESC LIMIT ?3", error);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, email);
	sqlite3_bind_int64(s, 2, since);
	sqlite3_bind_int64(s, 3, max);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	       fn(sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		  (const char *)sqlite3_column_text(s, 2), ctx))
		;
	store_cached_done(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 :
		store_fail(st, error, "looking up earlier complaints");
}

int store_foreach_source(struct store *st, store_source_fn fn, void *ctx, GError **error)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT origin, sha256, spool_path FROM sources ORDER BY id", error);
	if (s == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), ctx);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, "listing sources");
}
