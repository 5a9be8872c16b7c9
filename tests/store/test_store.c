/* The store on a real SQLite file: schema and pragmas, idempotent ingestion,
   reference numbering, ordering of drafts, the state machine with its
   refusals and audit events, concurrent deciders, deadline recomputation,
   the group commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

struct fixture {
	char *dir;
	char *path;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	f->dir = g_dir_make_tmp("test_store.XXXXXX", NULL);
	assert_non_null(f->dir);
	f->path = g_build_filename(f->dir, "intake.db", NULL);
	GError *err = NULL;
	f->st = store_open(f->path, &err);
	assert_null(err);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_free(f->st);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	g_free(f->path);
	g_free(f->dir);
	g_free(f);
	return 0;
}

/* Ingests one draft; returns its reference (caller frees). */
static char *ingest_one(struct store *st, const char *origin, const char *sha, const char *day,
			int64_t received, int64_t due)
{
	struct store_source src = {
		.kind = "manual", .origin = origin, .sha256 = sha, .size = 10,
		.spool_path = "ab/cd", .message_id = NULL, .received_at = received,
	};
	struct store_account acc[] = { { "3100886652", "资金账号：3100886652" } };
	struct store_draft d = {
		.channel = "email", .ref_prefix = "TS", .ref_day = day,
		.acceptance_due = due, .handling_due = due + 86400 * 20,
		.handling_due_extended = due + 86400 * 40,
		.name = "张三", .email = "zhangsan@example.cn", .subject = "投诉",
		.body = "正文", .accounts = acc, .n_accounts = 1, .actor = "intake",
	};
	char *ref = NULL;
	GError *err = NULL;
	int rc = store_ingest(st, &src, &d, &ref, &err);
	assert_null(err);
	assert_int_equal(rc, 1);
	assert_non_null(ref);
	return ref;
}

