/* Ingestion of one original; see ingest.h. */
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "notify/notify.h"
#include "parsers/mime.h"
#include "parsers/ocr.h"
#include "parsers/similar.h"
#include "store/spool.h"

struct ingest {
	const struct config *cfg;
	struct store *store;
	struct spool *spool;
	struct calendar *cal;
	struct sniff *sniff;
	GTimeZone *tz;
	struct calendar_rules rules;
	char **own_addresses;
	struct notify *notify;   /* NULL when notices are off */
	GHashTable *dup_cache;   /* complaint id -> struct similar*, see ingest_dup_cb */
	uint64_t dup_lost;       /* store_group_lost() when the cache was filled */
	char *spill_dir;         /* the spool's tmp/: large attachments' bytes while parsed */
};

struct store *ingest_store(struct ingest *in) { return in->store; }
const struct config *ingest_config(struct ingest *in) { return in->cfg; }
struct notify *ingest_notify(struct ingest *in) { return in->notify; }
const struct calendar *ingest_calendar(struct ingest *in) { return in->cal; }
GTimeZone *ingest_timezone(struct ingest *in) { return in->tz; }

void ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	store_free(in->store);
	spool_free(in->spool);
	calendar_free(in->cal);
	sniff_free(in->sniff);
	if (in->tz != NULL)
		g_time_zone_unref(in->tz);
	g_strfreev(in->own_addresses);
	notify_free(in->notify);
	if (in->dup_cache != NULL)
		g_hash_table_destroy(in->dup_cache);
	g_free(in->spill_dir);
	g_free(in);
}

int ingest_deadlines(struct ingest *in, int64_t received_at, struct store_deadlines *out,
		     GError **error)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(received_at);
	struct calendar_deadlines d = { 0 };
	if (t == NULL || calendar_deadlines(in->cal, &in->rules, in->tz, t, &d, error) < 0)
		return -1;
	out->acceptance_due = g_date_time_to_unix(d.acceptance_due);
	out->handling_due = g_date_time_to_unix(d.handling_due);
	out->handling_due_extended = g_date_time_to_unix(d.handling_due_extended);
	/* The extension may never be used: only the acceptance and handling
	   deadlines flag a complaint uncertain. */
	out->uncertain = d.handling_uncertain;
	if (d.handling_uncertain)
		log_warn("calendar", "%s does not cover %d: deadlines counted Monday to Friday and "
			 "flagged uncertain; add the year's holidays to the file",
			 in->cfg->calendar_file, d.uncertain_year);
	calendar_deadlines_clear(&d);
	return 0;
}

static int ingest_recompute_one(int64_t received_at, struct store_deadlines *out, void *ctx)
{
	GError *err = NULL;
	if (ingest_deadlines(ctx, received_at, out, &err) < 0) {
		log_error("calendar", "%s", err->message);
		g_error_free(err);
		return -1;
	}
	return 0;
}

/* When the calendar file changed since the last start, undecided complaints
   get their deadlines recomputed, each change an event. */
static int ingest_check_calendar(struct ingest *in, GError **error)
{
	const char *now = calendar_fingerprint(in->cal);
	g_autofree char *before = store_meta_get(in->store, "calendar_fingerprint");
	if (before != NULL && strcmp(before, now) != 0) {
		int n = store_recompute_deadlines(in->store, ingest_recompute_one, in, "intake",
						  "calendar file changed", error);
		if (n < 0)
			return -1;
		log_info("calendar", "%s changed: deadlines of %d undecided complaint(s) recomputed",
			 in->cfg->calendar_file, n);
	}
	if (before == NULL || strcmp(before, now) != 0)
		return store_meta_set(in->store, "calendar_fingerprint", now, error);
	return 0;
}

void ingest_rules(const struct config *c, struct calendar_rules *rules)
{
	rules->acceptance_days = c->acceptance_days;
	rules->handling_days = c->handling_days;
	rules->extension_days = c->extension_days > 0 ? c->extension_days : -1;
	rules->close_of_business = c->close_of_business > 0 ? c->close_of_business : 0;
}

