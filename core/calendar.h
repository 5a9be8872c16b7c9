/* The working-day calendar (public holidays and make-up working days read
   from a data file such as config/calendar/cn.conf) and the complaint
   deadlines counted on it: acceptance, handling and extended handling. */
#ifndef INTAKE_CORE_CALENDAR_H
#define INTAKE_CORE_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#define CALENDAR_ERROR (calendar_error_quark())
GQuark calendar_error_quark(void);
enum calendar_error_code {
	CALENDAR_ERROR_PARSE,   /* the calendar file is malformed */
	CALENDAR_ERROR_INVALID, /* bad rules, time zone or time given by the caller */
	CALENDAR_ERROR_RANGE,   /* a deadline would fall outside years 1-9999 */
};

/* Calendar files larger than this are refused. */
#define CALENDAR_MAX_FILE_BYTES (1024 * 1024)
/* Largest accepted acceptance_days, handling_days, extension_days. */
#define CALENDAR_MAX_DAYS 1000

struct calendar; /* opaque */

/* Reads and parses the calendar file at `path` (see calendar_parse).
   Returns a new calendar owned by the caller (free with calendar_free), or
   NULL with `error` set (G_FILE_ERROR when unreadable, else CALENDAR_ERROR). */
struct calendar *calendar_load(const char *path, GError **error);

/* Parses calendar bytes: a UTF-8 GKeyFile with one group per covered year,
   [YYYY], holding `holidays` (required) and `workdays` (optional), each a
   list of YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD separated by ';' (or ','),
   a '#' ending the list (a trailing comment). Rejected: group names that
   are not a 4-digit year, unknown keys, malformed dates, dates outside the
   group's year, ranges ending before they start, workdays that are not a
   Saturday or Sunday or that are also holidays, files without any year.
   `name_for_errors` (e.g. the path) starts each error message, which then
   names the group, key and offending value. Returns a new calendar owned
   by the caller, or NULL with `error` set (CALENDAR_ERROR_PARSE). */
struct calendar *calendar_parse(const char *data, size_t len, const char *name_for_errors,
				GError **error);

/* Frees the calendar; NULL is accepted. */
void calendar_free(struct calendar *cal);

/* Returns the SHA-256 (lowercase hex) of the bytes the calendar was parsed
   from, to notice a changed file. Owned by the calendar. */
const char *calendar_fingerprint(const struct calendar *cal);

/* Returns true if the calendar has a group for `year`. A NULL calendar
   covers no year. */
bool calendar_covers_year(const struct calendar *cal, int year);

/* Returns true if `date` (a local calendar date) is a working day: a listed
   make-up working day, or Monday-Friday and not a listed holiday. When the
   year is not covered the answer is plain Monday-Friday and *uncertain_r
   is set true; otherwise it is set false. `uncertain_r` may be NULL; `cal`
   may be NULL (no year covered). */
bool calendar_is_working_day(const struct calendar *cal, GDate *date, bool *uncertain_r);

/* Deadline rules; a field of 0 means its default. */
struct calendar_rules {
	int acceptance_days;   /* default 3 */
	int handling_days;     /* default 20 */
	int extension_days;    /* default 20; negative: no extension possible */
	int close_of_business; /* minutes after midnight, e.g. 17*60+30; 0 or
				  negative = none: deadlines end at 24:00 */
};

/* Deadlines of one complaint. A deadline falls at the end of its last day,
   represented as 23:59:59 local time of that day (24:00 being the next day
   in GDateTime), or at close_of_business (hh:mm:00) when configured. */
struct calendar_deadlines {
	GDateTime *received;              /* the receipt time, converted to tz */
	GDateTime *acceptance_due;
	GDateTime *handling_due;
	GDateTime *handling_due_extended; /* handling_due + extension_days more
					     working days (= handling_due when
					     extension_days < 0) */
	bool uncertain;                   /* a counted day fell in an uncovered year */
	bool acceptance_uncertain;        /* ... while counting the acceptance period */
	bool handling_uncertain;          /* ... while counting acceptance or handling
					     (not the extension, which may never apply) */
	int uncertain_year;               /* the first such year, else 0 */
};

/* Computes the deadlines of a complaint received at `received` (any zone;
   converted to `tz`, or to Asia/Shanghai when `tz` is NULL). `rules` may be
   NULL (all defaults). The day of receipt is not counted, counting starts
   the next day and only working days count; with close_of_business set, a
   receipt at or after the close counts as received the next calendar day.
   Returns 0 with *out filled (the caller owns its references; release
   with calendar_deadlines_clear), or -1 with `error` set and *out zeroed. */
int calendar_deadlines(const struct calendar *cal, const struct calendar_rules *rules,
		       GTimeZone *tz, GDateTime *received, struct calendar_deadlines *out,
		       GError **error);

/* Releases the references in `d` and zeroes it; safe on a zeroed struct. */
void calendar_deadlines_clear(struct calendar_deadlines *d);

/* Returns the number of working days strictly after `from` up to and
   including `to`, or minus the number strictly after `to` up to and
   including `from` when `to` is before `from` (0 when equal). E.g. for a
   due date D and today T: (T, D) > 0 is "N working days left", (D, T) > 0
   is "OVERDUE by N working days". *uncertain_r (may be NULL) is set true
   if a counted-over day fell in an uncovered year, else false. */
int calendar_working_days_between(const struct calendar *cal, GDate *from, GDate *to,
				  bool *uncertain_r);

/* Sets *result_r to the date that is `n` working days after `from` (the day
   `from` itself not counted), so it is a working day when n > 0; n == 0
   gives `from`; n < 0 gives the |n|-th working day before `from`. The walk
   stops at 0001-01-01 and 9999-12-31. *uncertain_r (may be NULL) is set
   true if a day walked over fell in an uncovered year, else false. */
void calendar_add_working_days(const struct calendar *cal, GDate *from, int n, GDate *result_r,
			       bool *uncertain_r);

#endif
