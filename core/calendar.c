/* The working-day calendar: parses the holiday data file (one GKeyFile group
   per covered year) and counts working days for the complaint deadlines
   (PRC Civil Code art. 201 and 203: the day of receipt is not counted).

   SECURITY: the calendar file is edited by hand and may be malformed or
   hostile. It is read with a size limit, must be UTF-8 without NUL bytes,
   and only strict dates inside their group's year are accepted; offending
   values are quoted in errors escaped and cut short. Walks over dates stop
   at 0001-01-01 and 9999-12-31, so no count can run away. */
#include "core/calendar.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CALENDAR_DAY_BYTES 46          /* 366 bits, one per day of the year */
#define CALENDAR_QUOTE_CHARS 64        /* longest value quoted in an error */
#define CALENDAR_LAST_JULIAN 3652059u  /* GDate Julian day of 9999-12-31 */
#define CALENDAR_DEFAULT_TZ "Asia/Shanghai"
#define CALENDAR_DEFAULT_ACCEPTANCE 3
#define CALENDAR_DEFAULT_HANDLING 20
#define CALENDAR_DEFAULT_EXTENSION 20

/* The listed days of one covered year, by day of the year (1-366). */
struct calendar_year {
	guint8 holiday[CALENDAR_DAY_BYTES];
	guint8 workday[CALENDAR_DAY_BYTES];
};

struct calendar {
	GHashTable *years; /* GINT_TO_POINTER(year) -> struct calendar_year */
	char *fingerprint;
};

/* What a walk over dates met: the first year it found not covered. */
struct calendar_walk {
	bool uncertain;
	int year;
};

/* Where the parser is, for error messages. */
struct calendar_where {
	const char *name;
	const char *group;
	const char *key;
	int year;
};

static const char *const calendar_weekday_names[] = {
	"?", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};

G_DEFINE_QUARK(calendar-error-quark, calendar_error)

static bool calendar_bit(const guint8 *bits, int doy)
{
	return (bits[(doy - 1) / 8] >> ((doy - 1) % 8)) & 1u;
}

static void calendar_set_bit(guint8 *bits, int doy)
{
	bits[(doy - 1) / 8] |= (guint8)(1u << ((doy - 1) % 8));
}

/* Returns `s` made printable for an error message (control characters,
   quotes and backslashes escaped, cut after CALENDAR_QUOTE_CHARS
   characters); the caller frees it. */
static char *calendar_quote(const char *s)
{
	char keep[129];
	for (int i = 0; i < 128; i++)
		keep[i] = (char)(0x80 + i);
	keep[128] = '\0';
	g_autofree char *valid = g_utf8_make_valid(s, -1);
	glong chars = g_utf8_strlen(valid, -1);
	g_autofree char *cut = g_utf8_substring(valid, 0, MIN(chars, CALENDAR_QUOTE_CHARS));
	g_autofree char *escaped = g_strescape(cut, keep);
	if (chars > CALENDAR_QUOTE_CHARS)
		return g_strconcat(escaped, "...", NULL);
	return g_steal_pointer(&escaped);
}

/* Sets a CALENDAR_ERROR_PARSE error worded
   `NAME: [GROUP] KEY: "VALUE": REASON` (KEY and VALUE left out when NULL). */
static void G_GNUC_PRINTF(4, 5) calendar_fail(GError **error, const struct calendar_where *w,
					      const char *value, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *reason = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_autofree char *group = calendar_quote(w->group);
	g_autofree char *quoted = value ? calendar_quote(value) : NULL;
	g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_PARSE, "%s: [%s]%s%s%s%s%s: %s", w->name,
		    group, w->key ? " " : "", w->key ? w->key : "", quoted ? ": \"" : "",
		    quoted ? quoted : "", quoted ? "\"" : "", reason);
}

/* Returns the value of `n` ASCII digits at `s`, or -1 if one is not a digit. */
static int calendar_digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Parses a strict YYYY-MM-DD into *date_r; returns false if malformed. */
static bool calendar_parse_date(const char *s, GDate *date_r)
{
	int y, m, d;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	y = calendar_digits(s, 4);
	m = calendar_digits(s + 5, 2);
	d = calendar_digits(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || !g_date_valid_dmy(d, m, y))
		return false;
	g_date_clear(date_r, 1);
	g_date_set_dmy(date_r, (GDateDay)d, (GDateMonth)m, (GDateYear)y);
	return true;
}