char **ingest_own_addresses(const struct config *c)
{
	GPtrArray *own = g_ptr_array_new();
	for (guint i = 0; i < c->imap->len; i++) {
		const struct config_imap *m = c->imap->pdata[i];
		if (m->user != NULL && strchr(m->user, '@') != NULL)
			g_ptr_array_add(own, g_strdup(m->user));
	}
	if (c->smtp.from != NULL)
		g_ptr_array_add(own, notify_from_address(c->smtp.from));
	g_ptr_array_add(own, NULL);
	return (char **)g_ptr_array_free(own, FALSE);
}

static void ingest_set_rules(struct ingest *in)
{
	ingest_rules(in->cfg, &in->rules);
	in->own_addresses = ingest_own_addresses(in->cfg);
}

struct ingest *ingest_open(const struct config *cfg, GError **error)
{
	struct ingest *in = g_new0(struct ingest, 1);
	in->cfg = cfg;
	in->tz = g_time_zone_new_identifier(cfg->timezone);
	ingest_set_rules(in);
	if (in->tz == NULL || (in->cal = calendar_load(cfg->calendar_file, error)) == NULL ||
	    (in->store = store_open(cfg->store_path, error)) == NULL ||
	    (in->spool = spool_open(cfg->spool_path, error)) == NULL ||
	    (in->sniff = sniff_new(error)) == NULL || ingest_check_calendar(in, error) < 0 ||
	    (cfg->notices.enabled && (in->notify = notify_new(cfg,
		(const char *const *)in->own_addresses, error)) == NULL)) {
		if (in->tz == NULL && error != NULL && *error == NULL)
			g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "unknown time zone %s",
				    cfg->timezone);
		ingest_free(in);
		return NULL;
	}
	store_set_timezone(in->store, in->tz);
	in->spill_dir = g_build_filename(cfg->spool_path, "tmp", NULL);
	return in;
}

void ingest_outcome_clear(struct ingest_outcome *o)
{
	g_clear_pointer(&o->ref, g_free);
	g_clear_pointer(&o->disposition, g_free);
}

/* Saves every attachment's bytes to the spool and describes them for the store. */
static int ingest_save_attachments(struct ingest *in, struct record *r,
				   struct store_attachment *out, char **paths, GError **error)
{
	for (guint i = 0; i < r->attachments->len; i++) {
		struct record_attachment *a = r->attachments->pdata[i];
		size_t n = 0;
		const void *data = g_bytes_get_data(a->content, &n);
		char sha[SPOOL_SHA256_HEX];
		int rc = a->fd >= 0 ? spool_save_fd(in->spool, a->fd, sha, &paths[i], error) :
			 spool_save(in->spool, data != NULL ? data : "", n, sha, &paths[i], error);
		if (rc < 0)
			return -1;
		out[i] = (struct store_attachment){
			.filename = a->filename, .declared_type = a->declared_type,
			.detected_type = a->detected_type, .sha256 = a->sha256,
			.spool_path = paths[i], .size = (int64_t)a->size, .risky = a->risky };
	}
	return 0;
}

static struct store_account *ingest_accounts(struct record *r)
{
	GPtrArray *list = r->extract->accounts;
	struct store_account *acc = g_new0(struct store_account, list->len + 1);
	for (guint i = 0; i < list->len; i++) {
		const struct extract_value *v = list->pdata[i];
		acc[i] = (struct store_account){ .value = v->value, .context = v->context };
	}
	return acc;
}

static void ingest_ref_day(struct ingest *in, int64_t t, char day[9])
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, in->tz);
	g_autofree char *s = g_date_time_format(local, "%Y%m%d");
	g_strlcpy(day, s, 9);
}

/* Where the complaint's notices go: its complainant's address, or with
   [notices] trust_reply_to the Reply-To of a mail the complainant sent
   (not of a forward, whose Reply-To is the forwarder's). */
static const char *ingest_notice_address(const struct ingest *in, struct record *r)
{
	const char *c = r->complainant.address;
	if (!in->cfg->notices.trust_reply_to || r->reply_to == NULL || r->forwarded_by != NULL ||
	    c == NULL || r->from.address == NULL || g_ascii_strcasecmp(c, r->from.address) != 0 ||
	    g_ascii_strcasecmp(r->reply_to, c) == 0)
		return c;
	return r->reply_to;
}

/* ---- possible duplicates ---- */

