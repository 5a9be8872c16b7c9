/* Field extraction from complaint text: the account numbers a complainant
   claims, resident ID numbers, unified social credit codes, phone numbers,
   e-mail addresses, names and complaint references, each with the text
   around it. Pure functions over UTF-8 text: no state, no I/O.
   SECURITY: the text is hostile; every scan is linear in its length and
   bounded in the number of values kept. */
#ifndef INTAKE_PARSERS_EXTRACT_H
#define INTAKE_PARSERS_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

/* At most this many values are kept per kind; more are ignored. */
#define EXTRACT_MAX_VALUES 64
/* Bytes of text kept on each side of a value as its context. */
#define EXTRACT_CONTEXT_BYTES 60

/* One value found. Strings are owned by the value. */
struct extract_value {
	char *value;    /* normalised: ASCII digits, no spaces or hyphens (accounts,
			   IDs, phones); lower-case domain (e-mails); as written
			   (names, references) */
	char *context;  /* the surrounding text (whole UTF-8 characters, line
			   breaks turned to spaces) */
};

/* Everything found in one or more texts; each list holds struct
   extract_value*, in the order first found, without duplicates. */
struct extract_result {
	GPtrArray *accounts;      /* numbers after an account label (or in a list after one) */
	GPtrArray *id_numbers;    /* 18-character resident IDs, check digit valid, X upper-case;
				     15-digit legacy IDs only after an ID label */
	GPtrArray *credit_codes;  /* 18-character unified social credit codes, check valid */
	GPtrArray *phones;        /* mobile (11 digits, no +86), landline (area code + number),
				     400/800 numbers; digits only */
	GPtrArray *emails;        /* local part as written, domain lower-case */
	GPtrArray *names;         /* from labels (投诉人, 姓名, 客户姓名 ...) and signatures */
	GPtrArray *references;    /* complaint references such as TS20261123-0007 */
};

/* Settings; 0 / NULL fields mean the default. */
struct extract_settings {
	const char *const *account_labels;  /* NULL-terminated, replacing the default
					       资金账号, 资金帐号, 资产账号, 客户号,
					       客户账号, 证券账户, 期货账户, 账户, 账号,
					       帐号, account no, account number, a/c;
					       ASCII letters match in any case */
	unsigned account_min_digits;        /* default 6 */
	unsigned account_max_digits;        /* default 20, at most 64 */
	const char *reference_prefix;       /* default "TS"; matched case-sensitively */
};

struct extract_result *extract_result_new(void);
void extract_result_free(struct extract_result *r);   /* NULL-safe */

/* Scans len bytes of UTF-8 text (invalid sequences are skipped, NUL bytes
   read as spaces) and adds what it finds to r, skipping values already in r
   and values of a kind whose list is full. s may be NULL (defaults).
   Numbers that are amounts, dates, order numbers, phone or ID numbers are
   not taken as accounts. Full-width digits and forms (３１０, ＠, ．) read as
   ASCII. Time is linear in len. */
void extract_text_into(struct extract_result *r, const struct extract_settings *s,
		       const char *text, size_t len);

/* True if the 18-character string is a resident ID number whose check
   character (ISO 7064 MOD 11-2; X or x) is right, whose birth date is a real
   date in 1900..2100 and whose area code does not start with 0. */
bool extract_id_number_valid(const char *id);

/* True if the 18-character string is a unified social credit code (GB 32100:
   digits and upper-case letters without I, O, S, V, Z) whose check character
   (weighted sum mod 31) is right. */
bool extract_credit_code_valid(const char *code);

#endif
