/* The responders' daily digest: at the configured time of each working day,
   one mail per configured responder listing the drafts that are overdue,
   due today and due on the next working day, queued through the outbox
   (so it is retried and delivered once like every notice). None on days
   off. Account numbers in subjects are masked. */
#include <string.h>

#include "core/calendar.h"
#include "core/log.h"
#include "notify/notify.h"

static void reminder_local_date(int64_t t, GTimeZone *tz, GDate *d)
{
	g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) l = g_date_time_to_timezone(u, tz);
	g_date_clear(d, 1);
	g_date_set_dmy(d, (GDateDay)g_date_time_get_day_of_month(l),
		       (GDateMonth)g_date_time_get_month(l), (GDateYear)g_date_time_get_year(l));
}

static char *reminder_format(int64_t t, GTimeZone *tz, const char *fmt)
{
	g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) l = g_date_time_to_timezone(u, tz);
	return g_date_time_format(l, fmt);
}

/* One line per draft: reference, channel, due, name, subject (masked). */
static void reminder_line(GString *out, const struct store_complaint *c, GTimeZone *tz,
			  const char *extra)
{
	g_autofree char *due = reminder_format(c->acceptance_due, tz, "%m-%d %H:%M");
	g_autofree char *subj = notify_mask(c->subject != NULL ? c->subject : "", NULL);
	g_string_append_printf(out, "  %s  %-6s 受理期限 due %s%s  %s  %.40s%s\n", c->ref,
			       c->channel, due, extra, c->name != NULL ? c->name : "?", subj,
			       c->major ? "  [重大 MAJOR]" : "");
}

/* Which section a draft belongs to: 0 overdue, 1 due today, 2 due on the next
   working day, -1 none. */
static int reminder_section(const struct store_complaint *c, GTimeZone *tz, int64_t now,
			    const GDate *today, const GDate *next)
{
	if (c->acceptance_due < now)
		return 0;
	GDate due;
	reminder_local_date(c->acceptance_due, tz, &due);
	if (g_date_compare(&due, today) <= 0)
		return 1;
	return g_date_compare(&due, next) <= 0 ? 2 : -1;
}

char *notify_digest_text(GPtrArray *drafts, const struct calendar *cal, GTimeZone *tz,
			 int64_t now, unsigned counts[3])
{
	static const char *const heads[3] = {
		"已逾期 OVERDUE", "今日到期 Due today", "下一工作日到期 Due on the next working day" };
	GDate today, next;
	reminder_local_date(now, tz, &today);
	calendar_add_working_days(cal, &today, 1, &next, NULL);
	GString *sec[3] = { g_string_new(NULL), g_string_new(NULL), g_string_new(NULL) };
	counts[0] = counts[1] = counts[2] = 0;
	for (guint i = 0; i < drafts->len; i++) {
		const struct store_complaint *c = drafts->pdata[i];
		int k = reminder_section(c, tz, now, &today, &next);
		if (k < 0)
			continue;
		g_autofree char *over = NULL;
		if (k == 0) {
			GDate due;
			reminder_local_date(c->acceptance_due, tz, &due);
			int n = calendar_working_days_between(cal, &due, &today, NULL);
			over = g_strdup_printf("  OVERDUE by %d working day%s", n, n == 1 ? "" : "s");
		}
		reminder_line(sec[k], c, tz, over != NULL ? over : "");
		counts[k]++;
	}
	char day[32], nextday[32];
	g_date_strftime(day, sizeof day, "%Y-%m-%d (%a)", &today);
	g_date_strftime(nextday, sizeof nextday, "%Y-%m-%d (%a)", &next);
	GString *out = g_string_new(NULL);
	g_string_append_printf(out, "投诉受理提醒 / Complaints awaiting an acceptance decision, %s\n"
			       "受理须在收到投诉后3个工作日内决定。Acceptance is due within 3 "
			       "working days of receipt.\n", day);
	for (int k = 0; k < 3; k++) {
		g_string_append_printf(out, "\n%s%s%s (%u)\n", heads[k], k == 2 ? ", " : "",
				       k == 2 ? nextday : "", counts[k]);
		g_string_append(out, sec[k]->len > 0 ? sec[k]->str : "  -\n");
		g_string_free(sec[k], TRUE);
	}
	g_string_append(out, "\nintake drafts: 全部草稿 / all drafts; intake show REF: 详情 / details\n");
	return g_string_free(out, FALSE);
}

/* Queues the digest to each responder. Returns 1 queued, 0 already today,
   -1 error. */
static int reminder_queue(struct store *st, const struct config *cfg, const char *day,
			  const char *text, const unsigned counts[3], int64_t now, GError **error)
{
	g_autofree char *from = notify_from_address(cfg->smtp.from);
	g_autofree char *subject = g_strdup_printf(
		"[intake] 投诉受理提醒 %s: 逾期 %u, 今日到期 %u, 下一工作日到期 %u", day, counts[0],
		counts[1], counts[2]);
	size_t n = g_strv_length(cfg->reminders.to);
	struct store_notice *notices = g_new0(struct store_notice, n);
	char **ids = g_new0(char *, n + 1);
	for (size_t i = 0; i < n; i++) {
		ids[i] = notify_message_id(from);
		notices[i] = (struct store_notice){ .kind = "reminder", .recipient = cfg->reminders.to[i],
						    .message_id = ids[i], .subject = subject,
						    .body = text };
	}
	int rc = store_queue_digest(st, day, notices, n, now, error);
	g_strfreev(ids);
	g_free(notices);
	return rc;
}

int notify_remind(struct store *st, const struct config *cfg, const struct calendar *cal,
		  GTimeZone *tz, int64_t now, bool force, enum notify_remind_result *result,
		  GError **error)
{
	*result = NOTIFY_REMIND_OFF;
	if (cfg->reminders.to == NULL)
		return 0;
	GDate today;
	reminder_local_date(now, tz, &today);
	g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(now);
	g_autoptr(GDateTime) l = g_date_time_to_timezone(u, tz);
	int minute = g_date_time_get_hour(l) * 60 + g_date_time_get_minute(l);
	*result = NOTIFY_REMIND_NOT_WORKING_DAY;
	if (!force && !calendar_is_working_day(cal, &today, NULL))
		return 0;
	*result = NOTIFY_REMIND_TOO_EARLY;
	if (!force && minute < cfg->reminders.time)
		return 0;
	GPtrArray *drafts = store_list_drafts(st, NULL, 0, error);
	if (drafts == NULL)
		return -1;
	unsigned counts[3];
	g_autofree char *text = notify_digest_text(drafts, cal, tz, now, counts);
	g_ptr_array_unref(drafts);
	char day[16];
	g_date_strftime(day, sizeof day, "%Y-%m-%d", &today);
	int rc = reminder_queue(st, cfg, day, text, counts, now, error);
	if (rc < 0)
		return -1;
	*result = rc == 1 ? NOTIFY_REMIND_QUEUED : NOTIFY_REMIND_DONE_TODAY;
	if (rc == 1)
		log_info("reminder", "digest for %s queued to %u responder(s): %u overdue, %u due "
			 "today, %u due next", day, g_strv_length(cfg->reminders.to), counts[0],
			 counts[1], counts[2]);
	return 0;
}