#define INGEST_DUP_DAYS 90       /* earlier complaints looked at: received so recently */
#define INGEST_DUP_MAX 10        /* and at most so many of them */
#define INGEST_DUP_SCORE 0.8     /* the share of character pairs in common that marks one */
#define INGEST_DUP_CACHE 1024    /* earlier complaints' pairs kept: a backlog from one
				    address compares each with the next ones */

struct ingest_dup {
	struct ingest *in;
	struct similar *mine;
	int64_t id;
};

static char *ingest_dup_text(const char *subject, const char *body)
{
	return g_strconcat(subject != NULL ? subject : "", "\n", body != NULL ? body : "", NULL);
}

static void ingest_similar_free(gpointer p)
{
	similar_free(p);
}

/* The pairs of complaint id, from the cache or computed. Ids of a group
   rolled back are reused: the cache is dropped then. */
static const struct similar *ingest_dup_pairs(struct ingest *in, int64_t id, const char *subject,
					      const char *body)
{
	uint64_t lost = store_group_lost(in->store);
	if (in->dup_cache == NULL || in->dup_lost != lost ||
	    g_hash_table_size(in->dup_cache) >= INGEST_DUP_CACHE) {
		if (in->dup_cache != NULL)
			g_hash_table_destroy(in->dup_cache);
		in->dup_cache = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
						      ingest_similar_free);
		in->dup_lost = lost;
	}
	struct similar *s = g_hash_table_lookup(in->dup_cache, &id);
	if (s == NULL) {
		g_autofree char *text = ingest_dup_text(subject, body);
		s = similar_new(text);
		g_hash_table_insert(in->dup_cache, g_memdup2(&id, sizeof id), s);
	}
	return s;
}

/* The newest earlier complaint that matches is the one named. */
static bool ingest_dup_cb(int64_t id, const char *subject, const char *body, void *ctx)
{
	struct ingest_dup *d = ctx;
	double score = similar_score(d->mine, ingest_dup_pairs(d->in, id, subject, body));
	if (score < INGEST_DUP_SCORE)
		return true;
	d->id = id;
	return false;
}

/* The earlier complaint from the same address that this one closely
   matches (a suggestion for the responder), or 0. */
static int64_t ingest_possible_duplicate(struct ingest *in, const struct record *r,
					 int64_t received_at)
{
	if (r->complainant.address == NULL)
		return 0;
	g_autofree char *text = ingest_dup_text(r->subject, r->text);
	struct ingest_dup d = { .in = in, .mine = similar_new(text) };
	GError *err = NULL;
	if (store_recent_from(in->store, r->complainant.address,
			      received_at - INGEST_DUP_DAYS * 86400, INGEST_DUP_MAX, ingest_dup_cb,
			      &d, &err) < 0) {
		log_warn("ingest", "looking for a possible duplicate: %s", err->message);
		g_clear_error(&err);
		d.id = 0;
	}
	similar_free(d.mine);
	return d.id;
}

/* Stores the draft of a parsed record. */
static int ingest_store_draft(struct ingest *in, const struct store_source *src, struct record *r,
			      struct ingest_outcome *out, GError **error)
{
	struct store_deadlines dl;
	if (ingest_deadlines(in, src->received_at, &dl, error) < 0)
		return -1;
	guint na = r->attachments->len;
	g_autofree struct store_attachment *atts = g_new0(struct store_attachment, na + 1);
	char **paths = g_new0(char *, na + 1);
	g_autofree struct store_account *accounts = ingest_accounts(r);
	char day[9];
	ingest_ref_day(in, src->received_at, day);
	struct store_draft d = {
		.channel = r->channel, .ref_prefix = in->cfg->reference_prefix, .ref_day = day,
		.acceptance_due = dl.acceptance_due, .handling_due = dl.handling_due,
		.handling_due_extended = dl.handling_due_extended,
		.calendar_uncertain = dl.uncertain,
		.name = r->complainant.name, .email = ingest_notice_address(in, r),
		.phone = r->complainant_phone, .subject = r->subject, .body = r->text,
		.message_id = r->message_id, .major = r->major,
		.accounts = accounts, .n_accounts = r->extract->accounts->len,
		.attachments = atts, .n_attachments = na, .actor = "intake",
		.notice_by = r->notice_by,
		.possible_duplicate_of = ingest_possible_duplicate(in, r, src->received_at) };
	struct notify_notice *ack = notify_acknowledgment(in->notify, src, &d, r->auto_submitted);
	d.notice = notify_notice_for_ref;
	d.notice_ctx = ack;
	int rc = ingest_save_attachments(in, r, atts, paths, error);
	if (rc == 0)
		rc = store_ingest(in->store, src, &d, &out->ref, error);
	notify_notice_free(ack);
	g_strfreev(paths);
	if (rc < 0)
		return -1;
	out->status = rc == 1 ? INGEST_CREATED : INGEST_KNOWN;
	out->uncertain = dl.uncertain;
	return 0;
}

