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
	int fd;                /* >= 0: content maps this unlinked file (large parts) */
	char *text;            /* document text read from it (PDF, image, DOCX), or NULL */
};

/* How the text of a scan or fax was read (parsers/ocr.h). */
struct record_ocr {
	char *engine;          /* "tesseract", "pdftotext", "pdftotext+tesseract", "docx", "text" */
	char *language;        /* tesseract languages, or NULL when no OCR ran */
	char *detected_type;   /* the file's type from its bytes */
	unsigned pages;
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
	char *forward_note;               /* the forwarder's own text before the
					     forwarded one, or NULL (not printed) */
	bool major;
	struct extract_result *extract;
	char *reference;                  /* a complaint reference found, or NULL */
	char *auto_submitted;             /* NULL or auto_reply, bounce, list, own_notice */
	GPtrArray *notes;                 /* of char*: limits hit, repairs made */
	struct record_ocr *ocr;           /* scans and faxes: how the text was read; else NULL */
	char *notice_by;                  /* "email" or "post" (letters without an address), or NULL */
};

struct record *record_new(const char *channel);
void record_free(struct record *r);   /* NULL-safe */
void record_note(struct record *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The record as the JSON document of DESIGN.md (newly allocated). `tz` is the
   zone in which times are written. */
char *record_to_json(const struct record *r, GTimeZone *tz, bool pretty);

/* Fills complainant, reference and major from the extraction and the
   addresses. regulator_domains/phrases are NULL-terminated lists or NULL for
   the defaults (csrc.gov.cn, sac.net.cn, cfachina.org, amac.org.cn,
   cca.org.cn, and domains containing 12386; phrases 12386, 证监会,
   证券业协会, 期货业协会, 基金业协会, 消费者协会, 消保委, 证券交易所,
   期货交易所).
   - Not forwarded, from a regulator's domain (a transfer sheet naming the
     investor): the regulator becomes forwarded_by and the complainant is
     who the text names: first name, the phone record_complainant_phone()
     picks, first e-mail address that is not the regulator's.
   - Not forwarded otherwise: the complainant is From, named by the first
     extracted name (labels, signature) or else the display name, with the
     phone record_complainant_phone() picks.
   - Forwarded (the parser set complainant from the forwarded message):
     kept as it is.
   - major: the sender (the forwarder when forwarded) is in a regulator's
     domain, or the message is forwarded and a regulator phrase is in the
     subject, the forwarder's name or the forwarder's note. A complainant
     only threatening to call 12386 is not major.
   - reference: the first complaint reference extracted. */
void record_resolve(struct record *r, const char *const *regulator_domains,
		    const char *const *regulator_phrases);

/* The complainant's phone among extracted phones (struct extract_value*):
   the first written right after a contact label (联系电话, 本人手机, Tel...)
   in its context, else the first; NULL when there is none. Borrowed. */
const char *record_complainant_phone(GPtrArray *phones);

#endif
