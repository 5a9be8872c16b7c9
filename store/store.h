/* The store: every SQL statement of intake, in SQLite (WAL, foreign keys,
   schema version in PRAGMA user_version, forward migrations on open). It
   owns the complaint state machine (draft -> accepted | not_accepted |
   merged) and writes an audit event in the same transaction as every change.
   Times are Unix seconds; callers render them in the configured zone. */
#ifndef INTAKE_STORE_STORE_H
#define INTAKE_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);
enum store_error_code {
	STORE_ERROR_DB,          /* SQLite failed */
	STORE_ERROR_NOT_FOUND,   /* no such complaint */
	STORE_ERROR_STATE,       /* transition refused */
	STORE_ERROR_SCHEMA,      /* database newer than this program */
	STORE_ERROR_INVALID,     /* a request wrong in itself (unknown reason code ...) */
};

#define STORE_SCHEMA_VERSION 3

struct store;

/* Opens or creates the database (mode 0600), migrating it forward.
   NULL with error. */
struct store *store_open(const char *path, GError **error);
void store_free(struct store *st);
/* The zone in which times in error messages are written (a reference is taken). */
void store_set_timezone(struct store *st, GTimeZone *tz);
int store_schema_version(struct store *st);

/* ---- Group commit ----
   Between store_group_begin and store_group_commit, the writes made with
   `group` set (store_source.group: store_ingest, store_record_source) go into
   one open transaction, each in a savepoint of its own, instead of one commit
   (one fsync) each. None of them is durable until store_group_commit, which
   first calls sync (to make the originals they refer to durable), then
   commits. Every other write through this handle commits the group first, so
   nothing outside the group ever waits on it or sees it half done.
   A group that fails to commit is rolled back whole: store_group_lost counts
   those, so a caller can tell whether what it wrote survived. */
typedef int (*store_sync_fn)(void *ctx, GError **error);
int store_group_begin(struct store *st, store_sync_fn sync, void *ctx, GError **error);
int store_group_commit(struct store *st, GError **error);
bool store_group_open(const struct store *st);
/* Microseconds since the open group began, or 0; the writes it holds. */
int64_t store_group_age(const struct store *st);
unsigned store_group_size(const struct store *st);
uint64_t store_group_lost(const struct store *st);

/* One ingested original. */
struct store_source {
	const char *kind;        /* "imap", "file", "manual" */
	const char *origin;      /* unique per place: "imap:NAME:UIDVALIDITY:UID", ... */
	const char *sha256;
	int64_t size;
	const char *spool_path;  /* relative to the spool */
	const char *message_id;  /* or NULL */
	int64_t received_at;
	const char *disposition; /* for sources that make no draft: "auto_reply", ... */
	const char *note;        /* why, or NULL */
	bool group;              /* may join the open group commit */
};

struct store_account { const char *value; const char *context; };

struct store_attachment {
	const char *filename, *declared_type, *detected_type, *sha256, *spool_path;
	int64_t size;
	bool risky;
};

/* A notice to queue in the outbox, in the same transaction as the event that
   causes it (see "Outbox" below). Strings are borrowed. */
struct store_notice {
	const char *kind;         /* "acknowledgment", "acceptance", "non_acceptance" ... */
	const char *recipient;    /* an e-mail address, or NULL: rendered for the post */
	const char *message_id;   /* its own Message-ID, fixed now: "<...@...>" */
	const char *in_reply_to;  /* the complaint's Message-ID, or NULL */
	const char *subject, *body;   /* rendered, UTF-8 */
	unsigned max_per_day;     /* not 0: not queued when the recipient already has this
				     many notices of this kind from the last 24 hours */
};

/* Renders the notice of a draft once its reference is numbered, inside the
   transaction. Returns a notice owned by ctx (valid until store_ingest
   returns), or NULL for none. */
typedef const struct store_notice *(*store_notice_fn)(const char *ref, void *ctx);

/* A new draft complaint. */
struct store_draft {
	const char *channel;             /* "email", "letter", "fax" */
	const char *ref_prefix;          /* "TS" */
	const char *ref_day;             /* local date of receipt, "20261123" */
	int64_t acceptance_due, handling_due, handling_due_extended;
	bool calendar_uncertain;
	const char *name, *email, *phone;
	const char *subject, *body, *message_id;
	bool major;
	const struct store_account *accounts;    size_t n_accounts;
	const struct store_attachment *attachments; size_t n_attachments;
	const char *actor;               /* who records it: "intake" */
	store_notice_fn notice;          /* the acknowledgment to queue, or NULL */
	void *notice_ctx;
	const char *notice_by;           /* "email", "post" (no address known) or NULL: "email" */
	int64_t possible_duplicate_of;   /* the id of an earlier complaint it closely matches, or 0 */
};

