/* The SQL of the review (store/review.c) on a real SQLite file: edits with
   their events and refusals, the ledger-only fields, the ledger query with
   its bounds, the customer registry import (upsert and replace) with its
   events on drafts, and the registry lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "store/store.h"

struct fixture {
	char *dir;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	f->dir = g_dir_make_tmp("test_review.XXXXXX", NULL);
	assert_non_null(f->dir);
	g_autofree char *path = g_build_filename(f->dir, "intake.db", NULL);
	GError *err = NULL;
	f->st = store_open(path, &err);
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
	g_free(f->dir);
	g_free(f);
	return 0;
}

/* Ingests one draft claiming `account`; returns its reference (caller frees). */
static char *ingest_one(struct store *st, const char *origin, const char *day, int64_t received,
			const char *account)
{
	struct store_source src = {
		.kind = "manual", .origin = origin, .sha256 = origin, .size = 10,
		.spool_path = "ab/cd", .received_at = received,
	};
	struct store_account acc[] = { { account, "资金账号：" } };
	struct store_draft d = {
		.channel = "email", .ref_prefix = "TS", .ref_day = day,
		.acceptance_due = received + 3 * 86400, .handling_due = received + 20 * 86400,
		.handling_due_extended = received + 40 * 86400,
		.name = "张三", .email = "zhangsan@example.cn", .subject = "投诉：无法登录",
		.body = "我的资金账号无法登录。", .accounts = acc, .n_accounts = account ? 1 : 0,
		.actor = "intake",
	};
	char *ref = NULL;
	GError *err = NULL;
	assert_int_equal(store_ingest(st, &src, &d, &ref, &err), 1);
	assert_null(err);
	return ref;
}

/* The events of one kind, in order (a GPtrArray of details; unref it). */
static GPtrArray *events_of(struct store *st, const char *ref, const char *kind)
{
	GError *err = NULL;
	struct store_complaint *c = store_get(st, ref, &err);
	assert_non_null(c);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < c->events->len; i++) {
		const struct store_event *e = c->events->pdata[i];
		if (strcmp(e->kind, kind) == 0)
			g_ptr_array_add(out, g_strdup(e->detail));
	}
	store_complaint_free(c);
	return out;
}

static void test_edit_records_old_and_new(void **state)
{
	struct fixture *f = *state;
	g_autofree char *ref = ingest_one(f->st, "o1", "20260929", 1000, "3100886652");
	struct store_edit e[] = { { "name", "张叁", false }, { "phone", " 138-0013-8000 ", false },
				  { "email", "zhangsan@example.cn", false } };
	GError *err = NULL;
	assert_int_equal(store_edit(f->st, ref, e, 3, "li", 5000, &err), 2);
	assert_null(err);
	assert_true(e[0].changed);
	assert_true(e[1].changed);
	assert_false(e[2].changed);   /* the same value: no event */
	GPtrArray *ev = events_of(f->st, ref, "edited");
	assert_int_equal(ev->len, 2);
	assert_string_equal(ev->pdata[0], "{\"field\":\"name\",\"old\":\"张三\",\"new\":\"张叁\"}");
	assert_string_equal(ev->pdata[1], "{\"field\":\"phone\",\"old\":null,\"new\":\"138-0013-8000\"}");
	g_ptr_array_unref(ev);
	struct store_complaint *c = store_get(f->st, ref, &err);
	assert_string_equal(c->name, "张叁");
	assert_string_equal(c->phone, "138-0013-8000");
	store_complaint_free(c);
}

