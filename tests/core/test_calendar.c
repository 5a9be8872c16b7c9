/* Unit tests of core/calendar.c: the 2025-2026 calendar in config/calendar/cn.conf,
   working days, the acceptance / handling / extended deadlines (dates worked
   out by hand), uncovered years, and the parser's errors. Run from the repo root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/calendar.h"

#define CN_CONF "config/calendar/cn.conf"

/* One complaint: when it came, the close of business (0 none) and the
   expected last days of its periods; uncertain_year 0 means certain. */
struct deadline_case {
	const char *name;
	const char *received;
	int close_of_business;
	const char *acceptance, *handling, *extended;
	int uncertain_year;
};

static const struct deadline_case deadline_cases[] = {
	/* 2024 is not covered: counted Monday-Friday and flagged. */
	{ "2024-10-08 Tue, before coverage", "2024-10-08T10:00:00+08:00", 0,
	  "2024-10-11", "2024-11-05", "2024-12-03", 2024 },
	/* Receipt in 2024 is not counted: every counted day is in 2025. */
	{ "2024-12-31 Tue, counting starts in covered 2025", "2024-12-31T10:00:00+08:00", 0,
	  "2025-01-06", "2025-02-05", "2025-03-04", 0 },
	/* Sat 25 Jan off, Sun 26 Jan worked (1), 27 Jan (2), 28 Jan-4 Feb off, 5 Feb (3). */
	{ "2025-01-24 Fri, before Spring Festival", "2025-01-24T15:00:00+08:00", 0,
	  "2025-02-05", "2025-02-27", "2025-03-27", 0 },
	{ "2025-01-26 make-up Sunday receipt", "2025-01-26T09:00:00+08:00", 0,
	  "2025-02-06", "2025-02-28", "2025-03-28", 0 },
	{ "2025-01-30 receipt on a holiday", "2025-01-30T11:00:00+08:00", 0,
	  "2025-02-07", "2025-03-03", "2025-03-31", 0 },
	/* 7 Feb (1), Sat 8 Feb worked (2), Mon 10 Feb (3). */
	{ "2025-02-06 Thu, make-up Saturday 8 Feb", "2025-02-06T10:00:00+08:00", 0,
	  "2025-02-10", "2025-03-05", "2025-04-02", 0 },
	{ "2025-04-03 Thu, before Qingming", "2025-04-03T10:00:00+08:00", 0,
	  "2025-04-09", "2025-05-06", "2025-06-04", 0 },
	/* Sun 27 Apr worked (1), 28 Apr (2), 29 Apr (3). */
	{ "2025-04-25 Fri, make-up Sunday 27 Apr", "2025-04-25T10:00:00+08:00", 0,
	  "2025-04-29", "2025-05-27", "2025-06-25", 0 },
	/* 30 Apr (1), 1-5 May off, 6 May (2), 7 May (3). */
	{ "2025-04-29 Tue, before Labour Day", "2025-04-29T10:00:00+08:00", 0,
	  "2025-05-07", "2025-05-30", "2025-06-30", 0 },
	{ "2025-05-30 Fri, before Dragon Boat", "2025-05-30T10:00:00+08:00", 0,
	  "2025-06-05", "2025-06-30", "2025-07-28", 0 },
	/* Sun 28 Sep worked (1), 29 Sep (2), 30 Sep (3). */
	{ "2025-09-26 Fri, make-up Sunday 28 Sep", "2025-09-26T10:00:00+08:00", 0,
	  "2025-09-30", "2025-10-30", "2025-11-27", 0 },
	/* 1-8 Oct off, 9 Oct (1), 10 Oct (2), Sat 11 Oct worked (3). */
	{ "2025-09-30 Tue, National Day and make-up 11 Oct", "2025-09-30T10:00:00+08:00", 0,
	  "2025-10-11", "2025-11-04", "2025-12-02", 0 },
	/* 1-3 Jan off, Sun 4 Jan worked (1), 5 Jan (2), 6 Jan (3). */
	{ "2025-12-31 Wed, across the year end", "2025-12-31T12:00:00+08:00", 0,
	  "2026-01-06", "2026-01-29", "2026-03-04", 0 },
	{ "2026-01-04 make-up Sunday receipt", "2026-01-04T10:00:00+08:00", 0,
	  "2026-01-07", "2026-01-30", "2026-03-05", 0 },
	/* DOMAIN.md's worked example: Sat 14 Feb (1), 24 Feb (2), 25 Feb (3). */
	{ "2026-02-13 Fri 16:00, Spring Festival", "2026-02-13T16:00:00+08:00", 0,
	  "2026-02-25", "2026-03-19", "2026-04-17", 0 },
	{ "2026-02-13 08:00 UTC is 16:00 Shanghai", "2026-02-13T08:00:00Z", 0,
	  "2026-02-25", "2026-03-19", "2026-04-17", 0 },
	/* 20:00 UTC is Sat 14 Feb 04:00 Shanghai, a make-up working day. */
	{ "2026-02-13 20:00 UTC is Saturday in Shanghai", "2026-02-13T20:00:00Z", 0,
	  "2026-02-26", "2026-03-20", "2026-04-20", 0 },
	{ "2026-02-13 17:29, before a 17:30 close", "2026-02-13T17:29:00+08:00", 17 * 60 + 30,
	  "2026-02-25", "2026-03-19", "2026-04-17", 0 },
	{ "2026-02-13 17:30, at a 17:30 close", "2026-02-13T17:30:00+08:00", 17 * 60 + 30,
	  "2026-02-26", "2026-03-20", "2026-04-20", 0 },
	/* Counts as received Sat 14 Feb: 24 Feb (1), 25 Feb (2), 26 Feb (3). */
	{ "2026-02-13 17:45, after a 17:30 close", "2026-02-13T17:45:00+08:00", 17 * 60 + 30,
	  "2026-02-26", "2026-03-20", "2026-04-20", 0 },
	{ "2026-02-14 make-up Saturday receipt", "2026-02-14T10:00:00+08:00", 0,
	  "2026-02-26", "2026-03-20", "2026-04-20", 0 },
	{ "2026-02-17 receipt on a holiday", "2026-02-17T10:00:00+08:00", 0,
	  "2026-02-26", "2026-03-20", "2026-04-20", 0 },
	/* Sat 28 Feb worked (1), 2 Mar (2), 3 Mar (3). */
	{ "2026-02-27 Fri, make-up Saturday 28 Feb", "2026-02-27T10:00:00+08:00", 0,
	  "2026-03-03", "2026-03-26", "2026-04-24", 0 },
	{ "2026-03-07 receipt on a Saturday", "2026-03-07T10:00:00+08:00", 0,
	  "2026-03-11", "2026-04-03", "2026-05-07", 0 },
	{ "2026-03-08 receipt on a Sunday", "2026-03-08T10:00:00+08:00", 0,
	  "2026-03-11", "2026-04-03", "2026-05-07", 0 },
	{ "2026-04-03 Fri, before Qingming", "2026-04-03T10:00:00+08:00", 0,
	  "2026-04-09", "2026-05-07", "2026-06-03", 0 },
	{ "2026-04-30 Thu, before Labour Day", "2026-04-30T10:00:00+08:00", 0,
	  "2026-05-08", "2026-06-01", "2026-06-30", 0 },
	/* 8 May (1), Sat 9 May worked (2), 11 May (3). */
	{ "2026-05-07 Thu, make-up Saturday 9 May", "2026-05-07T10:00:00+08:00", 0,
	  "2026-05-11", "2026-06-03", "2026-07-02", 0 },
	{ "2026-06-18 Thu, before Dragon Boat", "2026-06-18T10:00:00+08:00", 0,
	  "2026-06-24", "2026-07-17", "2026-08-14", 0 },
	/* Sun 20 Sep worked (1), 21 Sep (2), 22 Sep (3). */
	{ "2026-09-18 Fri, make-up Sunday 20 Sep", "2026-09-18T10:00:00+08:00", 0,
	  "2026-09-22", "2026-10-22", "2026-11-19", 0 },
	{ "2026-09-24 Thu, before Mid-Autumn", "2026-09-24T10:00:00+08:00", 0,
	  "2026-09-30", "2026-10-29", "2026-11-26", 0 },
	/* 1-7 Oct off, 8 Oct (1), 9 Oct (2), Sat 10 Oct worked (3). */
	{ "2026-09-30 Wed, National Day and make-up 10 Oct", "2026-09-30T10:00:00+08:00", 0,
	  "2026-10-10", "2026-11-03", "2026-12-01", 0 },
	/* Acceptance in 2026, handling reaches uncovered 2027. */
	{ "2026-12-10 Thu, handling reaches 2027", "2026-12-10T10:00:00+08:00", 0,
	  "2026-12-15", "2027-01-07", "2027-02-04", 2027 },
	/* 30 Dec (1), 31 Dec (2), Fri 1 Jan 2027 taken as working (3). */
	{ "2026-12-29 Tue, acceptance reaches 2027", "2026-12-29T10:00:00+08:00", 0,
	  "2027-01-01", "2027-01-26", "2027-02-23", 2027 },
};

