/* notify/ without a network: template rendering and its checks at load
   (unknown placeholders, missing reasons), masking, the MIME message and
   header injection, the loop guard, and, on a real SQLite store, the daily
   acknowledgment cap inside the ingest transaction and a letter rendered to
   the print folder by the drainer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "notify/notify.h"
#include "store/store.h"

/* 2026-02-13 16:00 +08:00 and the acceptance due at the end of 2026-02-25. */
#define RECEIVED 1770969600
#define DUE 1772035199

static GTimeZone *shanghai(void)
{
	GTimeZone *tz = g_time_zone_new_identifier("Asia/Shanghai");
	assert_non_null(tz);
	return tz;
}

static struct notify_templates *load(const char *dir, const char *lang, GError **err)
{
	g_autoptr(GTimeZone) tz = shanghai();
	return notify_templates_load(dir, lang, tz, err);
}

/* A copy of config/templates in a temporary folder, to break on purpose. */
static char *copy_templates(void)
{
	char *dir = g_dir_make_tmp("test_notify.XXXXXX", NULL);
	assert_non_null(dir);
	g_autofree char *cmd = g_strdup_printf("cp -r config/templates/zh config/templates/en '%s'/",
					       dir);
	assert_int_equal(system(cmd), 0);
	return dir;
}