void ingest_ocr_settings(const struct config *cfg, struct ocr_settings *s)
{
	*s = (struct ocr_settings){
		.seconds = cfg->limits.ocr_seconds,
		.max_pages = cfg->limits.ocr_pages,
		.max_memory = cfg->limits.ocr_memory,
		.languages = cfg->limits.ocr_languages,
		.fallback_languages = cfg->limits.ocr_fallback_languages,
		.jobs = cfg->limits.ocr_jobs,
	};
}

/* At most this many attachments of one mail are read for their text, and
   images smaller than INGEST_OCR_MIN_IMAGE bytes (logos, icons) are not. */
#define INGEST_OCR_MAX_ATTACHMENTS 5
#define INGEST_OCR_MIN_IMAGE 4096

static bool ingest_attachment_readable(const struct config *cfg, struct record *r,
				       const struct record_attachment *a)
{
	enum ocr_kind k = ocr_kind_of(a->detected_type);
	if (a->risky || a->content == NULL || k == OCR_KIND_UNSUPPORTED || k == OCR_KIND_TEXT)
		return false;
	if (a->size > cfg->limits.attachment_bytes) {
		record_note(r, "attachment %s of %" G_GUINT64_FORMAT " bytes is over attachment_bytes "
			    "(%" G_GUINT64_FORMAT "): its text was not read (it is kept)", a->filename,
			    (guint64)a->size, (guint64)cfg->limits.attachment_bytes);
		return false;
	}
	return k != OCR_KIND_IMAGE || a->size >= INGEST_OCR_MIN_IMAGE;
}

static const char *ingest_first(GPtrArray *values, const char *except)
{
	for (guint i = 0; i < values->len; i++) {
		const char *v = ((struct extract_value *)values->pdata[i])->value;
		if (except == NULL || g_ascii_strcasecmp(v, except) != 0)
			return v;
	}
	return NULL;
}

/* What the attachments say fills only what the mail left empty (the mail's
   own resolution, record_resolve in mime_parse, stands). */
static void ingest_fill_complainant(struct record *r)
{
	struct extract_result *x = r->extract;
	if (r->complainant.address == NULL)
		r->complainant.address = g_strdup(ingest_first(x->emails, r->from.address));
	if (r->complainant.name == NULL)
		r->complainant.name = g_strdup(ingest_first(x->names, NULL));
	if (r->complainant_phone == NULL)
		r->complainant_phone = g_strdup(ingest_first(x->phones, NULL));
	if (r->reference == NULL)
		r->reference = g_strdup(ingest_first(x->references, NULL));
}

/* A complaint letter attached as PDF, image or DOCX: its text is read and
   what it says feeds the extraction (text attachments are mime.c's). */
static void ingest_attachment_texts(const struct config *cfg, struct record *r)
{
	struct ocr_settings os;
	ingest_ocr_settings(cfg, &os);
	struct extract_settings es = { .reference_prefix = cfg->reference_prefix };
	unsigned tried = 0;
	for (guint i = 0; i < r->attachments->len && tried < INGEST_OCR_MAX_ATTACHMENTS; i++) {
		struct record_attachment *a = r->attachments->pdata[i];
		if (!ingest_attachment_readable(cfg, r, a))
			continue;
		tried++;
		size_t n = 0;
		const char *data = g_bytes_get_data(a->content, &n);
		struct ocr_result res;
		GError *err = NULL;
		if (ocr_document_text(&os, a->detected_type, data, n, &res, &err) < 0) {
			record_note(r, "attachment %s: no text read: %s", a->filename, err->message);
			g_error_free(err);
			continue;
		}
		a->text = g_steal_pointer(&res.text);
		extract_text_into(r->extract, &es, a->text, strlen(a->text));
		ocr_result_clear(&res);
	}
	ingest_fill_complainant(r);
}