/* Earlier complaints from an address, newest first: at most max of those
   received at or after since, each given to fn with its id, subject and
   body, until fn returns false. Returns 0 or -1. */
typedef bool (*store_text_fn)(int64_t id, const char *subject, const char *body, void *ctx);
int store_recent_from(struct store *st, const char *email, int64_t since, unsigned max,
		      store_text_fn fn, void *ctx, GError **error);

/* If a source with the same origin or the same content hash is already
   stored, sets *ref_r (newly allocated; NULL when it made no complaint) and
   returns 1; returns 0 if unknown, -1 on error. */
int store_find_source(struct store *st, const char *origin, const char *sha256, char **ref_r,
		      GError **error);

/* Records a source that makes no draft (an auto-reply, a bounce ...) with its
   disposition. Returns 1 when recorded, 0 when already stored, -1 on error. */
int store_record_source(struct store *st, const struct store_source *src, GError **error);

/* Records the source and its draft, the accounts, attachments and the
   "created" event in one transaction, numbering the reference per day
   (PREFIX + DAY + "-" + 4 digits). Returns 1 and *ref_r (newly allocated) when
   created, 0 when the source was already stored (*ref_r is then its
   complaint, or NULL), -1 on error. */
int store_ingest(struct store *st, const struct store_source *src, const struct store_draft *d,
		 char **ref_r, GError **error);

/* A complaint as read back. Strings are owned by the struct. */
struct store_complaint {
	int64_t id;
	char *ref, *channel, *status;
	int64_t received_at, acceptance_due, handling_due, handling_due_extended;
	bool calendar_uncertain, major;
	char *name, *email, *phone, *subject, *body, *message_id;
	char *reason, *note, *decided_by, *merged_into;
	int64_t decided_at, created_at;
	char *notice_by;             /* "email", "post" or "none" */
	char *possible_duplicate_of; /* the reference of the complaint it closely matches, or NULL */
	GPtrArray *accounts;     /* of struct store_complaint_account* */
	GPtrArray *attachments;  /* of struct store_complaint_attachment* (show only) */
	GPtrArray *events;       /* of struct store_event* (show only) */
	GPtrArray *sources;      /* of struct store_complaint_source* (show only) */
};
struct store_complaint_account { char *value, *context; bool in_registry; };
struct store_complaint_attachment {
	char *filename, *declared_type, *detected_type, *sha256, *spool_path;
	int64_t size;
	bool risky;
};
struct store_event { int64_t at; char *actor, *kind, *detail; };
struct store_complaint_source {
	char *kind, *origin, *sha256, *spool_path;
	char *note;   /* limits hit, repairs made, or NULL */
	int64_t received_at;
};

void store_complaint_free(struct store_complaint *c);

/* Drafts ordered by acceptance due (then reference). channel may be NULL;
   due_before, when not 0, keeps those due at or before it;
   due_before 0 means no bound. Returns a GPtrArray of complaints (free with
   g_ptr_array_unref) or NULL with error. */
GPtrArray *store_list_drafts(struct store *st, const char *channel, int64_t due_before,
			     GError **error);

/* Everything about one complaint, or NULL with STORE_ERROR_NOT_FOUND. */
struct store_complaint *store_get(struct store *st, const char *ref, GError **error);

/* A decision on a draft. */
struct store_decision {
	const char *status;       /* "accepted", "not_accepted", "merged" */
	const char *reason;       /* not_accepted: the reason code */
	const char *note;         /* optional; required for reason "other" */
	const char *merged_into;  /* merged: the other reference */
	const char *actor;
	int64_t at;
	const struct store_notice *notice;   /* queued with the decision, or NULL */
};

/* Applies the decision if the complaint is still a draft; one of two
   concurrent deciders wins, the other gets STORE_ERROR_STATE naming who
   decided first and when. Returns 0 or -1. */
int store_decide(struct store *st, const char *ref, const struct store_decision *dec,
		 GError **error);

/* Reads and writes small settings kept in the database. */
char *store_meta_get(struct store *st, const char *key);
int store_meta_set(struct store *st, const char *key, const char *value, GError **error);

/* Recomputation of deadlines, e.g. after the calendar changed: for every
   draft, calls fn with its receipt time; fn fills the new deadlines and
   returns 0 (or -1 to skip it). Changed ones are updated, each with an event.
   Returns the number changed, or -1 on error. */
struct store_deadlines { int64_t acceptance_due, handling_due, handling_due_extended; bool uncertain; };
typedef int (*store_deadline_fn)(int64_t received_at, struct store_deadlines *out, void *ctx);
int store_recompute_deadlines(struct store *st, store_deadline_fn fn, void *ctx,
			      const char *actor, const char *why, GError **error);

/* Calls fn for every stored original (for verify). Returns 0 or -1. */
typedef void (*store_source_fn)(const char *origin, const char *sha256, const char *spool_path,
				void *ctx);