/* Returns the year named by a group, or -1 if not exactly 4 digits (> 0). */
static int calendar_group_year(const char *group)
{
	int year = strlen(group) == 4 ? calendar_digits(group, 4) : -1;
	return year >= 1 ? year : -1;
}

/* Parses one list item, a date or a range, into days of the group's year
   *first_r..*last_r. Returns 0, or -1 with error. */
static int calendar_parse_item(const struct calendar_where *w, const char *item, int *first_r,
			       int *last_r, GError **error)
{
	const char *dots = strstr(item, "..");
	g_autofree char *left = g_strstrip(g_strndup(item, dots ? (gsize)(dots - item) : strlen(item)));
	g_autofree char *right = g_strstrip(g_strdup(dots ? dots + 2 : left));
	GDate a, b;

	if (!calendar_parse_date(left, &a) || !calendar_parse_date(right, &b)) {
		calendar_fail(error, w, item, "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD");
		return -1;
	}
	if ((int)g_date_get_year(&a) != w->year || (int)g_date_get_year(&b) != w->year) {
		calendar_fail(error, w, item, "date outside the year %d of its group", w->year);
		return -1;
	}
	if (g_date_compare(&a, &b) > 0) {
		calendar_fail(error, w, item, "the range ends before it starts");
		return -1;
	}
	*first_r = (int)g_date_get_day_of_year(&a);
	*last_r = (int)g_date_get_day_of_year(&b);
	return 0;
}

/* Marks day `doy` of the group's year as a holiday, or as a make-up
   working day when `work` (which must be a weekend day and no holiday).
   Returns 0, or -1 with error. */
static int calendar_mark(const struct calendar_where *w, struct calendar_year *y, const char *item,
			 int doy, bool work, GError **error)
{
	GDate d;
	GDateWeekday wd;

	if (!work) {
		calendar_set_bit(y->holiday, doy);
		return 0;
	}
	g_date_clear(&d, 1);
	g_date_set_dmy(&d, 1, G_DATE_JANUARY, (GDateYear)w->year);
	g_date_add_days(&d, (guint)(doy - 1));
	wd = g_date_get_weekday(&d);
	if (wd != G_DATE_SATURDAY && wd != G_DATE_SUNDAY) {
		calendar_fail(error, w, item, "%04d-%02d-%02d is a %s: expected a Saturday or Sunday",
			      w->year, (int)g_date_get_month(&d), (int)g_date_get_day(&d),
			      calendar_weekday_names[wd]);
		return -1;
	}
	if (calendar_bit(y->holiday, doy)) {
		calendar_fail(error, w, item, "also listed under holidays");
		return -1;
	}
	calendar_set_bit(y->workday, doy);
	return 0;
}

/* Splits a raw list value into its items: separated by ';' or ',', blanks
   trimmed, empty items dropped, anything after '#' ignored. Returns a
   NULL-terminated vector owned by the caller. */
static char **calendar_split_list(const char *value)
{
	g_autofree char *copy = g_strdup(value);
	char *hash = strchr(copy, '#');
	char **items;
	guint n = 0;

	if (hash)
		*hash = '\0';
	items = g_strsplit_set(copy, ";,", -1);
	for (guint i = 0; items[i]; i++) {
		g_strstrip(items[i]);
		if (*items[i])
			items[n++] = items[i];
		else
			g_free(items[i]);
	}
	items[n] = NULL;
	return items;
}

/* Reads the list under w->key (holidays or workdays) into `y`. A missing
   holidays key is an error, a missing workdays key is not. Returns 0, or
   -1 with error. */
static int calendar_parse_key(GKeyFile *kf, const struct calendar_where *w,
			      struct calendar_year *y, GError **error)
{
	bool work = strcmp(w->key, "workdays") == 0;
	g_autofree char *value = g_key_file_get_value(kf, w->group, w->key, NULL);
	g_auto(GStrv) items = NULL;
	int first, last;