static void test_pragmas_and_mode(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), STORE_SCHEMA_VERSION);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	g_autofree char *ref = ingest_one(f->st, "o1", "sha1", "20261123", 1000, 2000);
	store_free(f->st);
	GError *err = NULL;
	f->st = store_open(f->path, &err);
	assert_non_null(f->st);
	struct store_complaint *c = store_get(f->st, ref, &err);
	assert_non_null(c);
	assert_string_equal(c->status, "draft");
	assert_string_equal(c->name, "张三");
	assert_int_equal(c->accounts->len, 1);
	store_complaint_free(c);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	store_free(f->st);
	f->st = NULL;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	GError *err = NULL;
	struct store *st = store_open(f->path, &err);
	assert_null(st);
	assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_SCHEMA));
	g_error_free(err);
	db = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	char buf[64];
	g_snprintf(buf, sizeof buf, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_exec(db, buf, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	f->st = store_open(f->path, &err);
	assert_non_null(f->st);
}

static void test_reference_numbering(void **state)
{
	struct fixture *f = *state;
	g_autofree char *a = ingest_one(f->st, "o1", "sha1", "20261123", 1000, 5000);
	g_autofree char *b = ingest_one(f->st, "o2", "sha2", "20261123", 1001, 5000);
	g_autofree char *c = ingest_one(f->st, "o3", "sha3", "20261124", 1002, 5000);
	assert_string_equal(a, "TS20261123-0001");
	assert_string_equal(b, "TS20261123-0002");
	assert_string_equal(c, "TS20261124-0001");
}

static void test_idempotent_by_origin_and_hash(void **state)
{
	struct fixture *f = *state;
	g_autofree char *ref = ingest_one(f->st, "imap:main:7:42", "aaaa", "20261123", 1000, 2000);
	char *again = NULL;
	GError *err = NULL;
	assert_int_equal(store_find_source(f->st, "imap:main:7:42", "other", &again, &err), 1);
	assert_string_equal(again, ref);
	g_free(again);
	again = NULL;
	/* same bytes under another origin (a UIDVALIDITY change, a second drop) */
	assert_int_equal(store_find_source(f->st, "imap:main:8:1", "aaaa", &again, &err), 1);
	assert_string_equal(again, ref);
	g_free(again);
	again = NULL;
	assert_int_equal(store_find_source(f->st, "imap:main:8:2", "bbbb", &again, &err), 0);
	assert_null(again);

	struct store_source src = { .kind = "manual", .origin = "imap:main:7:42", .sha256 = "aaaa",
				    .spool_path = "x", .received_at = 1000 };
	struct store_draft d = { .channel = "email", .ref_prefix = "TS", .ref_day = "20261123",
				 .acceptance_due = 2000, .actor = "intake" };
	char *ref2 = NULL;
	assert_int_equal(store_ingest(f->st, &src, &d, &ref2, &err), 0);
	assert_null(err);
	assert_string_equal(ref2, ref);
	g_free(ref2);
	GPtrArray *list = store_list_drafts(f->st, NULL, 0, &err);
	assert_int_equal(list->len, 1);
	g_ptr_array_unref(list);
}

static void test_classified_source(void **state)
{
	struct fixture *f = *state;
	struct store_source src = { .kind = "imap", .origin = "imap:main:7:43", .sha256 = "cccc",
				    .spool_path = "y", .received_at = 1000,
				    .disposition = "auto_reply", .note = "Auto-Submitted" };
	GError *err = NULL;
	assert_int_equal(store_record_source(f->st, &src, &err), 1);
	assert_int_equal(store_record_source(f->st, &src, &err), 0);
	char *ref = NULL;
	assert_int_equal(store_find_source(f->st, "imap:main:7:43", "cccc", &ref, &err), 1);
	assert_null(ref);
	GPtrArray *list = store_list_drafts(f->st, NULL, 0, &err);
	assert_int_equal(list->len, 0);
	g_ptr_array_unref(list);
}

static void test_drafts_ordered_by_due(void **state)
{
	struct fixture *f = *state;
	g_autofree char *late = ingest_one(f->st, "o1", "s1", "20261123", 1000, 9000);
	g_autofree char *early = ingest_one(f->st, "o2", "s2", "20261123", 1100, 3000);
	g_autofree char *mid = ingest_one(f->st, "o3", "s3", "20261123", 1200, 5000);
	GError *err = NULL;
	GPtrArray *list = store_list_drafts(f->st, NULL, 0, &err);
	assert_int_equal(list->len, 3);
	assert_string_equal(((struct store_complaint *)list->pdata[0])->ref, early);
	assert_string_equal(((struct store_complaint *)list->pdata[1])->ref, mid);
	assert_string_equal(((struct store_complaint *)list->pdata[2])->ref, late);
	g_ptr_array_unref(list);
	list = store_list_drafts(f->st, NULL, 5000, &err);
	assert_int_equal(list->len, 2);
	g_ptr_array_unref(list);
	list = store_list_drafts(f->st, "letter", 0, &err);
	assert_int_equal(list->len, 0);
	g_ptr_array_unref(list);
}

static void test_decide_and_refuse_again(void **state)
{
	struct fixture *f = *state;
	g_autofree char *ref = ingest_one(f->st, "o1", "s1", "20261123", 1000, 9000);
	struct store_decision dec = { .status = "not_accepted", .reason = "not_customer",
				      .actor = "li", .at = 5000 };
	GError *err = NULL;
	assert_int_equal(store_decide(f->st, ref, &dec, &err), 0);
	assert_null(err);
	struct store_decision again = { .status = "accepted", .actor = "wang", .at = 6000 };
	assert_int_equal(store_decide(f->st, ref, &again, &err), -1);
	assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_STATE));
	assert_non_null(strstr(err->message, "li"));
	g_clear_error(&err);

	struct store_complaint *c = store_get(f->st, ref, &err);
	assert_string_equal(c->status, "not_accepted");
	assert_string_equal(c->reason, "not_customer");
	assert_string_equal(c->decided_by, "li");
	assert_int_equal(c->decided_at, 5000);
	bool created = false, decided = false;
	for (guint i = 0; i < c->events->len; i++) {
		struct store_event *e = c->events->pdata[i];
		created |= strcmp(e->kind, "created") == 0;
		decided |= strstr(e->kind, "not_accepted") != NULL ||
			   (e->detail != NULL && strstr(e->detail, "not_customer") != NULL);
	}
	assert_true(created);
	assert_true(decided);
	store_complaint_free(c);

	GPtrArray *list = store_list_drafts(f->st, NULL, 0, &err);
	assert_int_equal(list->len, 0);
	g_ptr_array_unref(list);
}

