/* Unit tests of ingest/dropdir.c: the sidecar and receipt-time parsers, the
   ignored names, and the watcher on real folders: one pass (refusals, the
   settle wait, duplicates, a crash between commit and archive), and the
   daemon on a libuv loop with real inotify (files present at start, a file
   written slowly in chunks, a file renamed into place, a burst of 200
   files; a file renamed in is taken at once, a closed one only after the
   settle time from its close, and one closed and reopened between chunks
   is taken once, complete). Documents are plain text so that no OCR runs. Every loop test
   ends with uv_loop_close() == 0. Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "ingest/dropdir.h"
#include "ingest/ingest.h"

struct fixture {
	char *dir, *drop, *archive, *failed;
	struct config *cfg;
	struct ingest *in;
};

static int setup_settle(void **state, const char *settle)
{
	struct fixture *f = g_new0(struct fixture, 1);
	f->dir = g_dir_make_tmp("test_dropdir.XXXXXX", NULL);
	assert_non_null(f->dir);
	f->drop = g_build_filename(f->dir, "drop", NULL);
	f->archive = g_build_filename(f->dir, "archive", NULL);
	f->failed = g_build_filename(f->dir, "failed", NULL);
	assert_int_equal(g_mkdir_with_parents(f->drop, 0700), 0);
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *conf = g_strdup_printf(
		"[store]\npath = var/intake.db\nspool = var/spool\n"
		"[calendar]\nfile = %s/config/calendar/cn.conf\n"
		"[dropdir t]\npath = drop\nchannel = letter\narchive = archive\nfailed = failed\n"
		"settle_time = %s\nrescan_interval = 1\nmax_size = 64k\n", cwd, settle);
	g_autofree char *path = g_build_filename(f->dir, "intake.conf", NULL);
	GError *err = NULL;
	f->cfg = config_load_data(conf, strlen(conf), path, &err);
	assert_null(err);
	f->in = ingest_open(f->cfg, &err);
	assert_null(err);
	log_set_level(LOG_LEVEL_WARN);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_settle(state, "1");
}

static int setup_settle_3s(void **state)
{
	return setup_settle(state, "3s");
}

static int setup_settle_500ms(void **state)
{
	return setup_settle(state, "500ms");
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ingest_free(f->in);
	config_free(f->cfg);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	g_free(f->dir);
	g_free(f->drop);
	g_free(f->archive);
	g_free(f->failed);
	g_free(f);
	return 0;
}

static const struct config_dropdir *dd(struct fixture *f)
{
	return f->cfg->dropdirs->pdata[0];
}

/* Writes a document into the drop folder, its mtime age_s seconds ago. */
static void drop_file(struct fixture *f, const char *name, const char *text, int age_s)
{
	g_autofree char *path = g_build_filename(f->drop, name, NULL);
	assert_true(g_file_set_contents(path, text, -1, NULL));
	if (age_s > 0) {
		struct timespec ts[2] = { { time(NULL) - age_s, 0 }, { time(NULL) - age_s, 0 } };
		assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
	}
}

static bool exists_in(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	struct stat st;
	return lstat(path, &st) == 0;
}

/* The archive's one dated folder. */
static char *archive_day(struct fixture *f)
{
	GDir *d = g_dir_open(f->archive, 0, NULL);
	assert_non_null(d);
	char *day = g_build_filename(f->archive, g_dir_read_name(d), NULL);
	g_dir_close(d);
	return day;
}

static guint drafts(struct fixture *f)
{
	GError *err = NULL;
	GPtrArray *list = store_list_drafts(ingest_store(f->in), NULL, 0, &err);
	assert_non_null(list);
	guint n = list->len;
	g_ptr_array_unref(list);
	return n;
}

/* ---- pure parts ---- */