static void test_edit_refuses_and_applies_nothing(void **state)
{
	struct fixture *f = *state;
	g_autofree char *ref = ingest_one(f->st, "o1", "20260929", 1000, "3100886652");
	static const struct { const char *field, *value, *expect; } bad[] = {
		{ "colour", "red", "unknown field \"colour\"" },
		{ "email", "not an address", "e-mail address" },
		{ "phone", "call me", "phone number" },
		{ "accounts", "3100886652,12ab", "\"12ab\" is not one" },
		{ "archived", "maybe", "yes or no" },
		{ "name", "张\x01三", "control characters" },
		{ "respondent", "a\nb", "one line" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct store_edit e[] = { { "name", "李四", false }, { bad[i].field, bad[i].value, false } };
		GError *err = NULL;
		assert_int_equal(store_edit(f->st, ref, e, 2, "li", 5000, &err), -1);
		assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_INVALID));
		if (strstr(err->message, bad[i].expect) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].field, err->message, bad[i].expect);
		assert_false(e[0].changed);
		g_error_free(err);
	}
	GPtrArray *ev = events_of(f->st, ref, "edited");
	assert_int_equal(ev->len, 0);
	g_ptr_array_unref(ev);
	GError *err = NULL;
	struct store_edit e = { "name", "李四", false };
	assert_int_equal(store_edit(f->st, "TS20990101-0001", &e, 1, "li", 5000, &err), -1);
	assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND));
	g_error_free(err);
}

static void test_edit_accounts_replace(void **state)
{
	struct fixture *f = *state;
	g_autofree char *ref = ingest_one(f->st, "o1", "20260929", 1000, "3100886652");
	struct store_edit e = { "accounts", "3100886652，3100886653、3100886653", false };
	GError *err = NULL;
	assert_int_equal(store_edit(f->st, ref, &e, 1, "li", 5000, &err), 1);
	struct store_complaint *c = store_get(f->st, ref, &err);
	assert_int_equal(c->accounts->len, 2);
	const struct store_complaint_account *a0 = c->accounts->pdata[0], *a1 = c->accounts->pdata[1];
	assert_string_equal(a0->value, "3100886652");
	assert_string_equal(a0->context, "资金账号：");   /* kept with its context */
	assert_string_equal(a1->value, "3100886653");
	assert_null(a1->context);
	store_complaint_free(c);
	e = (struct store_edit){ "accounts", "3100886653", false };
	assert_int_equal(store_edit(f->st, ref, &e, 1, "li", 5001, &err), 1);
	c = store_get(f->st, ref, &err);
	assert_int_equal(c->accounts->len, 1);
	assert_string_equal(((struct store_complaint_account *)c->accounts->pdata[0])->value,
			    "3100886653");
	store_complaint_free(c);
	GPtrArray *ev = events_of(f->st, ref, "edited");
	assert_string_equal(ev->pdata[0], "{\"field\":\"accounts\",\"old\":[\"3100886652\"],"
			    "\"new\":[\"3100886652\",\"3100886653\"]}");
	assert_string_equal(ev->pdata[1], "{\"field\":\"accounts\",\"old\":[\"3100886652\","
			    "\"3100886653\"],\"new\":[\"3100886653\"]}");
	g_ptr_array_unref(ev);
}