static struct calendar *load_cn(void)
{
	GError *error = NULL;
	struct calendar *cal = calendar_load(CN_CONF, &error);

	if (!cal)
		fail_msg("%s", error->message);
	return cal;
}

static GTimeZone *shanghai(void)
{
	GTimeZone *tz = g_time_zone_new_identifier("Asia/Shanghai");

	assert_non_null(tz);
	return tz;
}

/* Returns a new GDate for "YYYY-MM-DD". */
static GDate *date_new(const char *iso)
{
	int y, m, d;

	assert_int_equal(sscanf(iso, "%d-%d-%d", &y, &m, &d), 3);
	assert_true(g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y));
	return g_date_new_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y);
}

/* Asserts that `t` is `day` at the due time of `close` (0: 23:59:59). */
static void assert_due(GDateTime *t, const char *day, int close, const char *offset)
{
	g_autofree char *want = close > 0 ?
		g_strdup_printf("%sT%02d:%02d:00%s", day, close / 60, close % 60, offset) :
		g_strdup_printf("%sT23:59:59%s", day, offset);
	g_autofree char *got = NULL;

	assert_non_null(t);
	got = g_date_time_format(t, "%Y-%m-%dT%H:%M:%S%:z");
	assert_string_equal(got, want);
}

/* Computes the deadlines of `received` on `cal` in Shanghai; asserts success. */
static void deadlines_of(const struct calendar *cal, const char *received, int close,
			 struct calendar_deadlines *out)
{
	struct calendar_rules rules = { .close_of_business = close };
	g_autoptr(GTimeZone) tz = shanghai();
	g_autoptr(GDateTime) when = g_date_time_new_from_iso8601(received, NULL);
	GError *error = NULL;