static void test_sidecar_parse(void **state)
{
	(void)state;
	GTimeZone *tz = g_time_zone_new_identifier("Asia/Shanghai");
	struct dropdir_meta m;
	GError *err = NULL;
	const char *ok1 = "\xEF\xBB\xBF# fax server\r\nreceived_at = 2026-11-23T09:30+08:00\r\n"
			  "caller=02112345678\r\nPAGES=3\r\nstatus=ok\r\n; comment\r\n";
	assert_int_equal(dropdir_meta_parse(ok1, strlen(ok1), tz, &m, &err), 0);
	assert_true(m.has_received_at);
	assert_int_equal(m.received_at, 1795397400);   /* 2026-11-23T01:30:00Z */
	assert_string_equal(m.caller, "02112345678");
	assert_int_equal(m.pages, 3);
	dropdir_meta_clear(&m);
	const char *forms[][2] = {
		{ "received_at=2026-11-23T01:30:00Z", "1795397400" },
		{ "received_at=2026-11-23 09:30:00.5", "1795397400" },   /* local zone */
		{ "received_at=2026-11-23T09:30+0800", "1795397400" },
		{ "received_at=2026-11-23T06:30-0300", "1795397400" },   /* 09:30 UTC */
		{ "received_at=2026-11-23", "1795395600" },              /* 09:00 local */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
		assert_int_equal(dropdir_meta_parse(forms[i][0], strlen(forms[i][0]), tz, &m, &err), 0);
		if (i == 3)
			assert_int_equal(m.received_at, 1795397400 + 8 * 3600);
		else
			assert_int_equal(m.received_at, atoll(forms[i][1]));
		dropdir_meta_clear(&m);
	}
	g_time_zone_unref(tz);
}