static void ingest_mime_settings(const struct config *cfg, struct sniff *sniff,
				 const char *const *own, const char *spill_dir,
				 struct mime_settings *ms)
{
	*ms = (struct mime_settings){
		.max_bytes = cfg->limits.message_bytes,
		.max_depth = cfg->limits.mime_depth,
		.max_parts = cfg->limits.mime_parts,
		.own_addresses = own,
		.regulator_domains = (const char *const *)cfg->regulator_domains,
		.regulator_phrases = (const char *const *)cfg->regulator_phrases,
		.sniff = sniff,
		.spill_dir = spill_dir,
	};
}

/* Parses from memory (data) or from a file (fd >= 0 at offset 0). */
static struct record *ingest_parse_with(const struct config *cfg, struct sniff *sniff,
					const char *const *own, const char *spill_dir,
					const char *data, size_t len, int fd)
{
	struct mime_settings ms;
	ingest_mime_settings(cfg, sniff, own, spill_dir, &ms);
	struct record *r = fd >= 0 ? mime_parse_fd(&ms, fd) : mime_parse(&ms, data, len);
	if (r->auto_submitted == NULL)
		ingest_attachment_texts(cfg, r);
	return r;
}

struct record *ingest_parse_message(const struct config *cfg, struct sniff *sniff,
				    const char *const *own, const char *data, size_t len)
{
	return ingest_parse_with(cfg, sniff, own, NULL, data, len, -1);
}

struct record *ingest_parse_message_fd(const struct config *cfg, struct sniff *sniff,
				       const char *const *own, int fd)
{
	return ingest_parse_with(cfg, sniff, own, NULL, NULL, 0, fd);
}

static int ingest_known(struct ingest *in, const char *origin, const char *sha,
			struct ingest_outcome *out, GError **error)
{
	int found = store_find_source(in->store, origin, sha, &out->ref, error);
	if (found > 0)
		out->status = INGEST_KNOWN;
	return found;
}

/* The record's notes as one line for the source row, or NULL. */
static char *ingest_notes_line(const struct record *r)
{
	if (r->notes->len == 0)
		return NULL;
	g_ptr_array_add(r->notes, NULL);
	char *line = g_strjoinv("; ", (char **)r->notes->pdata);
	g_ptr_array_remove_index(r->notes, r->notes->len - 1);
	return line;
}

static int ingest_group_sync(void *ctx, GError **error)
{
	struct ingest *in = ctx;
	return spool_sync(in->spool, error);
}

static int ingest_group_begin(struct ingest *in, GError **error)
{
	if (!store_group_open(in->store) &&
	    store_group_begin(in->store, ingest_group_sync, in, error) < 0)
		return -1;
	spool_defer(in->spool, true);
	return 0;
}

int ingest_group_commit(struct ingest *in, GError **error)
{
	int rc = store_group_commit(in->store, error);
	spool_defer(in->spool, false);
	return rc;
}

uint64_t ingest_group_lost(struct ingest *in) { return store_group_lost(in->store); }
int64_t ingest_group_age(struct ingest *in) { return store_group_age(in->store); }

/* Opens or joins the group for a grouped write; commits it before any other. */
static int ingest_group_enter(struct ingest *in, bool group, GError **error)
{
	return group ? ingest_group_begin(in, error) : ingest_group_commit(in, error);
}

/* Stores the parsed record of a spooled original (sha, spool_rel, size). */
static int ingest_store_parsed(struct ingest *in, const struct ingest_origin *o,
			       const char *origin, const char *sha, const char *spool_rel,
			       uint64_t size, struct record *r, struct ingest_outcome *out,
			       GError **error)
{
	if (r->auto_submitted == NULL && ingest_notice_address(in, r) != r->complainant.address)
		record_note(r, "notices go to its Reply-To %s ([notices] trust_reply_to); sent by %s",
			    r->reply_to, r->complainant.address);
	/* limits hit, repairs made: kept with the source, shown by intake show */
	g_autofree char *note = ingest_notes_line(r);
	struct store_source src = {
		.kind = o->kind, .origin = origin, .sha256 = sha, .size = (int64_t)size,
		.spool_path = spool_rel, .message_id = r->message_id,
		.received_at = o->received_at ? o->received_at : g_get_real_time() / G_USEC_PER_SEC,
		.disposition = r->auto_submitted, .note = note, .group = o->group,
	};
	int rc;
	if (r->auto_submitted != NULL) {
		rc = store_record_source(in->store, &src, error);
		out->status = rc == 1 ? INGEST_CLASSIFIED : INGEST_KNOWN;
		out->disposition = g_strdup(r->auto_submitted);
	} else {
		rc = ingest_store_draft(in, &src, r, out, error);
	}
	return rc < 0 ? -1 : 0;
}