static void test_decide_unknown_ref(void **state)
{
	struct fixture *f = *state;
	struct store_decision dec = { .status = "accepted", .actor = "li", .at = 5000 };
	GError *err = NULL;
	assert_int_equal(store_decide(f->st, "TS20990101-0001", &dec, &err), -1);
	assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND));
	g_error_free(err);
}

/* Two processes deciding the same draft at the same moment: exactly one wins. */
static void test_concurrent_deciders(void **state)
{
	struct fixture *f = *state;
	g_autofree char *ref = ingest_one(f->st, "o1", "s1", "20261123", 1000, 9000);
	int wins = 0;
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			GError *err = NULL;
			struct store *st = store_open(f->path, &err);
			struct store_decision dec = { .status = k == 0 ? "accepted" : "not_accepted",
						      .reason = k == 0 ? NULL : "duplicate",
						      .actor = k == 0 ? "li" : "wang", .at = 5000 + k };
			int rc = st != NULL ? store_decide(st, ref, &dec, &err) : -1;
			g_clear_error(&err);
			store_free(st);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status = 0;
		assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
		assert_true(WIFEXITED(status));
		wins += WEXITSTATUS(status) == 0;
	}
	assert_int_equal(wins, 1);
	GError *err = NULL;
	struct store_complaint *c = store_get(f->st, ref, &err);
	assert_true(strcmp(c->status, "accepted") == 0 || strcmp(c->status, "not_accepted") == 0);
	store_complaint_free(c);
}

static int shift_deadlines(int64_t received_at, struct store_deadlines *out, void *ctx)
{
	(void)ctx;
	out->acceptance_due = received_at + 777;
	out->handling_due = received_at + 888;
	out->handling_due_extended = received_at + 999;
	out->uncertain = false;
	return 0;
}

static void test_recompute_deadlines(void **state)
{
	struct fixture *f = *state;
	g_autofree char *open = ingest_one(f->st, "o1", "s1", "20261123", 1000, 9000);
	g_autofree char *done = ingest_one(f->st, "o2", "s2", "20261123", 1000, 9000);
	struct store_decision dec = { .status = "accepted", .actor = "li", .at = 5000 };
	GError *err = NULL;
	assert_int_equal(store_decide(f->st, done, &dec, &err), 0);
	int n = store_recompute_deadlines(f->st, shift_deadlines, NULL, "intake",
					  "calendar changed", &err);
	assert_null(err);
	assert_int_equal(n, 1);
	struct store_complaint *c = store_get(f->st, open, &err);
	assert_int_equal(c->acceptance_due, 1777);
	assert_int_equal(c->handling_due, 1888);
	bool ev = false;
	for (guint i = 0; i < c->events->len; i++)
		ev |= strstr(((struct store_event *)c->events->pdata[i])->kind, "deadline") != NULL;
	assert_true(ev);
	store_complaint_free(c);
	c = store_get(f->st, done, &err);
	assert_int_equal(c->acceptance_due, 9000);
	store_complaint_free(c);
	/* a second pass with the same result changes nothing */
	assert_int_equal(store_recompute_deadlines(f->st, shift_deadlines, NULL, "intake",
						   "calendar changed", &err), 0);
}

static void test_meta(void **state)
{
	struct fixture *f = *state;
	GError *err = NULL;
	assert_null(store_meta_get(f->st, "calendar_fingerprint"));
	assert_int_equal(store_meta_set(f->st, "calendar_fingerprint", "abc", &err), 0);
	assert_int_equal(store_meta_set(f->st, "calendar_fingerprint", "def", &err), 0);
	g_autofree char *v = store_meta_get(f->st, "calendar_fingerprint");
	assert_string_equal(v, "def");
}