	assert_non_null(when);
	if (calendar_deadlines(cal, &rules, tz, when, out, &error) < 0)
		fail_msg("%s", error->message);
}

static void test_deadline_case(void **state)
{
	const struct deadline_case *c = *state;
	struct calendar *cal = load_cn();
	struct calendar_deadlines d;

	deadlines_of(cal, c->received, c->close_of_business, &d);
	assert_due(d.acceptance_due, c->acceptance, c->close_of_business, "+08:00");
	assert_due(d.handling_due, c->handling, c->close_of_business, "+08:00");
	assert_due(d.handling_due_extended, c->extended, c->close_of_business, "+08:00");
	assert_int_equal(d.uncertain, c->uncertain_year != 0);
	assert_int_equal(d.uncertain_year, c->uncertain_year);
	calendar_deadlines_clear(&d);
	assert_null(d.received);
	calendar_free(cal);
}

/* Which deadline crossed into the uncovered year: the extension alone does
   not make a complaint's clock uncertain. */
static void test_uncertain_per_period(void **state)
{
	struct calendar *cal = load_cn();
	struct calendar_deadlines d;

	(void)state;
	deadlines_of(cal, "2026-11-23T10:00:00+08:00", 0, &d);
	assert_true(d.uncertain);
	assert_false(d.acceptance_uncertain);
	assert_false(d.handling_uncertain);
	assert_int_equal(d.uncertain_year, 2027);
	calendar_deadlines_clear(&d);
	deadlines_of(cal, "2026-12-28T10:00:00+08:00", 0, &d);
	assert_false(d.acceptance_uncertain);
	assert_true(d.handling_uncertain);
	assert_due(d.acceptance_due, "2026-12-31", 0, "+08:00");
	calendar_deadlines_clear(&d);
	deadlines_of(cal, "2026-12-30T10:00:00+08:00", 0, &d);
	assert_true(d.acceptance_uncertain);
	assert_true(d.handling_uncertain);
	calendar_deadlines_clear(&d);
	calendar_free(cal);
}

