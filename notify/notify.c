/* The notices owed for a new draft and for a decision, prepared for the
   store transaction that queues them; see notify.h. */
#include "notify/notify.h"

#include <string.h>

#include "core/log.h"

struct notify {
	const struct config *cfg;
	struct notify_templates *templates;
	char **own;
	char *sender;        /* the display name of [smtp] from, or "" */
	char *from_address;
};

struct notify_notice {
	struct notify *nf;
	struct store_notice n;     /* what the store queues; strings below */
	char *kind, *recipient, *message_id, *in_reply_to, *subject, *body;
	/* kept for rendering once the reference is known */
	char *name, *title, *note, *reason;
	char **accounts;
	int64_t received_at, acceptance_due, handling_due, decided_at;
};

void notify_free(struct notify *nf)
{
	if (nf == NULL)
		return;
	notify_templates_free(nf->templates);
	g_strfreev(nf->own);
	g_free(nf->sender);
	g_free(nf->from_address);
	g_free(nf);
}

/* Splits [smtp] from "Name <address>" into its two parts. */
static void notify_split_from(struct notify *nf, const char *from)
{
	const char *lt = from != NULL ? strrchr(from, '<') : NULL;
	nf->from_address = notify_from_address(from);
	g_autofree char *name = lt != NULL ? g_strndup(from, (gsize)(lt - from)) : g_strdup("");
	g_strdelimit(name, "\"", ' ');
	nf->sender = g_strdup(g_strstrip(name));
}

struct notify *notify_new(const struct config *cfg, const char *const *own, GError **error)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(cfg->timezone);
	if (tz == NULL)
		tz = g_time_zone_new_utc();
	struct notify *nf = g_new0(struct notify, 1);
	nf->cfg = cfg;
	nf->own = g_strdupv((char **)own);
	notify_split_from(nf, cfg->smtp.from);
	nf->templates = notify_templates_load(cfg->templates_dir, cfg->language, tz, error);
	if (nf->templates == NULL) {
		notify_free(nf);
		return NULL;
	}
	return nf;
}

void notify_notice_free(struct notify_notice *n)
{
	if (n == NULL)
		return;
	g_free(n->kind);
	g_free(n->recipient);
	g_free(n->message_id);
	g_free(n->in_reply_to);
	g_free(n->subject);
	g_free(n->body);
	g_free(n->name);
	g_free(n->title);
	g_free(n->note);
	g_free(n->reason);
	g_strfreev(n->accounts);
	g_free(n);
}

const struct store_notice *notify_notice_get(const struct notify_notice *n)
{
	return n != NULL ? &n->n : NULL;
}

/* Where a notice goes: the address if the guard allows it; for a letter or
   a fax without one, the post (*post_r). Returns false (logged) for none. */
static bool notify_route(struct notify *nf, const char *kind, const char *channel,
			 const char *address, const char *auto_submitted, const char *what,
			 bool *post_r)
{
	*post_r = false;
	bool paper = channel != NULL && strcmp(channel, "email") != 0;
	if (paper && auto_submitted == NULL && (address == NULL || *address == '\0')) {
		*post_r = true;
		return true;
	}
	const char *why = notify_guard_refuses(address, auto_submitted, (const char *const *)nf->own);
	if (why != NULL)
		log_info("notify", "%s: no %s: %s", what, kind, why);
	return why == NULL;
}

static struct notify_notice *notify_notice_new(struct notify *nf, const char *kind,
					       const char *recipient, const char *in_reply_to)
{
	struct notify_notice *n = g_new0(struct notify_notice, 1);
	n->nf = nf;
	n->kind = g_strdup(kind);
	n->recipient = g_strdup(recipient);
	n->message_id = notify_message_id(nf->from_address);
	n->in_reply_to = notify_clean_message_id(in_reply_to);
	n->n = (struct store_notice){ .kind = n->kind, .recipient = n->recipient,
				      .message_id = n->message_id, .in_reply_to = n->in_reply_to };
	return n;
}