/* ---- group commit ---- */

struct sync_probe { int calls; int fail; };

static int probe_sync(void *ctx, GError **error)
{
	struct sync_probe *p = ctx;
	p->calls++;
	if (p->fail) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "syncfs failed (probe)");
		return -1;
	}
	return 0;
}

static int ingest_grouped(struct store *st, const char *origin, const char *sha, bool group)
{
	struct store_source src = {
		.kind = "imap", .origin = origin, .sha256 = sha, .size = 10,
		.spool_path = "ab/cd", .received_at = 1764550800, .group = group,
	};
	struct store_draft d = {
		.channel = "email", .ref_prefix = "TS", .ref_day = "20251201",
		.acceptance_due = 1764800000, .handling_due = 1766000000,
		.handling_due_extended = 1767000000, .subject = "投诉", .body = "正文",
		.actor = "intake",
	};
	g_autofree char *ref = NULL;
	GError *err = NULL;
	int rc = store_ingest(st, &src, &d, &ref, &err);
	g_clear_error(&err);
	return rc;
}

/* Sources as another connection sees them: only what is committed. */
static int committed_sources(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sources", -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void test_group_commit(void **state)
{
	struct fixture *f = *state;
	struct sync_probe probe = { 0 };
	GError *err = NULL;
	assert_int_equal(store_group_begin(f->st, probe_sync, &probe, &err), 0);
	assert_true(store_group_open(f->st));
	assert_int_equal(ingest_grouped(f->st, "imap:m:1:1", "g1", true), 1);
	assert_int_equal(ingest_grouped(f->st, "imap:m:1:2", "g2", true), 1);
	/* the same message again inside the group is recognised */
	assert_int_equal(ingest_grouped(f->st, "imap:m:1:2", "g2", true), 0);
	assert_int_equal(store_group_size(f->st), 3);
	assert_int_equal(committed_sources(f->path), 0);
	assert_int_equal(probe.calls, 0);
	assert_int_equal(store_group_commit(f->st, &err), 0);
	assert_null(err);
	assert_int_equal(probe.calls, 1);
	assert_false(store_group_open(f->st));
	assert_int_equal(committed_sources(f->path), 2);
	assert_int_equal(store_group_lost(f->st), 0);
}

static void test_group_committed_by_other_write(void **state)
{
	struct fixture *f = *state;
	struct sync_probe probe = { 0 };
	assert_int_equal(store_group_begin(f->st, probe_sync, &probe, NULL), 0);
	assert_int_equal(ingest_grouped(f->st, "imap:m:1:1", "g1", true), 1);
	assert_int_equal(committed_sources(f->path), 0);
	/* a write outside the group (a dropped letter) commits the group first */
	assert_int_equal(ingest_grouped(f->st, "file:letters:a.pdf", "f1", false), 1);
	assert_int_equal(probe.calls, 1);
	assert_false(store_group_open(f->st));
	assert_int_equal(committed_sources(f->path), 2);
}

static void test_group_lost_when_sync_fails(void **state)
{
	struct fixture *f = *state;
	struct sync_probe probe = { .fail = 1 };
	GError *err = NULL;
	assert_int_equal(store_group_begin(f->st, probe_sync, &probe, NULL), 0);
	assert_int_equal(ingest_grouped(f->st, "imap:m:1:1", "g1", true), 1);
	assert_int_equal(store_group_commit(f->st, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "syncfs failed"));
	g_clear_error(&err);
	assert_int_equal(store_group_lost(f->st), 1);
	assert_false(store_group_open(f->st));
	/* nothing of it was committed, and it can be ingested again */
	assert_int_equal(committed_sources(f->path), 0);
	assert_int_equal(ingest_grouped(f->st, "imap:m:1:1", "g1", false), 1);
	assert_int_equal(committed_sources(f->path), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pragmas_and_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference_numbering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent_by_origin_and_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_classified_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drafts_ordered_by_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decide_and_refuse_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decide_unknown_ref, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_deciders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recompute_deadlines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_committed_by_other_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_lost_when_sync_fails, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