	if (!value) {
		if (work)
			return 0;
		calendar_fail(error, w, NULL, "missing: expected the list of the year's holidays");
		return -1;
	}
	items = calendar_split_list(value);
	for (guint i = 0; items[i]; i++) {
		if (calendar_parse_item(w, items[i], &first, &last, error) < 0)
			return -1;
		for (int doy = first; doy <= last; doy++)
			if (calendar_mark(w, y, items[i], doy, work, error) < 0)
				return -1;
	}
	return 0;
}

/* Refuses keys other than holidays and workdays in w->group, and either
   of them given twice (GKeyFile would keep only the last). Returns 0, or
   -1 with error. */
static int calendar_check_keys(GKeyFile *kf, const struct calendar_where *w, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, w->group, NULL, NULL);
	struct calendar_where at = *w;
	int seen[2] = { 0, 0 };

	for (guint i = 0; keys && keys[i]; i++) {
		int known = strcmp(keys[i], "holidays") == 0 ? 0 :
			    strcmp(keys[i], "workdays") == 0 ? 1 : -1;
		g_autofree char *key = calendar_quote(keys[i]);

		at.key = key;
		if (known < 0) {
			calendar_fail(error, &at, NULL, "unknown key: expected holidays or workdays");
			return -1;
		}
		if (++seen[known] > 1) {
			calendar_fail(error, &at, NULL,
				      "given more than once: expected one list per year");
			return -1;
		}
	}
	return 0;
}

/* Parses one [YYYY] group into `cal`. Returns 0, or -1 with error. */
static int calendar_parse_group(struct calendar *cal, GKeyFile *kf, const char *name,
				const char *group, GError **error)
{
	struct calendar_where w = { .name = name, .group = group };
	struct calendar_year *y;

	w.year = calendar_group_year(group);
	if (w.year < 0) {
		calendar_fail(error, &w, NULL,
			      "group name is not a year: expected a 4-digit year such as [2026]");
		return -1;
	}
	if (calendar_check_keys(kf, &w, error) < 0)
		return -1;
	y = g_new0(struct calendar_year, 1);
	g_hash_table_replace(cal->years, GINT_TO_POINTER(w.year), y);
	w.key = "holidays";
	if (calendar_parse_key(kf, &w, y, error) < 0)
		return -1;
	w.key = "workdays";
	return calendar_parse_key(kf, &w, y, error);
}

/* Checks the raw bytes before GKeyFile sees them: size, NUL bytes, UTF-8.
   Returns 0, or -1 with error. */
static int calendar_check_bytes(const char *data, size_t len, const char *name, GError **error)
{
	const char *bad = NULL;

	if (len > CALENDAR_MAX_FILE_BYTES) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_PARSE,
			    "%s: %zu bytes: expected a calendar file of at most %d bytes", name, len,
			    CALENDAR_MAX_FILE_BYTES);
		return -1;
	}
	if (memchr(data, '\0', len)) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_PARSE,
			    "%s: contains a NUL byte: expected UTF-8 text", name);
		return -1;
	}
	if (!g_utf8_validate(data, (gssize)len, &bad)) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_PARSE,
			    "%s: invalid UTF-8 at byte %td: expected UTF-8 text", name, bad - data);
		return -1;
	}
	return 0;
}

/* Loads the bytes into `kf`, skipping a UTF-8 byte order mark. Returns 0,
   or -1 with error. */
static int calendar_load_keyfile(GKeyFile *kf, const char *data, size_t len, const char *name,
				 GError **error)
{
	GError *local = NULL;

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_PARSE, "%s: %s", name,
			    local->message);
		g_error_free(local);
		return -1;
	}
	return 0;
}

static struct calendar *calendar_new(const char *data, size_t len)
{
	struct calendar *cal = g_new0(struct calendar, 1);

	cal->years = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	cal->fingerprint = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
	return cal;
}