static char *ingest_origin_name(const struct ingest_origin *o, const char *sha)
{
	return o->origin != NULL ? g_strdup(o->origin) : g_strdup_printf("manual:%s", sha);
}

/* The first steps of an ingest from bytes: joins (or commits) the group,
   hashes, looks the original up, spools it. Returns 0 for a new one
   (*origin_r and *rel_r set, free them), 1 when it is known (out filled),
   or -1. */
static int ingest_spool_new(struct ingest *in, const struct ingest_origin *o, bool group,
			    const char *data, size_t len, char sha[SPOOL_SHA256_HEX],
			    char **origin_r, char **rel_r, struct ingest_outcome *out, GError **error)
{
	if (ingest_group_enter(in, group, error) < 0)
		return -1;
	spool_sha256(data, len, sha);
	g_autofree char *origin = ingest_origin_name(o, sha);
	int found = ingest_known(in, origin, sha, out, error);
	if (found != 0)
		return found < 0 ? -1 : 1;
	if (spool_save(in->spool, data, len, sha, rel_r, error) < 0)
		return -1;
	*origin_r = g_steal_pointer(&origin);
	return 0;
}

int ingest_message(struct ingest *in, const struct ingest_origin *o, const char *data, size_t len,
		   struct ingest_outcome *out, GError **error)
{
	memset(out, 0, sizeof *out);
	char sha[SPOOL_SHA256_HEX];
	g_autofree char *origin = NULL, *spool_rel = NULL;
	int fresh = ingest_spool_new(in, o, o->group, data, len, sha, &origin, &spool_rel, out, error);
	if (fresh != 0)
		return fresh < 0 ? -1 : 0;
	struct record *r = ingest_parse_with(in->cfg, in->sniff, (const char *const *)in->own_addresses,
					     in->spill_dir, data, len, -1);
	int rc = ingest_store_parsed(in, o, origin, sha, spool_rel, len, r, out, error);
	record_free(r);
	return rc;
}

struct spool_writer *ingest_writer_begin(struct ingest *in, GError **error)
{
	return spool_writer_begin(in->spool, error);
}

int ingest_message_writer(struct ingest *in, const struct ingest_origin *o, struct spool_writer *w,
			  struct ingest_outcome *out, GError **error)
{
	memset(out, 0, sizeof *out);
	if (ingest_group_enter(in, o->group, error) < 0) {
		spool_writer_abort(w);
		return -1;
	}
	uint64_t size = spool_writer_size(w);
	char sha[SPOOL_SHA256_HEX];
	g_autofree char *spool_rel = NULL;
	if (spool_writer_commit(w, sha, &spool_rel, error) < 0)
		return -1;
	g_autofree char *origin = ingest_origin_name(o, sha);
	int found = ingest_known(in, origin, sha, out, error);
	if (found != 0)
		return found < 0 ? -1 : 0;
	g_autofree char *path = spool_path(in->spool, spool_rel);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "open(%s): %s", path,
			    g_strerror(errno));
		return -1;
	}
	struct record *r = ingest_parse_with(in->cfg, in->sniff, (const char *const *)in->own_addresses,
					     in->spill_dir, NULL, 0, fd);
	close(fd);
	int rc = ingest_store_parsed(in, o, origin, sha, spool_rel, size, r, out, error);
	record_free(r);
	return rc;
}

int ingest_message_fd(struct ingest *in, const struct ingest_origin *o, int fd,
		      struct ingest_outcome *out, GError **error)
{
	struct spool_writer *w = ingest_writer_begin(in, error);
	if (w == NULL)
		return -1;
	if (spool_writer_write_fd(w, fd, error) < 0) {
		spool_writer_abort(w);
		return -1;
	}
	return ingest_message_writer(in, o, w, out, error);
}

/* ---- Scanned letters and faxes ---- */

/* A file name fit for a subject line: no control characters, valid UTF-8,
   at most 80 bytes. */