static void test_edit_after_decision(void **state)
{
	struct fixture *f = *state;
	g_autofree char *ref = ingest_one(f->st, "o1", "20260929", 1000, "3100886652");
	struct store_decision dec = { .status = "accepted", .actor = "li", .at = 5000 };
	GError *err = NULL;
	assert_int_equal(store_decide(f->st, ref, &dec, &err), 0);
	struct store_edit e[] = { { "respondent", "上海营业部 王五", false }, { "name", "张叁", false } };
	assert_int_equal(store_edit(f->st, ref, e, 2, "wang", 6000, &err), -1);
	assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_STATE));
	assert_non_null(strstr(err->message, "name cannot change"));
	assert_non_null(strstr(err->message, "by li"));
	assert_false(e[0].changed);
	g_clear_error(&err);
	struct store_review_fields rf;
	assert_int_equal(store_review_fields_get(f->st, ref, &rf, &err), 0);
	assert_null(rf.respondent);   /* rolled back with the refused edit */
	store_review_fields_clear(&rf);
	assert_int_equal(store_edit(f->st, ref, e, 1, "wang", 6000, &err), 1);
	struct store_edit later[] = { { "result", "已和解", false }, { "archived", "是", false },
				      { "remarks", "电话回访\r\n客户满意", false } };
	assert_int_equal(store_edit(f->st, ref, later, 3, "wang", 6001, &err), 3);
	assert_int_equal(store_review_fields_get(f->st, ref, &rf, &err), 0);
	assert_string_equal(rf.respondent, "上海营业部 王五");
	assert_string_equal(rf.result, "已和解");
	assert_string_equal(rf.remarks, "电话回访\n客户满意");
	assert_true(rf.archived);
	assert_null(rf.request);
	store_review_fields_clear(&rf);
	struct store_edit clear[] = { { "respondent", "  ", false }, { "archived", "no", false } };
	assert_int_equal(store_edit(f->st, ref, clear, 2, "wang", 6002, &err), 2);
	assert_int_equal(store_review_fields_get(f->st, ref, &rf, &err), 0);
	assert_null(rf.respondent);
	assert_false(rf.archived);
	store_review_fields_clear(&rf);
	assert_int_equal(store_review_fields_get(f->st, "TS20990101-0001", &rf, &err), -1);
	assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND));
	g_error_free(err);
}

static void test_ledger_rows_and_bounds(void **state)
{
	struct fixture *f = *state;
	g_autofree char *b = ingest_one(f->st, "o2", "20260930", 2000, "3100886653");
	g_autofree char *a = ingest_one(f->st, "o1", "20260929", 1000, "3100886652");
	g_autofree char *c = ingest_one(f->st, "o3", "20261008", 3000, NULL);
	struct store_decision dec = { .status = "not_accepted", .reason = "not_customer",
				      .note = "查无此账户", .actor = "li", .at = 4000 };
	GError *err = NULL;
	assert_int_equal(store_decide(f->st, b, &dec, &err), 0);
	struct store_edit e[] = { { "respondent", "北京营业部", false }, { "request", "赔偿损失", false } };
	assert_int_equal(store_edit(f->st, a, e, 2, "li", 4100, &err), 2);

	GPtrArray *rows = store_ledger(f->st, 0, 0, &err);
	assert_non_null(rows);
	assert_int_equal(rows->len, 3);
	const struct store_ledger_row *r0 = rows->pdata[0], *r1 = rows->pdata[1], *r2 = rows->pdata[2];
	assert_string_equal(r0->ref, a);
	assert_string_equal(r1->ref, b);
	assert_string_equal(r2->ref, c);
	assert_string_equal(r0->review.respondent, "北京营业部");
	assert_string_equal(r0->review.request, "赔偿损失");
	assert_string_equal(r0->accounts[0], "3100886652");
	assert_null(r0->accounts[1]);
	assert_string_equal(r0->status, "draft");
	assert_string_equal(r1->status, "not_accepted");
	assert_string_equal(r1->reason, "not_customer");
	assert_string_equal(r1->note, "查无此账户");
	assert_string_equal(r1->decided_by, "li");
	assert_int_equal(r1->decided_at, 4000);
	assert_int_equal(r1->received_at, 2000);
	assert_int_equal(r1->acceptance_due, 2000 + 3 * 86400);
	assert_null(r2->accounts[0]);
	assert_string_equal(r2->name, "张三");
	assert_string_equal(r2->body, "我的资金账号无法登录。");
	g_ptr_array_unref(rows);

	rows = store_ledger(f->st, 2000, 3000, &err);   /* [from, to) */
	assert_int_equal(rows->len, 1);
	assert_string_equal(((struct store_ledger_row *)rows->pdata[0])->ref, b);
	g_ptr_array_unref(rows);
	rows = store_ledger(f->st, 0, 1000, &err);
	assert_int_equal(rows->len, 0);
	g_ptr_array_unref(rows);
}