static void test_load_cn_conf(void **state)
{
	struct calendar *cal = load_cn();
	g_autofree char *bytes = NULL;
	g_autofree char *sum = NULL;
	gsize len = 0;

	(void)state;
	assert_true(calendar_covers_year(cal, 2025));
	assert_true(calendar_covers_year(cal, 2026));
	assert_false(calendar_covers_year(cal, 2024));
	assert_false(calendar_covers_year(cal, 2027));
	assert_true(g_file_get_contents(CN_CONF, &bytes, &len, NULL));
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)bytes, len);
	assert_string_equal(calendar_fingerprint(cal), sum);
	assert_int_equal(strlen(calendar_fingerprint(cal)), 64);
	calendar_free(cal);
	calendar_free(NULL);
}

static void test_fingerprint_known(void **state)
{
	static const char data[] = "[2026]\nholidays = 2026-01-01\n";
	struct calendar *cal = calendar_parse(data, strlen(data), "t.conf", NULL);

	(void)state;
	assert_non_null(cal);
	assert_string_equal(calendar_fingerprint(cal),
			    "0bd8cdee224c79a3241855c25abd092389457829f26b24d24f1ce1e26c01d053");
	calendar_free(cal);
}

/* One day: whether it is worked and whether the answer is flagged. */
struct day_case {
	const char *date;
	bool works, uncertain;
};

static const struct day_case day_cases[] = {
	{ "2024-06-10", true, true }, /* 2024 not covered: Monday counts */
	{ "2024-12-31", true, true },
	{ "2025-01-01", false, false }, { "2025-01-02", true, false },
	{ "2025-01-24", true, false }, { "2025-01-25", false, false },
	{ "2025-01-26", true, false }, { "2025-01-27", true, false },
	{ "2025-01-28", false, false }, { "2025-02-04", false, false },
	{ "2025-02-05", true, false }, { "2025-02-08", true, false },
	{ "2025-02-09", false, false }, { "2025-04-03", true, false },
	{ "2025-04-04", false, false }, { "2025-04-06", false, false },
	{ "2025-04-07", true, false }, { "2025-04-27", true, false },
	{ "2025-04-30", true, false }, { "2025-05-01", false, false },
	{ "2025-05-05", false, false }, { "2025-05-06", true, false },
	{ "2025-05-30", true, false }, { "2025-05-31", false, false },
	{ "2025-06-02", false, false }, { "2025-06-03", true, false },
	{ "2025-09-28", true, false }, { "2025-09-30", true, false },
	{ "2025-10-01", false, false }, { "2025-10-08", false, false },
	{ "2025-10-09", true, false }, { "2025-10-11", true, false },
	{ "2025-10-12", false, false }, { "2025-12-31", true, false },
	{ "2026-01-01", false, false }, { "2026-01-03", false, false },
	{ "2026-01-04", true, false }, { "2026-01-05", true, false },
	{ "2026-02-13", true, false }, { "2026-02-14", true, false },
	{ "2026-02-15", false, false }, { "2026-02-23", false, false },
	{ "2026-02-24", true, false }, { "2026-02-28", true, false },
	{ "2026-03-01", false, false }, { "2026-03-07", false, false },
	{ "2026-04-03", true, false }, { "2026-04-04", false, false },
	{ "2026-04-06", false, false }, { "2026-04-07", true, false },
	{ "2026-04-30", true, false }, { "2026-05-01", false, false },
	{ "2026-05-05", false, false }, { "2026-05-06", true, false },
	{ "2026-05-09", true, false }, { "2026-05-10", false, false },
	{ "2026-06-18", true, false }, { "2026-06-19", false, false },
	{ "2026-06-21", false, false }, { "2026-06-22", true, false },
	{ "2026-09-20", true, false }, { "2026-09-24", true, false },
	{ "2026-09-25", false, false }, { "2026-09-27", false, false },
	{ "2026-09-28", true, false }, { "2026-09-30", true, false },
	{ "2026-10-01", false, false }, { "2026-10-07", false, false },
	{ "2026-10-08", true, false }, { "2026-10-10", true, false },
	{ "2026-10-11", false, false }, { "2026-12-31", true, false },
	{ "2027-01-01", true, true }, /* really a holiday, but 2027 is not covered */
	{ "2027-01-02", false, true },
};

static void test_is_working_day(void **state)
{
	struct calendar *cal = load_cn();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(day_cases); i++) {
		GDate *d = date_new(day_cases[i].date);
		bool uncertain = !day_cases[i].uncertain;
		bool works = calendar_is_working_day(cal, d, &uncertain);

		if (works != day_cases[i].works || uncertain != day_cases[i].uncertain)
			fail_msg("%s: works %d uncertain %d", day_cases[i].date, works, uncertain);
		g_date_free(d);
	}
	calendar_free(cal);
}