struct calendar *calendar_parse(const char *data, size_t len, const char *name_for_errors,
				GError **error)
{
	const char *name = name_for_errors ? name_for_errors : "calendar";
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_auto(GStrv) groups = NULL;
	struct calendar *cal;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	if (!data)
		data = "";
	if (calendar_check_bytes(data, len, name, error) < 0 ||
	    calendar_load_keyfile(kf, data, len, name, error) < 0)
		return NULL;
	groups = g_key_file_get_groups(kf, NULL);
	if (!groups || !groups[0]) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_PARSE,
			    "%s: no year in the file: expected groups such as [2026]", name);
		return NULL;
	}
	cal = calendar_new(data, len);
	for (guint i = 0; groups[i]; i++) {
		if (calendar_parse_group(cal, kf, name, groups[i], error) < 0) {
			calendar_free(cal);
			return NULL;
		}
	}
	return cal;
}

/* Reads at most CALENDAR_MAX_FILE_BYTES + 1 bytes of `path` into *data_r
   (caller frees) and their count into *len_r. Returns 0, or -1 with a
   G_FILE_ERROR. */
static int calendar_read_file(const char *path, char **data_r, size_t *len_r, GError **error)
{
	FILE *f = fopen(path, "rb");
	int saved;

	if (!f) {
		saved = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
			    "open(%s) failed: %s", path, g_strerror(saved));
		return -1;
	}
	*data_r = g_malloc(CALENDAR_MAX_FILE_BYTES + 1);
	*len_r = fread(*data_r, 1, CALENDAR_MAX_FILE_BYTES + 1, f);
	saved = ferror(f) ? errno : 0;
	fclose(f);
	if (saved == 0)
		return 0;
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "read(%s) failed: %s",
		    path, g_strerror(saved));
	g_clear_pointer(data_r, g_free);
	return -1;
}

struct calendar *calendar_load(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	size_t len = 0;

	g_return_val_if_fail(path != NULL, NULL);
	if (calendar_read_file(path, &data, &len, error) < 0)
		return NULL;
	return calendar_parse(data, len, path, error);
}

void calendar_free(struct calendar *cal)
{
	if (!cal)
		return;
	g_hash_table_destroy(cal->years);
	g_free(cal->fingerprint);
	g_free(cal);
}

const char *calendar_fingerprint(const struct calendar *cal)
{
	g_return_val_if_fail(cal != NULL, NULL);
	return cal->fingerprint;
}

static const struct calendar_year *calendar_year_get(const struct calendar *cal, int year)
{
	return cal ? g_hash_table_lookup(cal->years, GINT_TO_POINTER(year)) : NULL;
}

bool calendar_covers_year(const struct calendar *cal, int year)
{
	return calendar_year_get(cal, year) != NULL;
}

/* Returns true if `date` is a working day; notes an uncovered year in `walk`. */
static bool calendar_works(const struct calendar *cal, const GDate *date,
			   struct calendar_walk *walk)
{
	int year = (int)g_date_get_year(date);
	const struct calendar_year *y = calendar_year_get(cal, year);
	bool weekday = g_date_get_weekday(date) <= G_DATE_FRIDAY;
	int doy;

	if (!y) {
		if (!walk->uncertain) {
			walk->uncertain = true;
			walk->year = year;
		}
		return weekday;
	}
	doy = (int)g_date_get_day_of_year(date);
	if (calendar_bit(y->workday, doy))
		return true;
	return weekday && !calendar_bit(y->holiday, doy);
}

/* Moves *d one day forward (dir > 0) or back. Returns false, leaving *d
   unchanged, at the ends of years 1-9999. */
static bool calendar_step(GDate *d, int dir)
{
	guint32 julian = g_date_get_julian(d);

	if (dir > 0) {
		if (julian >= CALENDAR_LAST_JULIAN)
			return false;
		g_date_add_days(d, 1);
	} else {
		if (julian <= 1)
			return false;
		g_date_subtract_days(d, 1);
	}
	return true;
}

/* Sets *result_r to `n` working days from `from` (backwards when n < 0).
   Returns false if the walk reached the end of years 1-9999 first. */
static bool calendar_walk_add(const struct calendar *cal, const GDate *from, int n,
			      GDate *result_r, struct calendar_walk *walk)
{
	int dir = n < 0 ? -1 : 1;
	int64_t left = n < 0 ? -(int64_t)n : n;

	*result_r = *from;
	while (left > 0) {
		if (!calendar_step(result_r, dir))
			return false;
		if (calendar_works(cal, result_r, walk))
			left--;
	}
	return true;
}