static bool in_registry(struct store *st, const char *ref, guint i)
{
	GError *err = NULL;
	struct store_complaint *c = store_get(st, ref, &err);
	assert_non_null(c);
	bool in = ((struct store_complaint_account *)c->accounts->pdata[i])->in_registry;
	store_complaint_free(c);
	return in;
}

static void test_customers_import(void **state)
{
	struct fixture *f = *state;
	g_autofree char *draft = ingest_one(f->st, "o1", "20260929", 1000, "3100886652");
	g_autofree char *decided = ingest_one(f->st, "o2", "20260929", 1100, "3100886652");
	GError *err = NULL;
	struct store_decision dec = { .status = "accepted", .actor = "li", .at = 1200 };
	assert_int_equal(store_decide(f->st, decided, &dec, &err), 0);
	assert_false(in_registry(f->st, draft, 0));

	const struct store_customer rows[] = {
		{ "3100886652", "张三", "11010519491231002X", "13800138000" },
		{ "3100886699", "李四", NULL, NULL } };
	unsigned changed = 99;
	assert_int_equal(store_customers_import(f->st, rows, 2, false, "ops", "k.csv", 2000, &changed,
						&err), 2);
	assert_null(err);
	assert_int_equal(changed, 1);   /* the draft only */
	assert_true(in_registry(f->st, draft, 0));
	GPtrArray *ev = events_of(f->st, draft, "registry");
	assert_int_equal(ev->len, 1);
	assert_string_equal(ev->pdata[0], "3100886652 now in the customer registry");
	g_ptr_array_unref(ev);
	ev = events_of(f->st, decided, "registry");
	assert_int_equal(ev->len, 0);
	g_ptr_array_unref(ev);

	g_autofree char *name = NULL;
	assert_int_equal(store_customer_lookup(f->st, "3100886652", &name, &err), 1);
	assert_string_equal(name, "张三");
	assert_int_equal(store_customer_lookup(f->st, "3100880000", NULL, &err), 0);

	/* an upsert that changes nothing for the draft writes no event */
	const struct store_customer again[] = { { "3100886652", "张三丰", NULL, NULL } };
	assert_int_equal(store_customers_import(f->st, again, 1, false, "ops", "k.csv", 2100, &changed,
						&err), 1);
	assert_int_equal(changed, 0);
	/* replacing the registry drops the account */
	const struct store_customer other[] = { { "3100886699", "李四", NULL, NULL } };
	assert_int_equal(store_customers_import(f->st, other, 1, true, "ops", "k2.csv", 2200, &changed,
						&err), 1);
	assert_int_equal(changed, 1);
	assert_false(in_registry(f->st, draft, 0));
	assert_int_equal(store_customer_lookup(f->st, "3100886652", NULL, &err), 0);
	assert_int_equal(store_customer_lookup(f->st, "3100886699", NULL, &err), 1);
	ev = events_of(f->st, draft, "registry");
	assert_int_equal(ev->len, 2);
	assert_string_equal(ev->pdata[1], "3100886652 no longer in the customer registry");
	g_ptr_array_unref(ev);

	const struct store_customer none[] = { { "", "无名", NULL, NULL } };
	assert_int_equal(store_customers_import(f->st, none, 1, true, "ops", "k3.csv", 2300, NULL,
						&err), -1);
	assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_INVALID));
	g_error_free(err);
	assert_int_equal(store_customer_lookup(f->st, "3100886699", NULL, NULL), 1);   /* kept */
}

static void test_edit_fields_list(void **state)
{
	(void)state;
	const char *const *names = store_edit_fields();
	assert_true(g_strv_contains(names, "respondent"));
	assert_true(g_strv_contains(names, "accounts"));
	assert_false(g_strv_contains(names, "status"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_edit_records_old_and_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_refuses_and_applies_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_accounts_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_after_decision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger_rows_and_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_customers_import, setup, teardown),
		cmocka_unit_test(test_edit_fields_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