/* Asserts calendar_working_days_between(from, to) == want and its flag. */
static void assert_between(const struct calendar *cal, const char *from, const char *to,
			   int want, bool want_uncertain)
{
	GDate *a = date_new(from), *b = date_new(to);
	bool uncertain = !want_uncertain;

	assert_int_equal(calendar_working_days_between(cal, a, b, &uncertain), want);
	assert_int_equal(uncertain, want_uncertain);
	g_date_free(a);
	g_date_free(b);
}

static void test_working_days_between(void **state)
{
	struct calendar *cal = load_cn();

	(void)state;
	assert_between(cal, "2026-02-13", "2026-02-25", 3, false);
	assert_between(cal, "2026-02-25", "2026-02-13", -3, false);
	assert_between(cal, "2026-02-25", "2026-02-25", 0, false);
	assert_between(cal, "2026-02-14", "2026-02-23", 0, false);
	/* Due 25 Feb, today 2 Mar: 26, 27, Sat 28 Feb, 2 Mar: overdue by 4. */
	assert_between(cal, "2026-02-25", "2026-03-02", 4, false);
	assert_between(cal, "2026-03-02", "2026-02-25", -4, false);
	assert_between(cal, "2026-09-30", "2026-10-10", 3, false);
	assert_between(cal, "2025-01-27", "2025-02-08", 4, false);
	/* 31 Dec, Fri 1 Jan, 4 Jan, 5 Jan 2027: the 2027 days are guesses. */
	assert_between(cal, "2026-12-30", "2027-01-05", 4, true);
	assert_between(cal, "2027-01-05", "2026-12-30", -4, true);
	assert_between(cal, "2024-12-31", "2025-01-02", 1, false);
	assert_between(cal, "2024-12-30", "2025-01-02", 2, true);
	calendar_free(cal);
}

/* Asserts calendar_add_working_days(from, n) == want and its flag. */
static void assert_add(const struct calendar *cal, const char *from, int n, const char *want,
		       bool want_uncertain)
{
	GDate *a = date_new(from);
	GDate got;
	bool uncertain = !want_uncertain;
	char buf[16];

	calendar_add_working_days(cal, a, n, &got, &uncertain);
	g_date_strftime(buf, sizeof(buf), "%Y-%m-%d", &got);
	assert_string_equal(buf, want);
	assert_int_equal(uncertain, want_uncertain);
	if (n > 0)
		assert_int_equal(calendar_working_days_between(cal, a, &got, NULL), n);
	g_date_free(a);
}

static void test_add_working_days(void **state)
{
	struct calendar *cal = load_cn();

	(void)state;
	assert_add(cal, "2026-02-13", 3, "2026-02-25", false);
	assert_add(cal, "2026-02-13", 20, "2026-03-19", false);
	assert_add(cal, "2026-02-13", 0, "2026-02-13", false);
	assert_add(cal, "2026-02-24", -1, "2026-02-14", false);
	assert_add(cal, "2026-02-24", -2, "2026-02-13", false);
	assert_add(cal, "2025-12-31", 3, "2026-01-06", false);
	assert_add(cal, "2026-12-29", 3, "2027-01-01", true);
	assert_add(cal, "2025-01-02", -1, "2024-12-31", true);
	/* The walk stops at 9999-12-31, the last day GDateTime can show. */
	GDate *end = date_new("9999-12-30"), got;
	bool uncertain = false;
	calendar_add_working_days(cal, end, 5, &got, &uncertain);
	assert_int_equal(g_date_get_year(&got), 9999);
	assert_int_equal(g_date_get_month(&got), 12);
	assert_int_equal(g_date_get_day(&got), 31);
	assert_true(uncertain);
	g_date_free(end);
	calendar_free(cal);
}

/* Returns cn.conf with `extra` appended, parsed; asserts success. */
static struct calendar *cn_with(const char *extra)
{
	g_autofree char *bytes = NULL;
	g_autofree char *all = NULL;
	GError *error = NULL;
	struct calendar *cal;

	assert_true(g_file_get_contents(CN_CONF, &bytes, NULL, NULL));
	all = g_strconcat(bytes, extra, NULL);
	cal = calendar_parse(all, strlen(all), "cn+2027.conf", &error);
	if (!cal)
		fail_msg("%s", error->message);
	return cal;
}

