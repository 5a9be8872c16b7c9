/* The parsed record of one complaint source (mail, scan or fax): what
   `intake parse --json` prints and what ingestion stores. Built by the
   parsers, pure data. */
#ifndef INTAKE_PARSERS_RECORD_H
#define INTAKE_PARSERS_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "parsers/extract.h"

struct record_address { char *address; char *name; };

struct record_attachment {
	char *filename;        /* sanitised: no path parts, no control characters */
	char *declared_type;   /* from Content-Type, lower case */
	char *detected_type;   /* from the bytes (libmagic) */
	uint64_t size;
	char sha256[65];
	bool risky;            /* executable, script or macro document */
	GBytes *content;       /* the decoded bytes, until saved */
};

struct record {
	char *channel;                    /* "email", "letter", "fax" */
	struct record_address from;
	char *reply_to;
	GPtrArray *to;                    /* of char* addresses */
	char *subject;
	int64_t date;                     /* Date header as Unix seconds, 0 if none */
	bool has_date;
	char *message_id, *in_reply_to;
	GPtrArray *references;            /* of char* message ids */
	char *text;                       /* UTF-8 body, HTML converted */
	char *body_charset;               /* the charset used for the body */
	bool body_charset_detected;       /* chosen by detection, not declared */
	GPtrArray *attachments;           /* of struct record_attachment* */
	struct record_address complainant;
	char *complainant_phone;
	struct record_address *forwarded_by;   /* NULL unless forwarded */
	bool major;
	struct extract_result *extract;
	char *reference;                  /* a complaint reference found, or NULL */
	char *auto_submitted;             /* NULL or auto_reply, bounce, list, own_notice */
	GPtrArray *notes;                 /* of char*: limits hit, repairs made */
};

struct record *record_new(const char *channel);
void record_free(struct record *r);   /* NULL-safe */
void record_note(struct record *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The record as the JSON document of DESIGN.md (newly allocated). `tz` is the
   zone in which times are written. */
char *record_to_json(const struct record *r, GTimeZone *tz, bool pretty);

/* Fills complainant, reference and major from the extraction and the
   addresses. regulator_domains/phrases are NULL-terminated lists or NULL for
   the defaults. */
void record_resolve(struct record *r, const char *const *regulator_domains,
		    const char *const *regulator_phrases);

#endif