static char *ingest_clean_name(const char *name)
{
	g_autofree char *valid = g_utf8_make_valid(name != NULL ? name : "", -1);
	GString *out = g_string_new(NULL);
	for (const char *p = valid; *p != '\0' && out->len < 80; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (!g_unichar_iscntrl(c))
			g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/* "信函 scan001.pdf" or "传真 fax0001.tif (来自 02112345678)". */
static char *ingest_doc_subject(const char *channel, const struct ingest_doc_meta *m)
{
	g_autofree char *name = ingest_clean_name(m->filename);
	g_autofree char *caller = m->caller != NULL ? ingest_clean_name(m->caller) : NULL;
	const char *kind = strcmp(channel, "fax") == 0 ? "传真" : "信函";
	if (caller != NULL && *caller != '\0')
		return g_strdup_printf("%s %s (来自 %s)", kind, name, caller);
	return g_strdup_printf("%s %s", kind, name);
}

static void ingest_doc_notes(struct record *r, const struct ingest_doc_meta *m)
{
	for (size_t i = 0; m->notes != NULL && m->notes[i] != NULL; i++)
		record_note(r, "%s", m->notes[i]);
	if (m->caller != NULL)
		record_note(r, "fax caller: %s", m->caller);
	if (m->declared_pages != 0 && m->declared_pages != m->pages)
		record_note(r, "the sidecar announced %u page(s); %u were read", m->declared_pages,
			    m->pages);
}

static struct record_ocr *ingest_doc_ocr(const struct ingest_doc_meta *m)
{
	struct record_ocr *o = g_new0(struct record_ocr, 1);
	o->engine = g_strdup(m->engine);
	o->language = g_strdup(m->language);
	o->detected_type = g_strdup(m->detected_type);
	o->pages = m->pages;
	return o;
}

struct record *ingest_parse_document(const struct config *cfg, const char *channel,
				     const char *text, const struct ingest_doc_meta *m)
{
	static const struct ingest_doc_meta none = { 0 };
	if (m == NULL)
		m = &none;
	struct record *r = record_new(channel);
	r->text = g_utf8_make_valid(text != NULL ? text : "", -1);
	r->subject = ingest_doc_subject(channel, m);
	r->ocr = ingest_doc_ocr(m);
	ingest_doc_notes(r, m);
	struct extract_settings es = { .reference_prefix = cfg->reference_prefix };
	extract_text_into(r->extract, &es, r->text, strlen(r->text));
	record_resolve(r, NULL, NULL);
	GPtrArray *emails = r->extract->emails;
	if (r->complainant.address == NULL && emails->len > 0)
		r->complainant.address = g_strdup(((struct extract_value *)emails->pdata[0])->value);
	r->notice_by = g_strdup(r->complainant.address != NULL ? "email" : "post");
	if (r->complainant.address == NULL)
		record_note(r, "no e-mail address in the %s: its notices go by post", channel);
	return r;
}


int ingest_document(struct ingest *in, const struct ingest_origin *o, const char *data,
		    size_t len, const char *text, const struct ingest_doc_meta *meta,
		    struct ingest_outcome *out, GError **error)
{
	memset(out, 0, sizeof *out);
	if (o->channel == NULL || (strcmp(o->channel, "letter") != 0 && strcmp(o->channel, "fax") != 0)) {
		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
			    "channel %s: expected letter or fax", o->channel != NULL ? o->channel : "(none)");
		return -1;
	}
	char sha[SPOOL_SHA256_HEX];
	g_autofree char *origin = NULL, *spool_rel = NULL;
	int fresh = ingest_spool_new(in, o, false, data, len, sha, &origin, &spool_rel, out, error);
	if (fresh != 0)
		return fresh < 0 ? -1 : 0;
	struct record *r = ingest_parse_document(in->cfg, o->channel, text, meta);
	g_autofree char *note = ingest_notes_line(r);
	struct store_source src = {
		.kind = o->kind, .origin = origin, .sha256 = sha, .size = (int64_t)len,
		.spool_path = spool_rel,
		.received_at = o->received_at ? o->received_at : g_get_real_time() / G_USEC_PER_SEC,
		.note = note,
	};
	int rc = ingest_store_draft(in, &src, r, out, error);
	record_free(r);
	return rc < 0 ? -1 : 0;
}