static void test_sidecar_errors(void **state)
{
	(void)state;
	GTimeZone *tz = g_time_zone_new_identifier("Asia/Shanghai");
	const char *bad[][2] = {
		{ "received_at=yesterday", "line 1: received_at = \"yesterday\"" },
		{ "received_at=2026-02-30T09:00", "expected a time" },
		{ "received_at=2026-11-23T24:00", "expected a time" },
		{ "received_at=2026-11-23+08:00", "expected a time" },
		{ "\nreceived_at=2026-11-23\nreceived_at=2026-11-24", "line 3: received_at" },
		{ "pages=0", "pages" },
		{ "pages=3x", "pages" },
		{ "caller=\x01", "caller" },
		{ "caller=12345678901234567890123456789012345678901234567890123456789012345", "64" },
		{ "just words", "expected key=value" },
		{ "caller=\xff", "UTF-8" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct dropdir_meta m;
		GError *err = NULL;
		assert_int_equal(dropdir_meta_parse(bad[i][0], strlen(bad[i][0]), tz, &m, &err), -1);
		assert_non_null(err);
		if (strstr(err->message, bad[i][1]) == NULL)
			fail_msg("%s: %s", bad[i][0], err->message);
		assert_null(m.caller);
		g_error_free(err);
	}
	struct dropdir_meta m;
	GError *err = NULL;
	assert_int_equal(dropdir_meta_parse("a=b\0c", 5, tz, &m, &err), -1);
	g_clear_error(&err);
	g_time_zone_unref(tz);
}

static void test_name_rules(void **state)
{
	(void)state;
	GTimeZone *tz = g_time_zone_new_identifier("Asia/Shanghai");
	int64_t now = 1795397400, t = 0;   /* 2026-11-23 09:30 +08:00 */
	assert_int_equal(dropdir_name_date("20261120_scan.pdf", tz, now, &t), 1);
	assert_int_equal(t, 1795395600 - 3 * 86400);
	assert_int_equal(dropdir_name_date("20261124_scan.pdf", tz, now, &t), 0);   /* future */
	assert_int_equal(dropdir_name_date("20261340_scan.pdf", tz, now, &t), 0);
	assert_int_equal(dropdir_name_date("2026112_scan.pdf", tz, now, &t), 0);
	assert_int_equal(dropdir_name_date("scan.pdf", tz, now, &t), 0);
	/* Stamped today, taken before nine: not in the future. */
	assert_int_equal(dropdir_name_date("20261123_x.pdf", tz, now - 3600, &t), 1);
	assert_int_equal(t, now - 3600);
	const char *ignored[] = { ".hidden.pdf", "scan.pdf.part", "x.tmp", "~$letter.docx",
				  "big.tif.filepart", "fax.meta", NULL };
	for (size_t i = 0; ignored[i] != NULL; i++)
		assert_true(dropdir_name_ignored(ignored[i]));
	assert_false(dropdir_name_ignored("scan.pdf"));
	assert_false(dropdir_name_ignored("part.pdf"));
	g_time_zone_unref(tz);
}

/* ---- one pass ---- */

static void test_pass_refusals_and_duplicates(void **state)
{
	struct fixture *f = *state;
	drop_file(f, "a.txt", "投诉信 资金账号 310012345678 邮箱 a@example.com", 10);
	drop_file(f, "a-copy.txt", "投诉信 资金账号 310012345678 邮箱 a@example.com", 10);
	drop_file(f, "empty.txt", "", 10);
	drop_file(f, "b.txt", "我的资金账号 310099998888，请回复", 10);
	drop_file(f, "b.txt.meta", "received_at=2026-11-20T10:00+08:00\ncaller=0211\n", 10);
	g_autofree char *link = g_build_filename(f->drop, "link.txt", NULL);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	g_autofree char *fifo = g_build_filename(f->drop, "fifo", NULL);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	g_autofree char *big = g_strnfill(70 * 1024, 'x');
	drop_file(f, "big.txt", big, 10);
	drop_file(f, "damaged.pdf", "%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", 10);
	GError *err = NULL;
	struct dropdir *d = dropdir_new(NULL, f->in, dd(f), &err);
	assert_non_null(d);
	assert_int_equal(dropdir_pass(d), 8);
	struct dropdir_stats st;
	dropdir_get_stats(d, &st);
	assert_int_equal(st.drafts, 2);
	assert_int_equal(st.known, 1);
	assert_int_equal(st.failed, 5);
	assert_int_equal(st.errors, 0);
	assert_int_equal(drafts(f), 2);
	g_autofree char *day = archive_day(f);
	assert_true(exists_in(day, "a.txt") && exists_in(day, "a-copy.txt"));
	assert_true(exists_in(day, "b.txt") && exists_in(day, "b.txt.meta"));
	assert_true(exists_in(f->failed, "empty.txt.reason.txt") && exists_in(f->failed, "link.txt") &&
		    exists_in(f->failed, "fifo.reason.txt"));
	assert_int_equal(access("/etc/passwd", F_OK), 0);
	g_autofree char *big_reason = g_build_filename(f->failed, "big.txt.reason.txt", NULL);
	g_autofree char *damaged_reason = g_build_filename(f->failed, "damaged.pdf.reason.txt", NULL);
	g_autofree char *text = NULL;
	assert_true(g_file_get_contents(big_reason, &text, NULL, NULL));
	assert_non_null(strstr(text, "code: too_large"));
	/* GLib writes sizes with a no-break space: "70.0\u00a0KiB". */
	assert_non_null(strstr(text, "文件太大（70.0\u00a0KiB > 64.0\u00a0KiB，超过上限）"));
	g_clear_pointer(&text, g_free);
	assert_true(g_file_get_contents(damaged_reason, &text, NULL, NULL));
	assert_non_null(strstr(text, "code: unreadable"));
	assert_non_null(strstr(text, "无法读取该文件"));
	/* Nothing left; a second pass finds nothing. */
	assert_int_equal(dropdir_pass(d), 0);
	dropdir_free(d);
}

static void test_pass_settle_wait(void **state)
{
	struct fixture *f = *state;
	GError *err = NULL;
	struct dropdir *d = dropdir_new(NULL, f->in, dd(f), &err);
	drop_file(f, "fresh.txt", "刚刚放入的投诉信 资金账号 310011112222", 0);
	assert_int_equal(dropdir_pass(d), 0);
	assert_int_equal(dropdir_pending(d), 1);
	assert_int_equal(drafts(f), 0);
	gint64 t0 = g_get_monotonic_time();
	assert_int_equal(dropdir_once(d), 1);
	assert_true(g_get_monotonic_time() - t0 >= 1000000);
	assert_int_equal(dropdir_pending(d), 0);
	assert_int_equal(drafts(f), 1);
	dropdir_free(d);
}

/* The daemon died after the store commit, before the archive: the file is
   taken again, recognised, archived, and no second draft is made. And one
   that died before the commit leaves the file, which becomes one draft. */
static void test_pass_after_crash(void **state)
{
	struct fixture *f = *state;
	drop_file(f, "c.txt", "崩溃前已提交的投诉信 资金账号 310033334444", 10);
	g_autofree char *path = g_build_filename(f->drop, "c.txt", NULL);
	struct ingest_outcome out;
	GError *err = NULL;
	assert_int_equal(dropdir_ingest_file(f->in, "letter", path, 0, &out, &err), 0);
	assert_int_equal(out.status, INGEST_CREATED);
	ingest_outcome_clear(&out);
	drop_file(f, "d.txt", "崩溃前未提交的投诉信 资金账号 310055556666", 10);
	struct dropdir *d = dropdir_new(NULL, f->in, dd(f), &err);
	assert_int_equal(dropdir_once(d), 2);
	struct dropdir_stats st;
	dropdir_get_stats(d, &st);
	assert_int_equal(st.known, 1);
	assert_int_equal(st.drafts, 1);
	assert_int_equal(drafts(f), 2);
	dropdir_free(d);
}

/* ---- the daemon on a loop ---- */

struct loop_test {
	uv_loop_t loop;
	uv_timer_t check, writer;
	struct fixture *f;
	struct dropdir *d;
	unsigned want;          /* files handled (drafts + known + failed) to wait for */
	gint64 deadline;
	unsigned check_ms;      /* how often the check looks, 100 when 0 */
	gint64 t0, done_at;     /* monotonic µs: when the file was dropped, when handled */
	int chunks;             /* slow writer: chunks still to write */
	int fd;
	bool writer_on;
};

static void loop_closed(uv_handle_t *h)
{
	(void)h;
}

static void loop_check_cb(uv_timer_t *t)
{
	struct loop_test *lt = t->data;
	struct dropdir_stats st;
	dropdir_get_stats(lt->d, &st);
	if (st.drafts + st.known + st.failed < lt->want && g_get_monotonic_time() < lt->deadline)
		return;
	lt->done_at = g_get_monotonic_time();
	dropdir_stop(lt->d);
	uv_close((uv_handle_t *)&lt->check, loop_closed);
	if (lt->writer_on)
		uv_close((uv_handle_t *)&lt->writer, loop_closed);
}

/* Starts the watcher, runs the loop until `want` files are handled (or 20
   s), stops it and checks that the loop closes. */
static void loop_run(struct loop_test *lt, struct fixture *f, unsigned want)
{
	GError *err = NULL;
	lt->f = f;
	lt->want = want;
	lt->deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	lt->d = dropdir_new(&lt->loop, f->in, dd(f), &err);
	assert_non_null(lt->d);
	assert_int_equal(dropdir_start(lt->d), 0);
	uv_timer_init(&lt->loop, &lt->check);
	lt->check.data = lt;
	unsigned every = lt->check_ms != 0 ? lt->check_ms : 100;
	uv_timer_start(&lt->check, loop_check_cb, every, every);
	uv_run(&lt->loop, UV_RUN_DEFAULT);
	dropdir_free(lt->d);
	assert_int_equal(uv_loop_close(&lt->loop), 0);
}

static void test_loop_present_at_start(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 5; i++) {
		g_autofree char *name = g_strdup_printf("start-%d.txt", i);
		g_autofree char *text = g_strdup_printf("启动前放入的投诉信 %d 资金账号 31007777000%d", i, i);
		drop_file(f, name, text, 10);
	}
	struct loop_test lt = { 0 };
	uv_loop_init(&lt.loop);
	loop_run(&lt, f, 5);
	assert_int_equal(drafts(f), 5);
}