static void test_2027_group_makes_2027_certain(void **state)
{
	/* A made-up 2027 group: New Year only. */
	struct calendar *cal = cn_with("\n[2027]\nholidays = 2027-01-01..2027-01-03\n");
	struct calendar *cn = load_cn();
	struct calendar_deadlines d;

	(void)state;
	assert_true(calendar_covers_year(cal, 2027));
	assert_string_not_equal(calendar_fingerprint(cal), calendar_fingerprint(cn));
	/* 30 Dec (1), 31 Dec (2), 1-3 Jan off, Mon 4 Jan (3). */
	deadlines_of(cal, "2026-12-29T10:00:00+08:00", 0, &d);
	assert_due(d.acceptance_due, "2027-01-04", 0, "+08:00");
	assert_due(d.handling_due, "2027-01-27", 0, "+08:00");
	assert_due(d.handling_due_extended, "2027-02-24", 0, "+08:00");
	assert_false(d.uncertain);
	assert_int_equal(d.uncertain_year, 0);
	calendar_deadlines_clear(&d);
	calendar_free(cn);
	calendar_free(cal);
}

static void test_received_in_tz(void **state)
{
	struct calendar *cal = load_cn();
	struct calendar_deadlines d;
	g_autofree char *got = NULL;

	(void)state;
	deadlines_of(cal, "2026-02-13T08:00:00Z", 0, &d);
	got = g_date_time_format(d.received, "%Y-%m-%dT%H:%M:%S%:z");
	assert_string_equal(got, "2026-02-13T16:00:00+08:00");
	calendar_deadlines_clear(&d);
	calendar_deadlines_clear(&d);
	calendar_free(cal);
}

static void test_other_tz_and_default_tz(void **state)
{
	struct calendar *cal = load_cn();
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) when = g_date_time_new_from_iso8601("2026-02-13T20:00:00Z", NULL);
	struct calendar_deadlines d;

	(void)state;
	/* In UTC the receipt is still Friday 13 Feb. */
	assert_int_equal(calendar_deadlines(cal, NULL, utc, when, &d, NULL), 0);
	assert_due(d.acceptance_due, "2026-02-25", 0, "+00:00");
	calendar_deadlines_clear(&d);
	/* tz NULL is Asia/Shanghai: Saturday 14 Feb 04:00. */
	assert_int_equal(calendar_deadlines(cal, NULL, NULL, when, &d, NULL), 0);
	assert_due(d.acceptance_due, "2026-02-26", 0, "+08:00");
	calendar_deadlines_clear(&d);
	calendar_free(cal);
}

/* Deadlines of 13 Feb 2026 16:00 under `rules`: returns the result. */
static int deadlines_with(const struct calendar *cal, const struct calendar_rules *rules,
			  struct calendar_deadlines *d, GError **error)
{
	g_autoptr(GTimeZone) tz = shanghai();
	g_autoptr(GDateTime) when = g_date_time_new_from_iso8601("2026-02-13T16:00:00+08:00", NULL);

	return calendar_deadlines(cal, rules, tz, when, d, error);
}

static void test_rules(void **state)
{
	struct calendar *cal = load_cn();
	struct calendar_deadlines d;
	GError *error = NULL;

	(void)state;
	/* 5 days: 14, 24, 25, 26, 27 Feb; 10 days: then 28 Feb, 2-5 Mar; 2 more: 6, 9 Mar. */
	assert_int_equal(deadlines_with(cal, &(struct calendar_rules){ 5, 10, 2, 0 }, &d, NULL), 0);
	assert_due(d.acceptance_due, "2026-02-27", 0, "+08:00");
	assert_due(d.handling_due, "2026-03-05", 0, "+08:00");
	assert_due(d.handling_due_extended, "2026-03-09", 0, "+08:00");
	calendar_deadlines_clear(&d);
	/* No extension: the extended due time is the handling due time. */
	assert_int_equal(deadlines_with(cal, &(struct calendar_rules){ .extension_days = -1 }, &d,
					NULL), 0);
	assert_due(d.handling_due_extended, "2026-03-19", 0, "+08:00");
	calendar_deadlines_clear(&d);
	assert_int_equal(deadlines_with(cal, &(struct calendar_rules){ .acceptance_days = -1 }, &d,
					&error), -1);
	assert_true(g_error_matches(error, CALENDAR_ERROR, CALENDAR_ERROR_INVALID));
	assert_null(d.received);
	g_clear_error(&error);
	assert_int_equal(deadlines_with(cal, &(struct calendar_rules){ .handling_days = 1001 }, &d,
					&error), -1);
	g_clear_error(&error);
	assert_int_equal(deadlines_with(cal, &(struct calendar_rules){ .close_of_business = 1440 },
					&d, &error), -1);
	assert_non_null(strstr(error->message, "1440"));
	g_clear_error(&error);
	calendar_free(cal);
}