int store_foreach_source(struct store *st, store_source_fn fn, void *ctx, GError **error);

/* Outbox (store/outbox.c) */

/* Queues a notice for complaint_id (0: none), inside the caller's
   transaction or alone. A notice with a recipient starts "pending", due now;
   one without waits for the drainer to render it for the post. Returns 1
   when queued, 0 when max_per_day refused it (an event records that), -1 on
   error. */
int store_outbox_queue(struct store *st, int64_t complaint_id, const struct store_notice *n,
		       int64_t now, GError **error);

/* One outbox row as read back. Strings are owned by the struct. */
struct store_outbox_row {
	int64_t id;
	char *ref;                 /* the complaint's reference, or NULL */
	char *kind, *recipient, *message_id, *in_reply_to, *subject, *body, *print_path;
	char *state;               /* "pending", "sent", "failed", "print" (rendered for post) */
	int attempts;
	int64_t next_attempt_at, created_at, sent_at;   /* 0 when unset */
	char *last_error;
	char *name, *address;      /* the complainant's name and postal address, or NULL */
};
void store_outbox_row_free(struct store_outbox_row *r);

/* Every row, newest first (state may be NULL for all). A GPtrArray of
   struct store_outbox_row* (free with g_ptr_array_unref), or NULL with error. */
GPtrArray *store_outbox_list(struct store *st, const char *state, GError **error);

/* Takes up to `max` pending rows due at `now`, oldest first, each leased
   until now + lease_s so that a second drainer does not send it too (a
   drainer that dies leaves it due again when the lease ends). Without
   with_mail only rows for the post are taken. Returns the rows as
   store_outbox_list does, or NULL with error. */
GPtrArray *store_outbox_claim(struct store *st, int64_t now, int64_t lease_s, unsigned max,
			      bool with_mail, GError **error);
/* Ends the lease of a claimed row that was not tried: due again at `at`. */
int store_outbox_release(struct store *st, int64_t id, int64_t at, GError **error);

/* After the server's acceptance: state "sent", attempts + 1. Returns 0 or -1. */
int store_outbox_sent(struct store *st, int64_t id, int64_t now, GError **error);
/* After a failed attempt: attempts + 1 and last_error; stays pending, due at
   retry_at, or, when retry_at is 0, becomes "failed". Returns 0 or -1. */
int store_outbox_attempt_failed(struct store *st, int64_t id, const char *error_text,
				int64_t retry_at, GError **error);
/* A notice rendered for the post: state "print" with its file. Returns 0 or -1. */
int store_outbox_printed(struct store *st, int64_t id, const char *path, int64_t now,
			 GError **error);
/* Requeues a failed notice (attempts from 0, due now), with an event naming
   the actor. STORE_ERROR_NOT_FOUND for no such row, STORE_ERROR_STATE when it
   is not failed. Returns 0 or -1. */
int store_outbox_requeue(struct store *st, int64_t id, const char *actor, int64_t now,
			 GError **error);

/* How many rows are in each state (for intake status). */
struct store_outbox_counts { int64_t pending, sent, failed, print; };
int store_outbox_count(struct store *st, struct store_outbox_counts *out, GError **error);

/* Source state (store/sources.c) */

/* What a poller or watcher knows about one source: the progress it keeps
   across restarts and what `intake status` shows. The key `name` is the
   configuration section ("imap main", "dropdir letters"). Times are Unix
   seconds, 0 when unset; uidvalidity 0 when unknown. Strings are owned. */
struct store_source_state {
	char *name, *kind;
	char *state;               /* "ok", "error", "auth_failed", "oversize", ... */
	int64_t uidvalidity, last_uid;
	int64_t last_poll_at, last_ok_at, last_error_at;
	char *last_error;          /* or NULL */
	int64_t ingested, backlog;
};
void store_source_state_clear(struct store_source_state *s);

/* Reads one source's state. Returns 1 and fills *out, 0 when it has none
   yet (*out then holds name, kind and state "new"), -1 on error. */
int store_source_state_get(struct store *st, const char *name, const char *kind,
			   struct store_source_state *out, GError **error);
/* Writes every field (insert or replace). Returns 0 or -1. */
int store_source_state_put(struct store *st, const struct store_source_state *s,
			   GError **error);
/* Every source's state, by name: a GPtrArray of struct store_source_state*
   (free with g_ptr_array_unref), or NULL with error. */
GPtrArray *store_source_state_list(struct store *st, GError **error);

/* Whether an original with this origin is stored. Returns 1, 0, or -1. */
int store_source_origin_known(struct store *st, const char *origin, GError **error);
/* Whether a message with this Message-ID came from the same place under
   another prefix: an origin starting with `prefix` ("imap:main:") but not with
   `except` ("imap:main:1700000000:"). Used after a UIDVALIDITY change so
   that a mailbox rescanned creates no duplicates. Returns 1, 0, or -1. */