/* Appends one chunk every 300 ms (less than the settle time of 1 s); the
   last one says END and closes the file. */
static void loop_writer_cb(uv_timer_t *t)
{
	struct loop_test *lt = t->data;
	g_autofree char *chunk = lt->chunks > 1 ? g_strdup_printf("第%d段 资金账号 310012345678\n", lt->chunks) :
						  g_strdup("END\n");
	assert_true(write(lt->fd, chunk, strlen(chunk)) == (ssize_t)strlen(chunk));
	if (--lt->chunks == 0) {
		close(lt->fd);
		uv_timer_stop(t);
	}
}

static void test_loop_slow_writer(void **state)
{
	struct fixture *f = *state;
	struct loop_test lt = { .chunks = 8, .writer_on = true };
	uv_loop_init(&lt.loop);
	g_autofree char *path = g_build_filename(f->drop, "slow.txt", NULL);
	lt.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(lt.fd >= 0);
	uv_timer_init(&lt.loop, &lt.writer);
	lt.writer.data = &lt;
	uv_timer_start(&lt.writer, loop_writer_cb, 0, 300);
	loop_run(&lt, f, 1);
	assert_int_equal(drafts(f), 1);
	GError *err = NULL;
	GPtrArray *list = store_list_drafts(ingest_store(f->in), NULL, 0, &err);
	struct store_complaint *c = store_get(ingest_store(f->in),
					      ((struct store_complaint *)list->pdata[0])->ref, &err);
	assert_non_null(strstr(c->body, "END"));
	assert_non_null(strstr(c->body, "第8段"));
	store_complaint_free(c);
	g_ptr_array_unref(list);
}