static void test_range_error(void **state)
{
	struct calendar *cal = load_cn();
	g_autoptr(GTimeZone) tz = shanghai();
	g_autoptr(GDateTime) when = g_date_time_new_from_iso8601("9999-12-30T10:00:00+08:00", NULL);
	struct calendar_deadlines d;
	GError *error = NULL;

	(void)state;
	assert_non_null(when);
	assert_int_equal(calendar_deadlines(cal, NULL, tz, when, &d, &error), -1);
	assert_true(g_error_matches(error, CALENDAR_ERROR, CALENDAR_ERROR_RANGE));
	assert_null(d.received);
	assert_null(d.acceptance_due);
	g_clear_error(&error);
	calendar_free(cal);
}

static void test_null_calendar(void **state)
{
	GDate *d = date_new("2026-01-01");
	bool uncertain = false;

	(void)state;
	assert_false(calendar_covers_year(NULL, 2026));
	assert_true(calendar_is_working_day(NULL, d, &uncertain));
	assert_true(uncertain);
	g_date_free(d);
}

/* Parses `data` as cn.conf; asserts it fails and that the message holds
   each of the NULL-terminated strings. */
static void assert_parse_error(const char *data, ...)
{
	GError *error = NULL;
	struct calendar *cal = calendar_parse(data, strlen(data), CN_CONF, &error);
	va_list ap;

	assert_null(cal);
	assert_non_null(error);
	assert_true(g_error_matches(error, CALENDAR_ERROR, CALENDAR_ERROR_PARSE));
	assert_non_null(strstr(error->message, CN_CONF ": "));
	va_start(ap, data);
	for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *))
		if (!strstr(error->message, want))
			fail_msg("\"%s\" not in: %s", want, error->message);
	va_end(ap);
	g_error_free(error);
}

static void test_parse_errors(void **state)
{
	GError *error = NULL;
	static const char bad_month[] = "[2026]\nholidays = 2026-01-01; 2026-13-01\n";

	(void)state;
	assert_null(calendar_parse(bad_month, strlen(bad_month), CN_CONF, &error));
	assert_string_equal(error->message,
			    CN_CONF ": [2026] holidays: \"2026-13-01\": expected YYYY-MM-DD or "
				    "YYYY-MM-DD..YYYY-MM-DD");
	g_clear_error(&error);
	assert_parse_error("[2026]\nholidays = 2026-2-3\n", "[2026] holidays", "\"2026-2-3\"",
			   "expected YYYY-MM-DD", NULL);
	assert_parse_error("[2026]\nholidays = 2026-02-30\n", "\"2026-02-30\"", NULL);
	assert_parse_error("[2026]\nholidays = 2026-01-01\nworkdays = 2026-01-05\n",
			   "[2026] workdays", "\"2026-01-05\"", "Monday",
			   "expected a Saturday or Sunday", NULL);
	assert_parse_error("[2026]\nholidays = 2025-12-31\n", "[2026] holidays",
			   "\"2025-12-31\"", "outside the year 2026", NULL);
	assert_parse_error("[2025]\nholidays = 2025-12-31..2026-01-01\n", "[2025] holidays",
			   "\"2025-12-31..2026-01-01\"", "outside the year 2025", NULL);
	assert_parse_error("[2026]\nholidays = 2026-02-23..2026-02-15\n", "[2026] holidays",
			   "\"2026-02-23..2026-02-15\"", "ends before it starts", NULL);
	assert_parse_error("[calendar]\nholidays = 2026-01-01\n", "[calendar]",
			   "expected a 4-digit year", NULL);
	assert_parse_error("[26]\nholidays = 2026-01-01\n", "[26]", "4-digit year", NULL);
	assert_parse_error("[20266]\nholidays = 2026-01-01\n", "[20266]", "4-digit year", NULL);
	assert_parse_error("[0000]\nholidays =\n", "[0000]", "4-digit year", NULL);
	assert_parse_error("[2026]\nholiday = 2026-01-01\n", "[2026] holiday:", "unknown key",
			   NULL);
	assert_parse_error("[2026]\nworkdays = 2026-01-04\n", "[2026] holidays: missing", NULL);
	assert_parse_error("[2026]\nholidays = 2026-01-03..2026-01-04\nworkdays = 2026-01-04\n",
			   "[2026] workdays", "\"2026-01-04\"", "also listed under holidays", NULL);
	assert_parse_error("[2026]\nholidays = 2026-01-01\n[2026]\nholidays = 2026-10-01\n",
			   "[2026] holidays: given more than once", NULL);
	assert_parse_error("holidays = 2026-01-01\n[2026]\n", NULL);
	assert_parse_error("# nothing\n", "no year", NULL);
	assert_parse_error("[2026]\nholidays = 2026-01-01\xff\n", "invalid UTF-8", NULL);
}