int store_source_message_id_known(struct store *st, const char *message_id,
				  const char *prefix, const char *except, GError **error);

/* Review: edits, ledger, customers (store/review.c) */

/* One correction asked for by a responder: `intake edit REF --set FIELD=VALUE`.
   Fields and when they may change:
     name, email, phone, address, subject, accounts   while the complaint is a
       draft only: they are what the acceptance decision is based on;
     respondent (投诉对象), request (投诉诉求), facts (主要事实和理由),
       result (投诉结果), archived (是否归档: yes/no), remarks (备注)   at any
       time: the ledger is completed during handling, after the decision.
   accounts is the whole list ("3100886652,3100886653"), replacing the claimed
   accounts. A value is trimmed; an empty value clears the field. `changed`
   is an output: set when the value differed and an event was written. */
struct store_edit {
	const char *field;
	const char *value;
	bool changed;
};

/* The names of the fields store_edit accepts, NULL-terminated (static). */
const char *const *store_edit_fields(void);

/* Applies the edits to one complaint in one transaction, in order. Each
   change writes one event of kind "edited" whose detail is JSON
   {"field":F,"old":V,"new":V} (strings or null; arrays for accounts); a value
   equal to the current one writes none. The ledger-only fields have no
   column of their own: their value is the newest "edited" event's (see
   store_review_fields). Nothing is applied when any edit is refused:
   STORE_ERROR_INVALID for an unknown field or a malformed value (the message
   says what was expected), STORE_ERROR_STATE for a draft-only field of a
   decided complaint (naming who decided and when), STORE_ERROR_NOT_FOUND.
   Returns the number of changes (0 to n), or -1. */
int store_edit(struct store *st, const char *ref, struct store_edit *edits, size_t n,
	       const char *actor, int64_t at, GError **error);

/* The ledger-only fields of one complaint, as last edited (NULL when never
   set). Strings owned by the struct; clear with store_review_fields_clear. */
struct store_review_fields {
	char *respondent, *request, *facts, *result, *remarks;
	bool archived;
};
/* Fills *out. Returns 0, or -1 with error (STORE_ERROR_NOT_FOUND). */
int store_review_fields_get(struct store *st, const char *ref, struct store_review_fields *out,
			    GError **error);
void store_review_fields_clear(struct store_review_fields *f);

/* One row of the complaint ledger (客户投诉登记台账). Strings owned by the
   row, NULL when unset; times Unix seconds, 0 when unset. The presentation
   (labels, which text fills a cell when a field was never edited) is the
   caller's. */
struct store_ledger_row {
	char *ref, *channel, *status;      /* status: draft, accepted, not_accepted, merged */
	int64_t received_at, acceptance_due, decided_at;
	char *decided_by, *reason, *note, *merged_into;
	char *name, *subject, *body;
	bool major;
	char **accounts;                   /* NULL-terminated, full numbers */
	struct store_review_fields review;
};
void store_ledger_row_free(struct store_ledger_row *r);

/* Every complaint received in [from, to) (0: unbounded), by receipt time
   then reference, whatever its state. A GPtrArray of struct
   store_ledger_row* (free with g_ptr_array_unref), or NULL with error. */
GPtrArray *store_ledger(struct store *st, int64_t from, int64_t to, GError **error);

/* One customer of the registry. account is digits only. */
struct store_customer {
	const char *account, *name, *id_number, *phone;
};

/* Imports customers in one transaction: with `replace` the registry becomes
   exactly these rows, else each row is inserted or updated by account. The
   accounts' in_registry is read from the registry when a complaint is read,
   so undecided complaints see the new registry at once: each draft whose
   claimed accounts changed registry status gets an event "registry" naming
   them, and the import itself is an event with no complaint. Sets
   *drafts_changed_r (may be NULL). Returns the number of rows imported, or
   -1 with error. */
int store_customers_import(struct store *st, const struct store_customer *rows, size_t n,
			   bool replace, const char *actor, const char *what, int64_t at,
			   unsigned *drafts_changed_r, GError **error);

/* The registry lookup: returns 1 when the account is a customer's (and sets
   *name_r, newly allocated, when name_r is not NULL), 0 when not, -1 on error. */
int store_customer_lookup(struct store *st, const char *account, char **name_r, GError **error);

/* Reminders (store/reminder.c) */

/* Queues the day's digest notices (one per responder) unless a digest was
   already queued for `day` ("2026-11-23"); the check, the rows and the mark
   are one transaction. Returns 1 when queued, 0 when already done, -1 on
   error. */
int store_queue_digest(struct store *st, const char *day, const struct store_notice *notices,
		       size_t n, int64_t now, GError **error);

#endif
