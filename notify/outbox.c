/* The outbox drainer: sends due notices by SMTP, renders those without an
   e-mail address for the post, and keeps the retry schedule; see notify.h. */
#include "notify/notify.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"

/* Rows taken per claim, and how long a claimed row is ours: longer than the
   SMTP exchanges of one batch may take. */
#define NOTIFY_DRAIN_BATCH 20
#define NOTIFY_DRAIN_LEASE_S (30 * 60)

struct notify_drainer {
	struct store *st;
	const struct config *cfg;
	struct notify_smtp *smtp;    /* opened on the first mail of the drain */
	char *from_address;          /* the envelope sender */
	bool server_down;            /* a connection failed: the rest waits */
	GTimeZone *tz;               /* of the Date header */
	struct notify_drain_stats stats;
	int64_t now;
	const atomic_int *cancel;    /* NULL, or see notify_drain_cancellable */
};

static bool notify_cancelled(const struct notify_drainer *d)
{
	return d->cancel != NULL && atomic_load(d->cancel) >= NOTIFY_CANCEL_SOON;
}

static char *notify_print_text(const struct store_outbox_row *r)
{
	return g_strdup_printf(
		"%s  %s  #%" G_GINT64_FORMAT "\n"
		"收件人 To:      %s\n"
		"地址 Address:   %s\n"
		"主题 Subject:   %s\n"
		"\n%s%s",
		r->ref != NULL ? r->ref : "", r->kind, (gint64)r->id,
		r->name != NULL ? r->name : "",
		r->address != NULL ? r->address : "(未登记地址，请查看原信 / no address on file: see the original letter)",
		r->subject != NULL ? r->subject : "", r->body != NULL ? r->body : "",
		r->body != NULL && g_str_has_suffix(r->body, "\n") ? "" : "\n");
}

/* Writes the notice for the mailroom: PRINT_DIR/REF-KIND-ID.txt, whole or not
   at all (GLib writes a temporary file and renames it). */
static int notify_print(struct notify_drainer *d, const struct store_outbox_row *r,
			GError **error)
{
	const char *dir = d->cfg->notices.print_dir;
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_PRINT, "mkdir(%s) failed: %s", dir,
			    g_strerror(errno));
		return -1;
	}
	g_autofree char *name = g_strdup_printf("%s-%s-%" G_GINT64_FORMAT ".txt",
						r->ref != NULL ? r->ref : "notice", r->kind,
						(gint64)r->id);
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *text = notify_print_text(r);
	GError *ferr = NULL;
	if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT |
				      G_FILE_SET_CONTENTS_DURABLE, 0600, &ferr)) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_PRINT, "%s", ferr->message);
		g_error_free(ferr);
		return -1;
	}
	if (store_outbox_printed(d->st, r->id, path, d->now, error) < 0)
		return -1;
	log_info("outbox", "notice #%" G_GINT64_FORMAT " %s %s rendered for the post: %s",
		 (gint64)r->id, r->kind, r->ref != NULL ? r->ref : "", path);
	d->stats.printed++;
	return 0;
}

/* The time of the next try after a failed one, or 0 when that was the last. */
static int64_t notify_next_try(const struct notify_drainer *d, const struct store_outbox_row *r)
{
	const struct config_notices *n = &d->cfg->notices;
	unsigned done = (unsigned)r->attempts + 1;
	return done <= n->n_retry ? d->now + n->retry_s[done - 1] : 0;
}

static int notify_failed(struct notify_drainer *d, const struct store_outbox_row *r,
			 const char *why, bool permanent, GError **error)
{
	int64_t next = permanent ? 0 : notify_next_try(d, r);
	if (store_outbox_attempt_failed(d->st, r->id, why, next, error) < 0)
		return -1;
	if (next > 0) {
		d->stats.retry++;
		log_warn("outbox", "notice #%" G_GINT64_FORMAT " %s %s: attempt %d failed, next in "
			 "%" G_GINT64_FORMAT " s: %s", (gint64)r->id, r->kind,
			 r->ref != NULL ? r->ref : "", r->attempts + 1, (gint64)(next - d->now), why);
	} else {
		d->stats.failed++;
		log_error("outbox", "notice #%" G_GINT64_FORMAT " %s %s FAILED after %d attempt(s): %s"
			  " (intake outbox retry %" G_GINT64_FORMAT " requeues it)", (gint64)r->id,
			  r->kind, r->ref != NULL ? r->ref : "", r->attempts + 1, why, (gint64)r->id);
	}
	return 0;
}

static GBytes *notify_build_row(struct notify_drainer *d, const struct store_outbox_row *r,
				GError **error)
{
	struct notify_mail m = {
		.from = d->cfg->smtp.from, .to = r->recipient, .subject = r->subject,
		.body = r->body, .message_id = r->message_id, .in_reply_to = r->in_reply_to,
		.date = r->created_at, .tz = d->tz };
	return notify_message_build(&m, error);
}