/* Renders the notice for ref; false (logged) if the templates refuse. */
static bool notify_notice_render(struct notify_notice *n, const char *ref)
{
	struct notify_values v = {
		.ref = ref, .name = n->name, .subject = n->title, .note = n->note,
		.reason = n->reason, .sender = n->nf->sender,
		.accounts = (const char *const *)n->accounts, .received_at = n->received_at,
		.acceptance_due = n->acceptance_due, .handling_due = n->handling_due,
		.decided_at = n->decided_at };
	GError *err = NULL;
	g_clear_pointer(&n->subject, g_free);
	g_clear_pointer(&n->body, g_free);
	if (notify_render(n->nf->templates, n->kind, &v, &n->subject, &n->body, &err) < 0) {
		log_error("notify", "%s: %s", ref, err->message);
		g_error_free(err);
		return false;
	}
	n->n.subject = n->subject;
	n->n.body = n->body;
	return true;
}

struct notify_notice *notify_acknowledgment(struct notify *nf, const struct store_source *src,
					    const struct store_draft *d, const char *auto_submitted)
{
	bool post = false;
	if (nf == NULL || !notify_route(nf, NOTIFY_ACKNOWLEDGMENT, d->channel, d->email,
					auto_submitted, src->origin, &post))
		return NULL;
	struct notify_notice *n = notify_notice_new(nf, NOTIFY_ACKNOWLEDGMENT,
						    post ? NULL : d->email, d->message_id);
	n->n.max_per_day = nf->cfg->notices.max_acks_per_day;
	n->name = g_strdup(d->name);
	n->title = g_strdup(d->subject);
	n->accounts = g_new0(char *, d->n_accounts + 1);
	for (size_t i = 0; i < d->n_accounts; i++)
		n->accounts[i] = g_strdup(d->accounts[i].value);
	n->received_at = src->received_at;
	n->acceptance_due = d->acceptance_due;
	n->handling_due = d->handling_due;
	return n;
}

const struct store_notice *notify_notice_for_ref(const char *ref, void *notice)
{
	struct notify_notice *n = notice;
	return n != NULL && notify_notice_render(n, ref) ? &n->n : NULL;
}

/* The kind of notice a decision owes, or NULL. */
static const char *notify_decision_kind(const struct notify *nf, const struct store_decision *dec)
{
	if (strcmp(dec->status, "not_accepted") == 0)
		return NOTIFY_NON_ACCEPTANCE;
	if (strcmp(dec->status, "accepted") == 0 && nf->cfg->notices.send_acceptance)
		return NOTIFY_ACCEPTANCE;
	return NULL;
}

static struct notify_notice *notify_decision_notice(struct notify *nf,
						    const struct store_complaint *c,
						    const struct store_decision *dec,
						    const char *kind)
{
	bool post = false;
	if (!notify_route(nf, kind, c->channel, c->email, NULL, c->ref, &post))
		return NULL;
	struct notify_notice *n = notify_notice_new(nf, kind, post ? NULL : c->email,
						    c->message_id);
	n->name = g_strdup(c->name);
	n->title = g_strdup(c->subject);
	n->note = g_strdup(dec->note);
	n->reason = g_strdup(dec->reason);
	n->accounts = g_new0(char *, c->accounts->len + 1);
	for (guint i = 0; i < c->accounts->len; i++)
		n->accounts[i] = g_strdup(((struct store_complaint_account *)c->accounts->pdata[i])->value);
	n->received_at = c->received_at;
	n->acceptance_due = c->acceptance_due;
	n->handling_due = c->handling_due;
	n->decided_at = dec->at;
	if (!notify_notice_render(n, c->ref))
		g_clear_pointer(&n, notify_notice_free);
	return n;
}

struct notify_notice *notify_decision(struct notify *nf, struct store *st, const char *ref,
				      const struct store_decision *dec)
{
	const char *kind = nf != NULL ? notify_decision_kind(nf, dec) : NULL;
	if (kind == NULL)
		return NULL;
	struct store_complaint *c = store_get(st, ref, NULL);
	struct notify_notice *n = c != NULL ? notify_decision_notice(nf, c, dec, kind) : NULL;
	store_complaint_free(c);
	return n;
}
