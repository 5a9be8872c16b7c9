/* The responders' daily digest: queued through the outbox at most once per
   day, the check and the rows in one transaction so that two processes (the
   daemon and a cron job) cannot both send it. */
#include "store/store.h"
#include "store/store-internal.h"

static int store_digest_tx(struct store *st, const char *day, const struct store_notice *notices,
			   size_t n, int64_t now, GError **error)
{
	g_autofree char *last = store_meta_get(st, "reminder_day");
	if (last != NULL && g_strcmp0(last, day) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (store_outbox_queue(st, 0, &notices[i], now, error) < 0)
			return -1;
	if (store_meta_set(st, "reminder_day", day, error) < 0)
		return -1;
	return store_event(st, 0, now, "intake", "reminder_queued", day, error) < 0 ? -1 : 1;
}

int store_queue_digest(struct store *st, const char *day, const struct store_notice *notices,
		       size_t n, int64_t now, GError **error)
{
	if (store_tx_begin(st, false, error) < 0)
		return -1;
	int rc = store_digest_tx(st, day, notices, n, now, error);
	if (rc >= 0 && store_tx_commit(st, false, error) == 0)
		return rc;
	store_tx_rollback(st, false);
	return -1;
}
