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
};

#define STORE_SCHEMA_VERSION 1

struct store;

/* Opens or creates the database (mode 0600), migrating it forward.
   NULL with error. */
struct store *store_open(const char *path, GError **error);
void store_free(struct store *st);
int store_schema_version(struct store *st);

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
};

struct store_account { const char *value; const char *context; };

struct store_attachment {
	const char *filename, *declared_type, *detected_type, *sha256, *spool_path;
	int64_t size;
	bool risky;
};

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
};

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
struct store_complaint_source { char *kind, *origin, *sha256, *spool_path; int64_t received_at; };

void store_complaint_free(struct store_complaint *c);

/* Drafts ordered by acceptance due (then reference). channel may be NULL;
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

#endif