static void test_parse_error_quoting(void **state)
{
	g_autofree char *longval = g_strdup_printf("[2026]\nholidays = 2026-%0200d\n", 7);
	GError *error = NULL;
	static const char nul[] = "[2026]\nholidays = 2026-01-01\0\n";

	(void)state;
	assert_null(calendar_parse(longval, strlen(longval), "x.conf", &error));
	assert_non_null(strstr(error->message, "...\""));
	assert_true(strlen(error->message) < 200);
	g_clear_error(&error);
	assert_null(calendar_parse(nul, sizeof(nul) - 1, "x.conf", &error));
	assert_non_null(strstr(error->message, "x.conf: contains a NUL byte"));
	g_clear_error(&error);
	assert_parse_error("[2026]\nholidays = 2026-01-01\x01;\n", "\"2026-01-01\\001\"", NULL);
}

static void test_load_errors(void **state)
{
	GError *error = NULL;
	g_autofree char *big = g_malloc0(CALENDAR_MAX_FILE_BYTES + 1);

	(void)state;
	assert_null(calendar_load("config/calendar/no-such.conf", &error));
	assert_true(g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT));
	assert_non_null(strstr(error->message, "config/calendar/no-such.conf"));
	g_clear_error(&error);
	memset(big, '#', CALENDAR_MAX_FILE_BYTES);
	assert_null(calendar_parse(big, CALENDAR_MAX_FILE_BYTES + 1, "big.conf", &error));
	assert_non_null(strstr(error->message, "big.conf: "));
	g_clear_error(&error);
}

static void test_format_leniency(void **state)
{
	/* BOM, CRLF, commas, blanks around "..", empty items, trailing comment. */
	static const char data[] = "\xEF\xBB\xBF# calendar\r\n[2026]\r\n"
				   "holidays = 2026-02-15 .. 2026-02-23 ,; 2026-01-01;\r\n"
				   "workdays = 2026-02-14 # 调休上班\r\n";
	GError *error = NULL;
	struct calendar *cal = calendar_parse(data, sizeof(data) - 1, "x.conf", &error);
	GDate *sat = date_new("2026-02-14"), *hol = date_new("2026-02-23");
	GDate *ny = date_new("2026-01-01");

	(void)state;
	if (!cal)
		fail_msg("%s", error->message);
	assert_true(calendar_is_working_day(cal, sat, NULL));
	assert_false(calendar_is_working_day(cal, hol, NULL));
	assert_false(calendar_is_working_day(cal, ny, NULL));
	g_date_free(sat);
	g_date_free(hol);
	g_date_free(ny);
	calendar_free(cal);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_load_cn_conf),
		cmocka_unit_test(test_fingerprint_known),
		cmocka_unit_test(test_is_working_day),
		cmocka_unit_test(test_working_days_between),
		cmocka_unit_test(test_add_working_days),
		cmocka_unit_test(test_2027_group_makes_2027_certain),
		cmocka_unit_test(test_received_in_tz),
		cmocka_unit_test(test_other_tz_and_default_tz),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_range_error),
		cmocka_unit_test(test_null_calendar),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_error_quoting),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_uncertain_per_period),
		cmocka_unit_test(test_format_leniency),
	};
	struct CMUnitTest tests[G_N_ELEMENTS(fixed) + G_N_ELEMENTS(deadline_cases)];
	size_t n = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < G_N_ELEMENTS(deadline_cases); i++)
		tests[n++] = (struct CMUnitTest){
			.name = deadline_cases[i].name,
			.test_func = test_deadline_case,
			.initial_state = (void *)&deadline_cases[i],
		};
	return cmocka_run_group_tests_name("calendar", tests, NULL, NULL);
}