static void remove_dir(char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	g_free(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void test_render_acknowledgment(void **state)
{
	(void)state;
	GError *err = NULL;
	struct notify_templates *t = load("config/templates", "zh", &err);
	assert_null(err);
	const char *accounts[] = { "310012345678", NULL };
	struct notify_values v = {
		.ref = "TS20260213-0007", .name = "张伟", .subject = "关于账户 310012345678 的投诉",
		.accounts = accounts, .sender = "客户投诉中心", .received_at = RECEIVED,
		.acceptance_due = DUE };
	char *subject = NULL, *body = NULL;
	assert_int_equal(notify_render(t, NOTIFY_ACKNOWLEDGMENT, &v, &subject, &body, &err), 0);
	assert_non_null(strstr(subject, "[TS20260213-0007]"));
	assert_null(strstr(subject, "310012345678"));
	assert_non_null(strstr(subject, "********5678"));
	assert_non_null(strstr(body, "尊敬的张伟："));
	assert_non_null(strstr(body, "2026年02月13日 16:00"));
	assert_non_null(strstr(body, "2026年02月25日 23:59"));
	assert_non_null(strstr(body, "涉及账户：********5678"));
	assert_null(strstr(body, "310012345678"));
	assert_non_null(strstr(body, "客户投诉中心"));
	assert_null(strchr(subject, '\n'));
	g_free(subject);
	g_free(body);
	notify_templates_free(t);
}

static void test_render_non_acceptance(void **state)
{
	(void)state;
	GError *err = NULL;
	struct notify_templates *t = load("config/templates", "en", &err);
	assert_null(err);
	struct notify_values v = { .ref = "TS20260213-0007", .reason = "other",
				   .note = "Your ID 11010519491231002X does not match.",
				   .received_at = RECEIVED, .decided_at = RECEIVED + 3600 };
	char *subject = NULL, *body = NULL;
	assert_int_equal(notify_render(t, NOTIFY_NON_ACCEPTANCE, &v, &subject, &body, &err), 0);
	assert_non_null(strstr(body, "Dear Customer,"));   /* no name: the phrase */
	assert_non_null(strstr(body, "Reason: Your ID **************002X does not match."));
	assert_non_null(strstr(body, "arbitration"));
	assert_null(strstr(body, "{"));
	g_free(subject);
	g_free(body);
	v.reason = "not_customer";
	v.note = NULL;
	assert_int_equal(notify_render(t, NOTIFY_NON_ACCEPTANCE, &v, &subject, &body, &err), 0);
	assert_non_null(strstr(body, "not a customer of the firm"));
	g_free(subject);
	g_free(body);
	v.reason = "because";
	assert_int_equal(notify_render(t, NOTIFY_NON_ACCEPTANCE, &v, &subject, &body, &err), -1);
	assert_non_null(err);
	g_clear_error(&err);
	notify_templates_free(t);
}

static void test_subject_gets_ref(void **state)
{
	(void)state;
	char *dir = copy_templates();
	write_file(dir, "en/acceptance.txt", "Subject: Accepted {{braces}} {subject}\n\nBody {{x}} {ref}\n");
	GError *err = NULL;
	struct notify_templates *t = load(dir, "en", &err);
	assert_null(err);
	struct notify_values v = { .ref = "TS20260213-0001", .subject = "a\r\nBcc: x@y.z" };
	char *subject = NULL, *body = NULL;
	assert_int_equal(notify_render(t, NOTIFY_ACCEPTANCE, &v, &subject, &body, &err), 0);
	assert_string_equal(subject, "[TS20260213-0001] Accepted {braces} a  Bcc: x@y.z");
	assert_string_equal(body, "Body {x} TS20260213-0001\n");
	g_free(subject);
	g_free(body);
	notify_templates_free(t);
	remove_dir(dir);
}

static void test_unknown_placeholder(void **state)
{
	(void)state;
	char *dir = copy_templates();
	write_file(dir, "zh/acknowledgment.txt", "Subject: [{ref}]\n\n受理期限 {acceptance_date}\n");
	GError *err = NULL;
	assert_null(load(dir, "zh", &err));
	assert_non_null(err);
	assert_non_null(strstr(err->message, "zh/acknowledgment.txt: unknown placeholder {acceptance_date}"));
	g_clear_error(&err);
	write_file(dir, "zh/acknowledgment.txt", "[{ref}] no subject line\n");
	assert_null(load(dir, "zh", &err));
	assert_non_null(strstr(err->message, "the first line must be \"Subject: ...\""));
	g_clear_error(&err);
	remove_dir(dir);
}

static void test_phrases_checked(void **state)
{
	(void)state;
	char *dir = copy_templates();
	write_file(dir, "en/phrases.txt", "time_format = %F\nanonymous = x\nno_accounts = -\n"
		   "remedies = r\nreason.not_customer = a\n");
	GError *err = NULL;
	assert_null(load(dir, "en", &err));
	assert_non_null(strstr(err->message, "phrases.txt: missing \"reason.agent_unauthorized = ...\""));
	g_clear_error(&err);
	write_file(dir, "en/phrases.txt", "remedies = see {remedies}\n");
	assert_null(load(dir, "en", &err));
	assert_non_null(strstr(err->message, "unknown placeholder {remedies}"));
	g_clear_error(&err);
	assert_null(load(dir, "fr", &err));
	assert_non_null(strstr(err->message, "fr/phrases.txt"));
	g_clear_error(&err);
	remove_dir(dir);
}

static void test_mask(void **state)
{
	(void)state;
	const char *accounts[] = { "886652", NULL };
	char *m = notify_mask("账号886652，身份证 11010519491231002X，电话 13812345678，金额 5000 元",
			      accounts);
	assert_string_equal(m, "账号**6652，身份证 **************002X，电话 *******5678，金额 5000 元");
	g_free(m);
	m = notify_mask(NULL, NULL);
	assert_string_equal(m, "");
	g_free(m);
}

static GBytes *build(const struct notify_mail *m)
{
	GError *err = NULL;
	GBytes *b = notify_message_build(m, &err);
	assert_null(err);
	assert_non_null(b);
	return b;
}

/* The header block of a built message, as text. */
static char *headers_of(GBytes *b)
{
	size_t len = 0;
	const char *data = g_bytes_get_data(b, &len);
	const char *end = g_strstr_len(data, (gssize)len, "\r\n\r\n");
	assert_non_null(end);
	return g_strndup(data, (gsize)(end - data + 2));
}

static void test_message_headers(void **state)
{
	(void)state;
	struct notify_mail m = {
		.from = "客户投诉中心 <ts@broker.example.cn>", .to = "zhang.wei@example.net",
		.subject = "[TS20260213-0007] 投诉回执\r\nBcc: victim@evil.example\nX-Injected: yes",
		.body = "第一行\n第二行\n", .message_id = "<intake.1.abc@broker.example.cn>",
		.in_reply_to = "<orig.1@mail.example.net>", .date = RECEIVED };
	GBytes *b = build(&m);
	g_autofree char *h = headers_of(b);
	assert_non_null(strstr(h, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(h, "\r\nIn-Reply-To: <orig.1@mail.example.net>\r\n"));
	assert_non_null(strstr(h, "\r\nReferences: <orig.1@mail.example.net>\r\n"));
	assert_non_null(strstr(h, "Message-Id: <intake.1.abc@broker.example.cn>\r\n"));
	assert_non_null(strstr(h, "=?UTF-8?"));
	assert_null(strstr(h, "\r\nBcc:"));
	assert_null(strstr(h, "\r\nX-Injected:"));
	for (const char *p = h; *p != '\0'; p++)   /* bare LF or CR nowhere */
		if (*p == '\n')
			assert_true(p > h && p[-1] == '\r');
	g_bytes_unref(b);

	m.in_reply_to = "<a@b>\r\nBcc: victim@evil.example";
	b = build(&m);
	g_autofree char *h2 = headers_of(b);
	assert_null(strstr(h2, "In-Reply-To"));
	assert_null(strstr(h2, "\r\nBcc:"));
	g_bytes_unref(b);

	GError *err = NULL;
	m.to = "victim@evil.example>\r\nRCPT TO:<other@evil.example";
	assert_null(notify_message_build(&m, &err));
	assert_non_null(err);
	g_clear_error(&err);
}

static void test_message_ids(void **state)
{
	(void)state;
	g_autofree char *id = notify_message_id("ts@broker.example.cn");
	assert_true(g_str_has_prefix(id, "<intake."));
	assert_true(g_str_has_suffix(id, "@broker.example.cn>"));
	g_autofree char *other = notify_message_id("ts@broker.example.cn");
	assert_string_not_equal(id, other);
	g_autofree char *c1 = notify_clean_message_id("abc@x");
	assert_string_equal(c1, "<abc@x>");
	assert_null(notify_clean_message_id("a b@x"));
	assert_null(notify_clean_message_id("<>"));
	g_autofree char *from = notify_from_address("\"客户中心\" <ts@x.example>");
	assert_string_equal(from, "ts@x.example");
}

static void test_guard(void **state)
{
	(void)state;
	const char *own[] = { "ts@broker.example.cn", NULL };
	assert_null(notify_guard_refuses("zhang.wei@example.net", NULL, own));
	assert_null(notify_guard_refuses("owen@example.net", NULL, own));
	assert_null(notify_guard_refuses("requester@example.net", NULL, own));
	const char *refused[] = {
		"MAILER-DAEMON@mx.example.net", "postmaster@example.net", "noreply@shop.example.com",
		"no-reply@shop.example.com", "No_Reply@shop.example.com", "do-not-reply@x.example",
		"bounces+123@lists.example.org", "owner-complaints@lists.example.org",
		"complaints-request@lists.example.org", "TS@Broker.Example.CN", "", NULL };
	for (size_t i = 0; refused[i] != NULL; i++)
		assert_non_null(notify_guard_refuses(refused[i], NULL, own));
	assert_non_null(notify_guard_refuses(NULL, NULL, own));
	const char *kinds[] = { "auto_reply", "bounce", "list", "own_notice", NULL };
	for (size_t i = 0; kinds[i] != NULL; i++)
		assert_non_null(notify_guard_refuses("zhang.wei@example.net", kinds[i], own));
	assert_false(notify_address_valid("a@b"));
	assert_false(notify_address_valid("a b@example.net"));
	assert_false(notify_address_valid("a@example.net\r\n"));
	assert_false(notify_address_valid("<a@example.net>"));
	assert_false(notify_address_valid("a@@example.net"));
	assert_true(notify_address_valid("a.b+c@mail.example.net"));
}

/* ---- on a real store ---- */

struct fixture {
	char *dir;
	struct store *st;
	struct config *cfg;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	f->dir = g_dir_make_tmp("test_notify.XXXXXX", NULL);
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *conf = g_strdup_printf(
		"[store]\npath = %s/intake.db\n[notices]\ntemplates = %s/config/templates\n"
		"language = zh\nmax_acks_per_day = 2\nprint_dir = %s/print\n", f->dir, cwd, f->dir);
	g_autofree char *path = g_build_filename(f->dir, "intake.conf", NULL);
	GError *err = NULL;
	f->cfg = config_load_data(conf, strlen(conf), path, &err);
	assert_null(err);
	f->st = store_open(f->cfg->store_path, &err);
	assert_null(err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_free(f->st);
	config_free(f->cfg);
	remove_dir(f->dir);
	g_free(f);
	return 0;
}

/* Ingests a draft whose acknowledgment goes through notify; returns its ref. */
static char *ingest(struct fixture *f, struct notify *nf, const char *channel, const char *email,
		    int i)
{
	g_autofree char *origin = g_strdup_printf("test:%d", i);
	g_autofree char *sha = g_strdup_printf("%064d", i);
	struct store_source src = { .kind = "manual", .origin = origin, .sha256 = sha, .size = 1,
				    .spool_path = "x", .received_at = RECEIVED };
	struct store_account acc[] = { { "310077778888", NULL } };
	struct store_draft d = {
		.channel = channel, .ref_prefix = "TS", .ref_day = "20260213",
		.acceptance_due = DUE, .handling_due = DUE, .handling_due_extended = DUE,
		.name = "赵敏", .email = email, .subject = "销户投诉", .message_id = "m@x.example",
		.accounts = acc, .n_accounts = 1, .actor = "test" };
	struct notify_notice *ack = notify_acknowledgment(nf, &src, &d, NULL);
	d.notice = notify_notice_for_ref;
	d.notice_ctx = ack;
	char *ref = NULL;
	GError *err = NULL;
	assert_int_equal(store_ingest(f->st, &src, &d, &ref, &err), 1);
	notify_notice_free(ack);
	return ref;
}

static guint count_kind(struct store *st, const char *ref)
{
	GPtrArray *rows = store_outbox_list(st, NULL, NULL);
	guint n = 0;
	for (guint i = 0; i < rows->len; i++) {
		struct store_outbox_row *r = rows->pdata[i];
		n += r->ref != NULL && strcmp(r->ref, ref) == 0;
	}
	g_ptr_array_unref(rows);
	return n;
}

static void test_daily_cap(void **state)
{
	struct fixture *f = *state;
	GError *err = NULL;
	struct notify *nf = notify_new(f->cfg, NULL, &err);
	assert_null(err);
	g_autofree char *r1 = ingest(f, nf, "email", "a@example.net", 1);
	g_autofree char *r2 = ingest(f, nf, "email", "A@Example.net", 2);
	g_autofree char *r3 = ingest(f, nf, "email", "a@example.net", 3);
	g_autofree char *r4 = ingest(f, nf, "email", "b@example.net", 4);
	assert_int_equal(count_kind(f->st, r1), 1);
	assert_int_equal(count_kind(f->st, r2), 1);
	assert_int_equal(count_kind(f->st, r3), 0);   /* third to a@ in 24 h: cap 2 */
	assert_int_equal(count_kind(f->st, r4), 1);
	struct store_complaint *c = store_get(f->st, r3, &err);
	assert_non_null(c);
	bool suppressed = false;
	for (guint i = 0; i < c->events->len; i++)
		suppressed |= strcmp(((struct store_event *)c->events->pdata[i])->kind,
				     "notice_suppressed") == 0;
	assert_true(suppressed);
	store_complaint_free(c);
	notify_free(nf);
}

static void test_letter_printed(void **state)
{
	struct fixture *f = *state;
	GError *err = NULL;
	struct notify *nf = notify_new(f->cfg, NULL, &err);
	assert_null(err);
	g_autofree char *letter = ingest(f, nf, "letter", NULL, 10);
	g_autofree char *mail = ingest(f, nf, "email", "c@example.net", 11);
	struct notify_drain_stats s;
	assert_int_equal(notify_drain(f->st, f->cfg, &s, &err), 0);   /* no [smtp] section */
	assert_int_equal(s.printed, 1);
	assert_int_equal(s.sent, 0);
	GPtrArray *rows = store_outbox_list(f->st, NULL, &err);
	assert_int_equal(rows->len, 2);
	for (guint i = 0; i < rows->len; i++) {
		struct store_outbox_row *r = rows->pdata[i];
		if (strcmp(r->ref, letter) == 0) {
			assert_string_equal(r->state, "print");
			g_autofree char *expect = g_strdup_printf("%s/print/%s-acknowledgment-%" G_GINT64_FORMAT
								  ".txt", f->dir, letter, (gint64)r->id);
			assert_string_equal(r->print_path, expect);
			g_autofree char *text = NULL;
			assert_true(g_file_get_contents(r->print_path, &text, NULL, NULL));
			assert_non_null(strstr(text, letter));
			assert_non_null(strstr(text, "赵敏"));
			assert_non_null(strstr(text, "********8888"));
			assert_null(strstr(text, "310077778888"));
		} else {
			assert_string_equal(r->state, "pending");   /* waits for an [smtp] section */
			assert_int_equal(r->attempts, 0);
		}
	}
	g_ptr_array_unref(rows);
	assert_int_equal(notify_drain(f->st, f->cfg, &s, &err), 0);
	assert_int_equal(s.printed, 0);   /* printed once */
	notify_free(nf);
}

static void test_email_without_address(void **state)
{
	struct fixture *f = *state;
	GError *err = NULL;
	struct notify *nf = notify_new(f->cfg, NULL, &err);
	g_autofree char *ref = ingest(f, nf, "email", NULL, 20);   /* a null sender */
	assert_int_equal(count_kind(f->st, ref), 0);
	notify_free(nf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_acknowledgment),
		cmocka_unit_test(test_render_non_acceptance),
		cmocka_unit_test(test_subject_gets_ref),
		cmocka_unit_test(test_unknown_placeholder),
		cmocka_unit_test(test_phrases_checked),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_message_headers),
		cmocka_unit_test(test_message_ids),
		cmocka_unit_test(test_guard),
		cmocka_unit_test_setup_teardown(test_daily_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_letter_printed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_without_address, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