/* Sends one notice. Returns 0 (whatever the server said), -1 on a store error. */
static int notify_send(struct notify_drainer *d, const struct store_outbox_row *r,
		       GError **error)
{
	GError *err = NULL;
	enum notify_smtp_failure failure = NOTIFY_SMTP_PERMANENT;
	GBytes *msg = notify_build_row(d, r, &err);
	int rc = msg != NULL ? notify_smtp_send(d->smtp, d->from_address, r->recipient, msg,
					       &failure, &err) : -1;
	if (msg != NULL)
		g_bytes_unref(msg);
	if (rc == 0) {
		d->stats.sent++;
		log_info("outbox", "notice #%" G_GINT64_FORMAT " %s %s sent to %s", (gint64)r->id,
			 r->kind, r->ref != NULL ? r->ref : "", r->recipient);
		return store_outbox_sent(d->st, r->id, d->now, error);
	}
	d->server_down = failure == NOTIFY_SMTP_UNREACHABLE;
	rc = notify_failed(d, r, err->message, failure == NOTIFY_SMTP_PERMANENT, error);
	g_error_free(err);
	return rc;
}

/* Opens the SMTP session on the first mail; false (logged) when it cannot be. */
static bool notify_smtp_ready(struct notify_drainer *d)
{
	if (d->smtp != NULL)
		return true;
	GError *err = NULL;
	d->smtp = notify_smtp_new(&d->cfg->smtp, &err);
	if (d->smtp == NULL) {
		log_error("outbox", "%s: %s", d->cfg->path, err->message);
		g_error_free(err);
		d->server_down = true;
		return false;
	}
	notify_smtp_set_cancel(d->smtp, d->cancel);
	return true;
}

static int notify_drain_row(struct notify_drainer *d, const struct store_outbox_row *r,
			    GError **error)
{
	d->now = g_get_real_time() / G_USEC_PER_SEC;
	if (r->recipient == NULL) {
		GError *err = NULL;
		if (notify_print(d, r, &err) == 0)
			return 0;
		if (err->domain != NOTIFY_ERROR) {
			g_propagate_error(error, err);
			return -1;
		}
		int rc = notify_failed(d, r, err->message, false, error);
		g_error_free(err);
		return rc;
	}
	if (notify_cancelled(d) || d->server_down || !notify_smtp_ready(d))
		return store_outbox_release(d->st, r->id, d->now, error);
	return notify_send(d, r, error);
}

/* One batch; returns the number of rows taken, or -1 on a store error. */
static int notify_drain_batch(struct notify_drainer *d, GError **error)
{
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	bool with_mail = d->cfg->smtp.url != NULL && !d->server_down;
	GPtrArray *rows = store_outbox_claim(d->st, now, NOTIFY_DRAIN_LEASE_S, NOTIFY_DRAIN_BATCH,
					     with_mail, error);
	if (rows == NULL)
		return -1;
	int taken = (int)rows->len;
	for (guint i = 0; taken >= 0 && i < rows->len; i++)
		if (notify_drain_row(d, rows->pdata[i], error) < 0)
			taken = -1;
	g_ptr_array_unref(rows);
	return taken;
}

int notify_drain(struct store *st, const struct config *cfg, struct notify_drain_stats *stats,
		 GError **error)
{
	return notify_drain_cancellable(st, cfg, stats, NULL, error);
}

int notify_drain_cancellable(struct store *st, const struct config *cfg,
			     struct notify_drain_stats *stats, const atomic_int *cancel,
			     GError **error)
{
	struct notify_drainer d = { .st = st, .cfg = cfg, .cancel = cancel };
	d.from_address = notify_from_address(cfg->smtp.from);
	d.tz = g_time_zone_new_identifier(cfg->timezone);
	int n, rc = 0;
	while ((n = notify_drain_batch(&d, error)) == NOTIFY_DRAIN_BATCH && !d.server_down &&
	       !notify_cancelled(&d))
		;
	if (n < 0)
		rc = -1;
	if (cfg->smtp.url == NULL) {
		struct store_outbox_counts c;
		if (store_outbox_count(st, &c, NULL) == 0 && c.pending > 0)
			log_warn("outbox", "%s: no [smtp] section: %" G_GINT64_FORMAT " notice(s) wait "
				 "(letters are still rendered for the post)", cfg->path,
				 (gint64)c.pending);
	}
	notify_smtp_free(d.smtp);
	g_free(d.from_address);
	if (d.tz != NULL)
		g_time_zone_unref(d.tz);
	if (stats != NULL)
		*stats = d.stats;
	return rc;
}