/* Returns the working days in (from, to], or minus those in (to, from]. */
static int calendar_walk_between(const struct calendar *cal, const GDate *from, const GDate *to,
				 struct calendar_walk *walk)
{
	GDate d = *from;
	int count = 0;

	if (g_date_compare(from, to) > 0)
		return -calendar_walk_between(cal, to, from, walk);
	while (g_date_compare(&d, to) < 0 && calendar_step(&d, 1))
		if (calendar_works(cal, &d, walk))
			count++;
	return count;
}

bool calendar_is_working_day(const struct calendar *cal, GDate *date, bool *uncertain_r)
{
	struct calendar_walk walk = { 0 };
	bool works;

	g_return_val_if_fail(date != NULL && g_date_valid(date), false);
	works = calendar_works(cal, date, &walk);
	if (uncertain_r)
		*uncertain_r = walk.uncertain;
	return works;
}

int calendar_working_days_between(const struct calendar *cal, GDate *from, GDate *to,
				  bool *uncertain_r)
{
	struct calendar_walk walk = { 0 };
	int count;

	g_return_val_if_fail(from != NULL && g_date_valid(from), 0);
	g_return_val_if_fail(to != NULL && g_date_valid(to), 0);
	count = calendar_walk_between(cal, from, to, &walk);
	if (uncertain_r)
		*uncertain_r = walk.uncertain;
	return count;
}

void calendar_add_working_days(const struct calendar *cal, GDate *from, int n, GDate *result_r,
			       bool *uncertain_r)
{
	struct calendar_walk walk = { 0 };

	g_return_if_fail(from != NULL && g_date_valid(from) && result_r != NULL);
	(void)calendar_walk_add(cal, from, n, result_r, &walk);
	if (uncertain_r)
		*uncertain_r = walk.uncertain;
}

/* Copies `rules` (NULL: all defaults) into *r with defaults filled in.
   Returns 0, or -1 with error when a count or the close is out of range. */
static int calendar_rules_resolve(const struct calendar_rules *rules, struct calendar_rules *r,
				  GError **error)
{
	*r = rules ? *rules : (struct calendar_rules){ 0 };
	if (r->acceptance_days == 0)
		r->acceptance_days = CALENDAR_DEFAULT_ACCEPTANCE;
	if (r->handling_days == 0)
		r->handling_days = CALENDAR_DEFAULT_HANDLING;
	if (r->extension_days == 0)
		r->extension_days = CALENDAR_DEFAULT_EXTENSION;
	else if (r->extension_days < 0)
		r->extension_days = 0;
	if (r->close_of_business < 0)
		r->close_of_business = 0;
	if (r->acceptance_days < 0 || r->acceptance_days > CALENDAR_MAX_DAYS ||
	    r->handling_days < 0 || r->handling_days > CALENDAR_MAX_DAYS ||
	    r->extension_days > CALENDAR_MAX_DAYS) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_INVALID,
			    "deadline rules: acceptance %d, handling %d, extension %d working days: "
			    "expected 1-%d each", r->acceptance_days, r->handling_days,
			    r->extension_days, CALENDAR_MAX_DAYS);
		return -1;
	}
	if (r->close_of_business >= 24 * 60) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_INVALID,
			    "deadline rules: close of business %d: expected minutes after midnight, "
			    "below %d", r->close_of_business, 24 * 60);
		return -1;
	}
	return 0;
}

/* Sets *day_r to the day the receipt counts as made on: the local date of
   `local`, or the next day when it came at or after close of business. */
static void calendar_receipt_day(GDateTime *local, int close_of_business, GDate *day_r)
{
	int minute = g_date_time_get_hour(local) * 60 + g_date_time_get_minute(local);

	g_date_clear(day_r, 1);
	g_date_set_dmy(day_r, (GDateDay)g_date_time_get_day_of_month(local),
		       (GDateMonth)g_date_time_get_month(local),
		       (GDateYear)g_date_time_get_year(local));
	if (close_of_business > 0 && minute >= close_of_business)
		g_date_add_days(day_r, 1);
}

