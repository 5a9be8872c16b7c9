/* A small JSON writer over GString for the --json outputs: objects, arrays,
   strings escaped per RFC 8259, numbers, booleans and null, with commas
   managed by the writer. */
#ifndef INTAKE_CORE_JSON_H
#define INTAKE_CORE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

struct json;

/* Returns a new writer; pretty prints with two-space indents if pretty. */
struct json *json_new(bool pretty);
/* Returns the document (caller frees with g_free) and frees the writer. */
char *json_finish(struct json *j);
void json_free(struct json *j);

void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
/* Names the next value inside an object. */
void json_key(struct json *j, const char *key);
/* A string value; NULL writes null. Invalid UTF-8 is replaced by U+FFFD. */
void json_string(struct json *j, const char *s);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Shorthands for a key and its value. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);

#endif