static void test_loop_rename_and_burst(void **state)
{
	struct fixture *f = *state;
	/* Written under an ignored name, renamed into place: IN_MOVED_TO. */
	drop_file(f, "renamed.txt.part", "改名放入的投诉信 资金账号 310088880000", 0);
	g_autofree char *from = g_build_filename(f->drop, "renamed.txt.part", NULL);
	g_autofree char *to = g_build_filename(f->drop, "renamed.txt", NULL);
	struct loop_test lt = { 0 };
	uv_loop_init(&lt.loop);
	assert_int_equal(rename(from, to), 0);
	for (int i = 0; i < 200; i++) {
		g_autofree char *name = g_strdup_printf("burst-%03d.txt", i);
		g_autofree char *text = g_strdup_printf("一批投诉信之%d 资金账号 3100%08d", i, i);
		drop_file(f, name, text, 0);
	}
	gint64 t0 = g_get_monotonic_time();
	loop_run(&lt, f, 201);
	print_message("# 201 files dropped to drafts in %.2f s\n",
		      (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
	assert_int_equal(drafts(f), 201);
	g_autofree char *day = archive_day(f);
	assert_true(exists_in(day, "renamed.txt"));
	assert_true(exists_in(day, "burst-199.txt"));
}

/* The one draft's body (owned by the caller). */
static char *only_body(struct fixture *f)
{
	GError *err = NULL;
	GPtrArray *list = store_list_drafts(ingest_store(f->in), NULL, 0, &err);
	assert_int_equal(list->len, 1);
	struct store_complaint *c = store_get(ingest_store(f->in),
					      ((struct store_complaint *)list->pdata[0])->ref, &err);
	char *body = g_strdup(c->body);
	store_complaint_free(c);
	g_ptr_array_unref(list);
	return body;
}

/* Written and closed outside the folder, then renamed in while the watcher
   runs (IN_MOVED_TO). */
static void loop_rename_in_cb(uv_timer_t *t)
{
	struct loop_test *lt = t->data;
	g_autofree char *from = g_build_filename(lt->f->dir, "staged.txt", NULL);
	g_autofree char *to = g_build_filename(lt->f->drop, "renamed-in.txt", NULL);
	const char *text = "改名放入的投诉信 资金账号 310088881111\nEND\n";
	assert_true(g_file_set_contents(from, text, -1, NULL));
	lt->t0 = g_get_monotonic_time();
	assert_int_equal(rename(from, to), 0);
}

/* settle_time = 3s: a file renamed into the folder is complete by
   construction and becomes a draft well before the settle time. */
static void test_loop_renamed_in_at_once(void **state)
{
	struct fixture *f = *state;
	struct loop_test lt = { .check_ms = 5, .writer_on = true, .f = f };
	uv_loop_init(&lt.loop);
	uv_timer_init(&lt.loop, &lt.writer);
	lt.writer.data = &lt;
	uv_timer_start(&lt.writer, loop_rename_in_cb, 300, 0);
	loop_run(&lt, f, 1);
	double s = (double)(lt.done_at - lt.t0) / G_USEC_PER_SEC;
	print_message("# renamed in: a draft %.3f s after the rename (settle_time 3 s)\n", s);
	assert_int_equal(drafts(f), 1);
	assert_true(lt.t0 > 0 && s < 1.5);
	g_autofree char *body = only_body(f);
	assert_non_null(strstr(body, "END"));
	g_autofree char *day = archive_day(f);
	assert_true(exists_in(day, "renamed-in.txt"));
}

/* Written and closed in the folder itself (IN_CLOSE_WRITE). */
static void loop_write_in_cb(uv_timer_t *t)
{
	struct loop_test *lt = t->data;
	g_autofree char *path = g_build_filename(lt->f->drop, "closed.txt", NULL);
	const char *text = "在文件夹里写完关闭的投诉信 资金账号 310088882222\nEND\n";
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	lt->t0 = g_get_monotonic_time();
}

/* settle_time = 1: a file closed in the folder may still be reopened by its
   writer, so it waits the settle time, counted from the close (not from a
   later look). */
static void test_loop_closed_waits_settle(void **state)
{
	struct fixture *f = *state;
	struct loop_test lt = { .check_ms = 5, .writer_on = true, .f = f };
	uv_loop_init(&lt.loop);
	uv_timer_init(&lt.loop, &lt.writer);
	lt.writer.data = &lt;
	uv_timer_start(&lt.writer, loop_write_in_cb, 300, 0);
	loop_run(&lt, f, 1);
	double s = (double)(lt.done_at - lt.t0) / G_USEC_PER_SEC;
	print_message("# closed in the folder: a draft %.3f s after the close (settle_time 1 s)\n", s);
	assert_int_equal(drafts(f), 1);
	assert_true(s >= 0.95 && s < 1.9);
}

/* Like an SMB client or a fax server: opens, appends one chunk, closes,
   every 150 ms (less than the settle time of 500 ms); the last chunk says
   END. */
static void loop_reopen_cb(uv_timer_t *t)
{
	struct loop_test *lt = t->data;
	g_autofree char *path = g_build_filename(lt->f->drop, "reopened.txt", NULL);
	g_autofree char *chunk = lt->chunks > 1 ?
		g_strdup_printf("第%d段 资金账号 310012345678\n", lt->chunks) : g_strdup("END\n");
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(fd >= 0 && write(fd, chunk, strlen(chunk)) == (ssize_t)strlen(chunk));
	close(fd);
	if (--lt->chunks == 0)
		uv_timer_stop(t);
}

/* settle_time = 500ms: each close restarts the settle time; the file is
   taken once, complete, and nothing is refused. */
static void test_loop_close_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct loop_test lt = { .chunks = 10, .writer_on = true, .f = f };
	uv_loop_init(&lt.loop);
	uv_timer_init(&lt.loop, &lt.writer);
	lt.writer.data = &lt;
	uv_timer_start(&lt.writer, loop_reopen_cb, 50, 150);
	loop_run(&lt, f, 1);
	assert_int_equal(drafts(f), 1);
	g_autofree char *body = only_body(f);
	assert_non_null(strstr(body, "第10段"));
	assert_non_null(strstr(body, "END"));
	assert_false(exists_in(f->drop, "reopened.txt"));
	GDir *failed = g_dir_open(f->failed, 0, NULL);
	assert_null(failed != NULL ? g_dir_read_name(failed) : NULL);
	if (failed != NULL)
		g_dir_close(failed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sidecar_parse),
		cmocka_unit_test(test_sidecar_errors),
		cmocka_unit_test(test_name_rules),
		cmocka_unit_test_setup_teardown(test_pass_refusals_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_settle_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_present_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_slow_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_rename_and_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_renamed_in_at_once, setup_settle_3s, teardown),
		cmocka_unit_test_setup_teardown(test_loop_closed_waits_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_close_and_reopen, setup_settle_500ms, teardown),
	};
	return cmocka_run_group_tests_name("ingest/dropdir", tests, NULL, NULL);
}
