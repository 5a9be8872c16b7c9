/* How closely two complaint texts match: the share of character pairs they
   have in common (Jaccard over the sets of adjacent letter/digit pairs,
   case folded, everything else skipped), so that a complaint sent again
   with a few words changed still matches while a different complaint from
   the same person does not. Works the same on Chinese and Latin text. */
#ifndef INTAKE_PARSERS_SIMILAR_H
#define INTAKE_PARSERS_SIMILAR_H

#include <stddef.h>

/* Texts with fewer pairs than this compare as not alike ("见附件"). */
#define SIMILAR_MIN_PAIRS 20
/* At most this many characters of a text are looked at. */
#define SIMILAR_MAX_CHARS 8000

struct similar;

/* The pairs of a UTF-8 text (invalid bytes skipped); never NULL. */
struct similar *similar_new(const char *text);
void similar_free(struct similar *s);
/* 0 (nothing in common, or too short) .. 1 (the same pairs). */
double similar_score(const struct similar *a, const struct similar *b);

#endif