/* Returns the moment a period ending on `day` ends: 23:59:59 local time, or
   the close of business when set; NULL with error if not representable. */
static GDateTime *calendar_due(GTimeZone *tz, const GDate *day, int close_of_business,
			       GError **error)
{
	bool close = close_of_business > 0;
	GDateTime *t = g_date_time_new(tz, (gint)g_date_get_year(day), g_date_get_month(day),
				       g_date_get_day(day), close ? close_of_business / 60 : 23,
				       close ? close_of_business % 60 : 59, close ? 0 : 59);

	if (!t)
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_RANGE,
			    "deadline %04d-%02d-%02d cannot be represented", (int)g_date_get_year(day),
			    (int)g_date_get_month(day), (int)g_date_get_day(day));
	return t;
}

/* Walks the three periods from the receipt day and fills the due times of
   `out`. Returns 0, or -1 with error. */
static int calendar_fill_deadlines(const struct calendar *cal, const struct calendar_rules *r,
				   GTimeZone *tz, struct calendar_deadlines *out, GError **error)
{
	struct calendar_walk walk = { 0 };
	GDate base, accept, handle, extend;

	calendar_receipt_day(out->received, r->close_of_business, &base);
	bool ok = calendar_walk_add(cal, &base, r->acceptance_days, &accept, &walk);
	out->acceptance_uncertain = walk.uncertain;
	ok = ok && calendar_walk_add(cal, &base, r->handling_days, &handle, &walk);
	out->handling_uncertain = walk.uncertain;
	if (!ok || !calendar_walk_add(cal, &handle, r->extension_days, &extend, &walk)) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_RANGE,
			    "deadlines of a complaint received on %04d-%02d-%02d fall after 9999",
			    (int)g_date_get_year(&base), (int)g_date_get_month(&base),
			    (int)g_date_get_day(&base));
		return -1;
	}
	out->uncertain = walk.uncertain;
	out->uncertain_year = walk.uncertain ? walk.year : 0;
	out->acceptance_due = calendar_due(tz, &accept, r->close_of_business, error);
	if (out->acceptance_due)
		out->handling_due = calendar_due(tz, &handle, r->close_of_business, error);
	if (out->handling_due)
		out->handling_due_extended = calendar_due(tz, &extend, r->close_of_business, error);
	return out->handling_due_extended ? 0 : -1;
}

int calendar_deadlines(const struct calendar *cal, const struct calendar_rules *rules,
		       GTimeZone *tz, GDateTime *received, struct calendar_deadlines *out,
		       GError **error)
{
	struct calendar_rules r;
	g_autoptr(GTimeZone) zone = NULL;

	g_return_val_if_fail(out != NULL, -1);
	memset(out, 0, sizeof(*out));
	g_return_val_if_fail(received != NULL, -1);
	if (calendar_rules_resolve(rules, &r, error) < 0)
		return -1;
	zone = tz ? g_time_zone_ref(tz) : g_time_zone_new_identifier(CALENDAR_DEFAULT_TZ);
	if (!zone) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_INVALID,
			    "time zone %s not found (is tzdata installed?)", CALENDAR_DEFAULT_TZ);
		return -1;
	}
	out->received = g_date_time_to_timezone(received, zone);
	if (!out->received) {
		g_set_error(error, CALENDAR_ERROR, CALENDAR_ERROR_INVALID,
			    "receipt time cannot be represented in the calendar's time zone");
		return -1;
	}
	if (calendar_fill_deadlines(cal, &r, zone, out, error) < 0) {
		calendar_deadlines_clear(out);
		return -1;
	}
	return 0;
}

void calendar_deadlines_clear(struct calendar_deadlines *d)
{
	if (!d)
		return;
	g_clear_pointer(&d->received, g_date_time_unref);
	g_clear_pointer(&d->acceptance_due, g_date_time_unref);
	g_clear_pointer(&d->handling_due, g_date_time_unref);
	g_clear_pointer(&d->handling_due_extended, g_date_time_unref);
	d->uncertain = false;
	d->acceptance_uncertain = false;
	d->handling_uncertain = false;
	d->uncertain_year = 0;
}
