/* libFuzzer target for core/calendar.c: arbitrary bytes as a calendar file;
   when they parse, the deadlines of a fixed complaint are computed on them.
   SECURITY: exercises the parser of a hand-edited (possibly hostile) file. */
#include <stddef.h>
#include <stdint.h>

#include "core/calendar.h"

/* Counts working days around a fixed date and computes the deadlines of a
   complaint received 2026-02-13 16:00 +08:00, with and without a close. */
static void fuzz_calendar_use(const struct calendar *cal)
{
	GTimeZone *tz = g_time_zone_new_offset(8 * 3600);
	GDateTime *when = g_date_time_new(tz, 2026, 2, 13, 16, 0, 0);
	GDate *from = g_date_new_dmy(13, G_DATE_FEBRUARY, 2026);
	GDate *to = g_date_new_dmy(1, G_DATE_JULY, 2027);
	struct calendar_rules rules = { .close_of_business = 15 * 60 };
	struct calendar_deadlines d;
	GDate result;
	bool uncertain;

	(void)calendar_fingerprint(cal);
	(void)calendar_covers_year(cal, 2026);
	(void)calendar_is_working_day(cal, from, &uncertain);
	(void)calendar_working_days_between(cal, to, from, &uncertain);
	calendar_add_working_days(cal, from, -30, &result, &uncertain);
	if (calendar_deadlines(cal, NULL, tz, when, &d, NULL) == 0)
		calendar_deadlines_clear(&d);
	if (calendar_deadlines(cal, &rules, tz, when, &d, NULL) == 0)
		calendar_deadlines_clear(&d);
	g_date_free(to);
	g_date_free(from);
	g_date_time_unref(when);
	g_time_zone_unref(tz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	struct calendar *cal = calendar_parse((const char *)data, size, "fuzz.conf", &error);

	if (cal)
		fuzz_calendar_use(cal);
	g_clear_error(&error);
	calendar_free(cal);
	return 0;
}
