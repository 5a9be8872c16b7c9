/* The IMAP poller; see imap.h.
   Design note: this is the canonical shape of DESIGN.md, libcurl's multi
   interface driven by the libuv loop (ingest/run.c), not the thread-pool
   fallback. Every step of a pass is one transfer on an easy handle; its done
   callback starts the next. Store writes (ingest_message, source_state) run
   on the loop thread in those callbacks. Bodies are fetched on up to
   fetch_connections connections at once and ingested in UID order.
   SECURITY: the server's answers are parsed with bounds: numbers must fit
   32 bits, lines are bounded by the response limit, bodies by
   max_message_size; a response over its limit fails its step. */
#include "ingest/imap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "ingest/curlopt.h"
#include "ingest/idle.h"
#include "store/spool.h"

#define IMAP_GROUP_MAX_US 1000000   /* a group commit holds the write lock at most so long */
#define IMAP_BATCH 500              /* messages per batch: one state update */
#define IMAP_ACK_CHUNK 100          /* UIDs per UID MOVE / STORE: Dovecot answers each
				       with an untagged EXPUNGE or FETCH line */
#define IMAP_META_CHUNK 50          /* UIDs per metadata UID FETCH: libcurl 7.88 counts about
				       2 KB per untagged line against its 300 KB limit */
#define IMAP_SEARCH_WINDOW 10000    /* UIDs per UID SEARCH: an answer under 110 KB */
#define IMAP_BUFFER (256u << 10)    /* libcurl splits longer server lines (default 16 KB),
				       and counts every line against 300 KB per transfer */
#define IMAP_RESPONSE_MAX (4u << 20) /* any answer but a body */
#define IMAP_MAX_CONNS 16
/* Small messages are fetched several to a command (UID FETCH set BODY.PEEK[]):
   libcurl passes that answer through the header callback and counts it,
   about 3.3 times over, against its 300 KB limit, so a set holds at most
   IMAP_SET_BYTES of RFC822.SIZE; bigger messages are fetched one by one. */
#define IMAP_SET_MAX 100
#define IMAP_SET_BYTES (56u << 10)
#define IMAP_SET_ONE_MAX (16u << 10)
#define IMAP_WINDOW_BYTES (8u << 20) /* fetched ahead of the store, at most */
#define IMAP_STREAM_BYTES (64u << 10) /* a bigger message goes to the spool as it
					 arrives, not to memory */
#define IMAP_HEAD_BYTES (64u << 10)   /* of which this much is kept for its Message-ID */
#define IMAP_KEYWORD "$IntakeProcessed"
#define IMAP_IDLE_RETRY_MAX_S 300   /* a lost IDLE watcher is replaced within this */

enum imap_op {
	OP_NONE, OP_CAPABILITY, OP_SELECT, OP_SEARCH, OP_META, OP_FETCH, OP_FETCHSET, OP_CREATE,
	OP_MOVE, OP_COPY, OP_DELETE, OP_EXPUNGE, OP_FLAG, OP_SEEN, OP_UNSEEN,
};

enum imap_msg_state {
	MSG_NEW,        /* to fetch */
	MSG_FETCHING,
	MSG_FETCHED,    /* body in memory, not yet stored */
	MSG_STORED,     /* committed: to acknowledge */
	MSG_KNOWN,      /* stored before (origin, hash or Message-ID): to acknowledge */
	MSG_HELD,       /* over max_message_size: left on the server */
	MSG_FAILED,     /* fetched, not stored: \Seen to put back */
	MSG_GONE,       /* expunged meanwhile */
	MSG_LATER,      /* not found by the fetch: for the next pass */
	MSG_ACKED,      /* moved or flagged */
};

enum imap_fail { FAIL_NONE, FAIL_NET, FAIL_AUTH, FAIL_CONFIG, FAIL_STORE, FAIL_STOP };

struct imap_msg {
	uint32_t uid;
	int64_t internaldate;
	uint64_t size;
	bool seen;               /* \Seen before we fetched it */
	bool has_meta;
	bool fetched;            /* we fetched it (the server set \Seen) */
	bool single;             /* fetch it alone (its set failed, or it is big) */
	bool by_ingest;          /* its state was decided by storing it */
	enum imap_msg_state state;
	GByteArray *data;        /* the message; with file, its first IMAP_HEAD_BYTES only */
	struct spool_writer *file;   /* a large message, written to the spool as it came */
};

struct imap_conn {
	struct imap_mailbox *mb;
	CURL *easy;
	enum imap_op op;
	bool busy;
	GByteArray *body;        /* the answer (untagged lines, or a message) */
	struct spool_writer *file;   /* OP_FETCH of a large message: where it goes */
	uint64_t got;            /* bytes of the message received */
	GError *file_error;      /* writing it failed */
	uint64_t limit;
	bool over;               /* the answer passed limit */
	char *last_line;         /* the last tagged server line, for messages */
	struct imap_msg *msg;    /* OP_FETCH */
	GPtrArray *set;          /* OP_FETCHSET: the struct imap_msg* asked for */
	struct imap_msg *lit_msg; /* the message whose literal is being read */
	GByteArray *lit;
	uint64_t lit_left;       /* bytes of the literal still to come */
	bool lit_open;           /* reading a literal (lit_msg NULL: its UID follows it) */
	char *request;           /* the custom command */
	char errbuf[CURL_ERROR_SIZE];
};

struct imap_mailbox {
	struct imap_env env;
	const struct config_imap *cfg;
	char *section;           /* "imap NAME": the key of source_state and the log source */
	char *origin_prefix;     /* "imap:NAME:" */
	char *base_url;          /* "imaps://host:993/" */
	char *folder;            /* decoded, "INBOX" */
	char *folder_url;        /* base_url + escaped folder */
	char *folder_q;          /* the folder as an IMAP quoted string */
	char *move_q;            /* the target folder quoted, or NULL for flag */
	uint64_t max_bytes;
	unsigned n_conns;
	struct imap_conn conns[IMAP_MAX_CONNS];
	uv_timer_t timer;
	struct store_source_state st;

	char *password, *token; /* read at the start of each pass */
	bool once, running, stopping, has_move, created, last_ok;
	bool caps_known;         /* has_move is what CAPABILITY said, since the last failure */
	unsigned failures;       /* consecutive failed passes */
	GHashTable *held_logged; /* UIDs whose over-size note was logged */

	/* The pass. */
	int64_t pass_started;
	enum imap_fail fail;
	char *fail_msg;
	uint32_t uidnext, search_from;
	GArray *uids;            /* uint32_t found by UID SEARCH, ascending */
	guint batch_start;       /* index in uids of the batch */
	struct imap_msg *batch;
	guint n_batch, meta_done, next_fetch, next_ingest, inflight;
	bool ack_prepared, allow_ack, allow_unseen;
	guint ack_pos, unseen_pos;
	char *ack_set, *unseen_set;
	bool blocked;            /* the watermark stopped at a message left behind */
	int64_t stored, known, held, done, ingested_base;
	uint64_t group_lost;     /* ingest_group_lost() when the batch began */
	struct idle *idle;       /* the IDLE watcher, or NULL */
	bool idle_off;           /* no IDLE watcher: idle = false, or the server offers none */
	unsigned idle_losses;    /* watcher connections lost in a row */
	bool again;              /* a new message was reported during the pass */
	char *note;              /* over-size messages left, for status */
};

static void imap_pass_step(struct imap_mailbox *mb);
static void imap_batch_begin(struct imap_mailbox *mb);
static void imap_fetch_more(struct imap_mailbox *mb);
static void imap_ack_next(struct imap_mailbox *mb);
static void imap_pass_end(struct imap_mailbox *mb);

const char *imap_name(const struct imap_mailbox *mb) { return mb->section; }
bool imap_idle(const struct imap_mailbox *mb) { return !mb->running; }
bool imap_last_ok(const struct imap_mailbox *mb) { return mb->last_ok; }

/* ---- configuration checks ---- */

/* An IMAP quoted string of printable ASCII; NULL when the name has other
   characters (modified UTF-7 names are not supported yet). */
static char *imap_quote(const char *s)
{
	GString *q = g_string_new("\"");
	for (const char *p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			g_string_free(q, TRUE);
			return NULL;
		}
		if (*p == '"' || *p == '\\')
			g_string_append_c(q, '\\');
		g_string_append_c(q, *p);
	}
	g_string_append_c(q, '"');
	return g_string_free(q, FALSE);
}

static int imap_config_fail(GError **error, const struct config *cfg, const struct config_imap *m,
			    const char *key, const char *value, const char *expected)
{
	g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
		    "%s: [imap %s] %s = \"%s\": expected %s", cfg->path, m->name, key,
		    value != NULL ? value : "", expected);
	return -1;
}

/* A secret file: regular, and no access for group or others. */
static int imap_check_secret(const struct config *cfg, const struct config_imap *m,
			     const char *key, const char *path, GError **error)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		g_autofree char *what = g_strdup_printf("a readable file (%s)", g_strerror(errno));
		return imap_config_fail(error, cfg, m, key, path, what);
	}
	if (!S_ISREG(sb.st_mode))
		return imap_config_fail(error, cfg, m, key, path, "a regular file");
	if ((sb.st_mode & 077) != 0) {
		g_autofree char *what = g_strdup_printf(
			"a file only its owner can read (mode 0600 or stricter), not mode %04o: "
			"chmod 600 %s", (unsigned)(sb.st_mode & 07777), path);
		return imap_config_fail(error, cfg, m, key, path, what);
	}
	return 0;
}

/* Splits the URL into base ("imaps://host:port/") and the decoded folder. */
static int imap_split_url(const char *url, char **base_r, char **folder_r)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int rc = -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK) {
		const char *f = path[0] == '/' ? path + 1 : path;
		*base_r = g_strdup_printf("%s://%s:%s/", scheme, host, port);
		*folder_r = g_strdup(*f != '\0' ? f : "INBOX");
		g_strdelimit(*folder_r, ";", '\0');
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

int imap_check(const struct config *cfg, const struct config_imap *m, GError **error)
{
	g_autofree char *base = NULL, *folder = NULL, *fq = NULL, *mq = NULL;
	if (imap_split_url(m->url, &base, &folder) < 0)
		return imap_config_fail(error, cfg, m, "url", m->url,
					"imaps://host[:port]/FOLDER or imap://host[:port]/FOLDER");
	if ((fq = imap_quote(folder)) == NULL)
		return imap_config_fail(error, cfg, m, "url", m->url,
					"a folder name in printable ASCII");
	if (g_str_has_prefix(m->after, "move:") && (mq = imap_quote(m->after + 5)) == NULL)
		return imap_config_fail(error, cfg, m, "after", m->after,
					"move:FOLDER with a folder name in printable ASCII");
	if (m->password_file != NULL &&
	    imap_check_secret(cfg, m, "password_file", m->password_file, error) < 0)
		return -1;
	if (m->oauth2_token_file != NULL &&
	    imap_check_secret(cfg, m, "oauth2_token_file", m->oauth2_token_file, error) < 0)
		return -1;
	return 0;
}

void imap_warn_insecure(const struct config_imap *m)
{
	g_autofree char *src = g_strdup_printf("imap %s", m->name);
	if (!m->tls_verify)
		log_warn(src, "tls_verify = false: the server's certificate is NOT checked; "
			 "anyone on the path can read the mailbox and its password");
	if (!m->starttls && g_ascii_strncasecmp(m->url, "imap://", 7) == 0)
		log_warn(src, "starttls = false: password and mail travel in plain text");
}

/* ---- secrets ---- */

/* Reads a secret file (first line), re-checking its mode. NULL with *why_r. */
static char *imap_read_secret(const char *path, char **why_r)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &sb) < 0 || (sb.st_mode & 077) != 0 || !S_ISREG(sb.st_mode)) {
		*why_r = fd < 0 ? g_strdup_printf("open(%s) failed: %s", path, g_strerror(errno)) :
				  g_strdup_printf("%s: refused: readable by others (mode %04o)", path,
						  (unsigned)(sb.st_mode & 07777));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		*why_r = g_strdup_printf("read(%s) failed: %s", path, g_strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	char *s = g_strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return s;
}

static void imap_secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		g_free(s);
	}
}

/* Reads the credentials afresh for this pass (each login uses them).
   Returns 0 or -1 (fail set). */
static int imap_set_credentials(struct imap_mailbox *mb)
{
	const struct config_imap *m = mb->cfg;
	char *why = NULL;
	if (m->password_file != NULL)
		mb->password = imap_read_secret(m->password_file, &why);
	else if (m->password_env != NULL &&
		 (mb->password = g_strdup(g_getenv(m->password_env))) == NULL)
		why = g_strdup_printf("$%s (password_env) is not set", m->password_env);
	if (why == NULL && m->oauth2_token_file != NULL)
		mb->token = imap_read_secret(m->oauth2_token_file, &why);
	if (why != NULL) {
		mb->fail = FAIL_CONFIG;
		mb->fail_msg = why;
		return -1;
	}
	return 0;
}

static void imap_clear_credentials(struct imap_mailbox *mb)
{
	imap_secret_free(mb->password);
	imap_secret_free(mb->token);
	mb->password = mb->token = NULL;
}

/* How every connection of the mailbox logs in: the poller's and the IDLE
   watcher's, with the credentials of this pass. */
static struct curlopt_login imap_login(const struct imap_mailbox *mb)
{
	const struct config_imap *m = mb->cfg;
	return (struct curlopt_login){
		.user = m->user, .password = mb->password, .token = mb->token,
		.ca_file = m->tls_ca_file, .tls_verify = m->tls_verify, .starttls = m->starttls,
		.timeout_s = m->timeout_s,
	};
}

/* ---- transfers ---- */

/* Into body, or for a large message into its spool file, keeping the first
   IMAP_HEAD_BYTES in body for the Message-ID. */
static size_t imap_write_cb(char *data, size_t size, size_t n, void *ctx)
{
	struct imap_conn *c = ctx;
	size_t len = size * n;
	if (c->got + len > c->limit) {
		c->over = true;
		return 0;
	}
	c->got += len;
	if (c->file == NULL) {
		g_byte_array_append(c->body, (const guint8 *)data, (guint)len);
		return len;
	}
	if (c->body->len < IMAP_HEAD_BYTES)
		g_byte_array_append(c->body, (const guint8 *)data,
				    (guint)MIN(len, IMAP_HEAD_BYTES - c->body->len));
	if (spool_writer_write(c->file, data, len, &c->file_error) < 0)
		return 0;
	return len;
}

static void imap_conn_drop_file(struct imap_conn *c)
{
	spool_writer_abort(c->file);
	c->file = NULL;
	g_clear_error(&c->file_error);
}

static void imap_msg_clear(struct imap_msg *m)
{
	g_clear_pointer(&m->data, g_byte_array_unref);
	spool_writer_abort(m->file);
	m->file = NULL;
}

/* Keeps the last tagged line ("A005 NO [TRYCREATE] ...") without its tag. */
static void imap_keep_tagged(struct imap_conn *c, const char *data, size_t len)
{
	if (len > 2 && data[0] != '*' && data[0] != '+') {
		const char *sp = memchr(data, ' ', len);
		if (sp != NULL) {
			g_free(c->last_line);
			c->last_line = g_strndup(sp + 1, (gsize)(data + len - sp - 1));
			g_strchomp(c->last_line);
		}
	}
}

static int imap_set_header(struct imap_conn *c, const char *data, size_t len);

static size_t imap_header_cb(char *data, size_t size, size_t n, void *ctx)
{
	struct imap_conn *c = ctx;
	size_t len = size * n;
	if (c->op == OP_FETCHSET)
		return imap_set_header(c, data, len) < 0 ? 0 : len;
	imap_keep_tagged(c, data, len);
	return len;
}

static int imap_conn_init(struct imap_mailbox *mb, struct imap_conn *c)
{
	c->mb = mb;
	c->body = g_byte_array_new();
	return 0;
}

/* A new easy handle for each transfer, with every option: libcurl 7.88
   counts every server line against its 300 KB "response headers" limit over
   the life of an easy handle (measured: curl_easy_reset does not clear it).
   The connections stay in the multi handle's cache, so nothing reconnects.
   Returns 0 or -1. */
static int imap_conn_setopts(struct imap_conn *c)
{
	struct imap_mailbox *mb = c->mb;
	const struct config_imap *m = mb->cfg;
	curl_easy_cleanup(c->easy);
	CURL *e = c->easy = curl_easy_init();
	if (e == NULL)
		return -1;
	struct curlopt_login login = imap_login(mb);
	curlopt_set_login(e, &login);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)IMAP_BUFFER);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, imap_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, imap_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)m->timeout_s);
	return 0;
}

static void imap_conn_clear(struct imap_conn *c)
{
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	if (c->body != NULL)
		g_byte_array_unref(c->body);
	g_free(c->last_line);
	g_free(c->request);
	if (c->set != NULL)
		g_ptr_array_unref(c->set);
	if (c->lit != NULL)
		g_byte_array_unref(c->lit);
	imap_conn_drop_file(c);
	memset(c, 0, sizeof *c);
}

static void imap_done_cb(CURL *easy, CURLcode result, void *ctx);

/* Starts one transfer: a custom command (request) or, with request NULL, the
   URL fetch of msg. Returns 0 or -1 (fail set). */
static int imap_conn_start(struct imap_conn *c, enum imap_op op, char *request,
			   struct imap_msg *msg)
{
	struct imap_mailbox *mb = c->mb;
	g_free(c->request);
	c->request = request;
	c->op = op;
	c->msg = msg;
	c->over = false;
	c->errbuf[0] = '\0';
	g_clear_pointer(&c->last_line, g_free);
	g_byte_array_set_size(c->body, 0);
	c->got = 0;
	c->limit = op == OP_FETCH ? mb->max_bytes : IMAP_RESPONSE_MAX;
	imap_conn_drop_file(c);
	GError *err = NULL;
	if (op == OP_FETCH && msg->size > IMAP_STREAM_BYTES &&
	    (c->file = ingest_writer_begin(mb->env.ingest, &err)) == NULL) {
		log_warn(mb->section, "uid %u: read into memory: %s", msg->uid, err->message);
		g_error_free(err);
	}
	g_autofree char *url = op == OP_FETCH ?
		g_strdup_printf("%s;UID=%u", mb->folder_url, msg->uid) : g_strdup(mb->folder_url);
	if (imap_conn_setopts(c) < 0 || curl_easy_setopt(c->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, request) != CURLE_OK ||
	    run_curl_start(mb->env.curl, c->easy, imap_done_cb, c) < 0) {
		mb->fail = FAIL_NET;
		mb->fail_msg = g_strdup("libcurl refused the transfer");
		return -1;
	}
	c->busy = true;
	return 0;
}

/* The reason a transfer failed, for the log and status: "UID SEARCH ...:
   curl's words (server: its last words)". */
static char *imap_conn_error(const struct imap_conn *c, CURLcode rc)
{
	const char *what = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);
	g_autofree char *cmd = c->request != NULL ? g_strndup(c->request, 40) :
		g_strdup_printf("fetch of UID %u", c->msg != NULL ? c->msg->uid : 0);
	if (c->over)
		return g_strdup_printf("%s: the answer passed its limit of %" G_GUINT64_FORMAT
				       " bytes", cmd, c->limit);
	if (c->last_line != NULL && strncmp(c->last_line, "OK", 2) != 0)
		return g_strdup_printf("%s: %s (server: %s)", cmd, what, c->last_line);
	return g_strdup_printf("%s: %s", cmd, what);
}

/* A refused login is an authentication failure, unless the server says it
   is temporary ([UNAVAILABLE], RFC 5530). */
static enum imap_fail imap_fail_kind(const struct imap_conn *c, CURLcode rc)
{
	if (rc != CURLE_LOGIN_DENIED && rc != CURLE_AUTH_ERROR)
		return FAIL_NET;
	return c->last_line != NULL && strstr(c->last_line, "[UNAVAILABLE]") != NULL ?
	       FAIL_NET : FAIL_AUTH;
}

static void imap_set_fail(struct imap_mailbox *mb, enum imap_fail kind, char *msg)
{
	if (mb->fail != FAIL_NONE) {
		g_free(msg);
		return;
	}
	mb->fail = kind;
	mb->fail_msg = msg;
}

/* ---- parsing answers ---- */

/* Reads a decimal number that fits 32 bits; advances *p. */
static bool imap_number(const char **p, uint32_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	if (!g_ascii_isdigit(*s))
		return false;
	while (g_ascii_isdigit(*s)) {
		n = n * 10 + (uint64_t)(*s++ - '0');
		if (n > UINT32_MAX)
			return false;
	}
	*v = (uint32_t)n;
	*p = s;
	return true;
}

/* The number after "KEY " in text, or false. */
static bool imap_find_number(const char *text, const char *key, uint32_t *v)
{
	const char *p = strstr(text, key);
	if (p == NULL)
		return false;
	p += strlen(key);
	while (*p == ' ')
		p++;
	return imap_number(&p, v);
}

/* The body as a NUL-terminated string (the answer of a custom command). */
static const char *imap_text(struct imap_conn *c)
{
	g_byte_array_append(c->body, (const guint8 *)"", 1);
	return (const char *)c->body->data;
}

/* "14-Nov-2023 22:13:20 +0800" -> Unix time, or 0. */
static int64_t imap_parse_date(const char *s)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					      "Aug", "Sep", "Oct", "Nov", "Dec" };
	int d, y, h, mi, sec, zh, zm;
	char mon[4], sign;
	if (sscanf(s, "%d-%3s-%d %d:%d:%d %c%2d%2d", &d, mon, &y, &h, &mi, &sec, &sign, &zh, &zm) != 9
	    || (sign != '+' && sign != '-'))
		return 0;
	int m = 0;
	while (m < 12 && g_ascii_strcasecmp(mon, months[m]) != 0)
		m++;
	if (m == 12 || y < 1970 || y > 9999)
		return 0;
	g_autoptr(GDateTime) t = g_date_time_new_utc(y, m + 1, d, h, mi, sec);
	if (t == NULL)
		return 0;
	int64_t off = (int64_t)(zh * 3600 + zm * 60) * (sign == '+' ? 1 : -1);
	return g_date_time_to_unix(t) - off;
}

/* One "* n FETCH (UID u FLAGS (...) INTERNALDATE "..." RFC822.SIZE s)" line. */
static void imap_parse_meta_line(struct imap_mailbox *mb, const char *line)
{
	uint32_t uid = 0, size = 0;
	if (strstr(line, " FETCH (") == NULL || !imap_find_number(line, "UID", &uid))
		return;
	struct imap_msg *msg = NULL;
	for (guint i = 0; i < mb->n_batch && msg == NULL; i++)
		if (mb->batch[i].uid == uid)
			msg = &mb->batch[i];
	const char *date = strstr(line, "INTERNALDATE \"");
	if (msg == NULL || date == NULL || !imap_find_number(line, "RFC822.SIZE", &size))
		return;
	const char *flags = strstr(line, "FLAGS (");
	const char *end = flags != NULL ? strchr(flags, ')') : NULL;
	g_autofree char *fl = end != NULL ? g_strndup(flags, (gsize)(end - flags)) : NULL;
	msg->seen = fl != NULL && strstr(fl, "\\Seen") != NULL;
	msg->internaldate = imap_parse_date(date + 14);
	msg->size = size;
	msg->has_meta = true;
}

/* The Message-ID header's value without <>, or NULL; only the header block
   is read. Not MIME parsing: one field of the header, unfolded. */
static char *imap_message_id(const guint8 *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len;
	while (p < end && *p != '\r' && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol != NULL ? eol + 1 : end;
		if (end - p > 11 && g_ascii_strncasecmp(p, "Message-ID:", 11) == 0) {
			const char *v = p + 11;
			while (next < end && (*next == ' ' || *next == '\t'))
				next = memchr(next, '\n', (size_t)(end - next)) ?
				       (const char *)memchr(next, '\n', (size_t)(end - next)) + 1 : end;
			g_autofree char *raw = g_strndup(v, (gsize)(next - v));
			g_strdelimit(raw, "\r\n\t<>", ' ');
			g_strstrip(raw);
			return *raw != '\0' && strchr(raw, ' ') == NULL ? g_steal_pointer(&raw) : NULL;
		}
		p = next;
	}
	return NULL;
}

/* ---- the pass ---- */

static char *imap_uid_set(const uint32_t *uids, guint n)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < n; i++) {
		guint j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		g_string_append_printf(s, "%s%u", s->len > 0 ? "," : "", uids[i]);
		if (j > i)
			g_string_append_printf(s, ":%u", uids[j]);
		i = j;
	}
	return g_string_free(s, FALSE);
}

/* The next chunk of the batch to acknowledge (stored or known), or to
   give \Seen back (fetched, not stored, not seen before): its UID set, or
   NULL when none is left. *pos moves past it. */
static char *imap_chunk_set(struct imap_mailbox *mb, guint *pos, bool unseen)
{
	GArray *u = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	guint i = *pos;
	for (; i < mb->n_batch && u->len < IMAP_ACK_CHUNK; i++) {
		const struct imap_msg *m = &mb->batch[i];
		bool want = unseen ? (m->state == MSG_FAILED || m->state == MSG_HELD) &&
				     m->fetched && !m->seen :
				     m->state == MSG_STORED || m->state == MSG_KNOWN;
		if (want)
			g_array_append_val(u, m->uid);
	}
	*pos = i;
	char *set = u->len > 0 ? imap_uid_set((uint32_t *)(void *)u->data, u->len) : NULL;
	g_array_unref(u);
	return set;
}

static void imap_state_save(struct imap_mailbox *mb)
{
	GError *err = NULL;
	if (store_source_state_put(ingest_store(mb->env.ingest), &mb->st, &err) < 0) {
		log_error(mb->section, "cannot save the source state: %s", err->message);
		g_error_free(err);
	}
}

static void imap_start_select(struct imap_mailbox *mb)
{
	/* SELECT again rather than STATUS: on a connection kept from the last
	   pass the folder is still selected, and Dovecot answers STATUS on the
	   selected folder from the session's old view, blind to new mail. */
	char *req = g_strdup_printf("SELECT %s", mb->folder_q);
	if (imap_conn_start(&mb->conns[0], OP_SELECT, req, NULL) < 0)
		imap_pass_end(mb);
}

/* True when the "* CAPABILITY" line of text lists name (case-insensitive). */
static bool imap_has_capability(const char *text, const char *name)
{
	const char *line = strstr(text, "* CAPABILITY ");
	if (line == NULL)
		return false;
	g_autofree char *caps = g_strndup(line + 13, strcspn(line + 13, "\r\n"));
	g_auto(GStrv) words = g_strsplit(caps, " ", -1);
	for (size_t i = 0; words[i] != NULL; i++)
		if (g_ascii_strcasecmp(words[i], name) == 0)
			return true;
	return false;
}

/* Asks what the server offers (after the login) before a pass in move mode:
   UID MOVE only where it offers MOVE (RFC 6851), else UID COPY, \Deleted and
   UID EXPUNGE. */
static void imap_start_capability(struct imap_mailbox *mb)
{
	if (imap_conn_start(&mb->conns[0], OP_CAPABILITY, g_strdup("CAPABILITY"), NULL) < 0)
		imap_pass_end(mb);
}

/* An answer without a CAPABILITY line leaves UID MOVE to be tried: a refused
   one still falls back (imap_ack_refused). */
static void imap_on_capability(struct imap_mailbox *mb, struct imap_conn *c)
{
	const char *t = imap_text(c);
	bool move = strstr(t, "* CAPABILITY ") == NULL || imap_has_capability(t, "MOVE");
	if (!move && mb->has_move)
		log_info(mb->section, "the server does not offer MOVE: moving with UID COPY, "
			 "\\Deleted and UID EXPUNGE");
	mb->has_move = move;
	mb->caps_known = true;
	imap_start_select(mb);
}

static void imap_on_select(struct imap_mailbox *mb, struct imap_conn *c)
{
	uint32_t uv = 0, next = 0;
	const char *t = imap_text(c);
	if (!imap_find_number(t, "UIDVALIDITY", &uv) || !imap_find_number(t, "UIDNEXT", &next) ||
	    uv == 0) {
		imap_set_fail(mb, FAIL_NET, g_strdup("the server's SELECT answer has no UIDVALIDITY "
						     "or UIDNEXT"));
		imap_pass_end(mb);
		return;
	}
	if (mb->st.uidvalidity != 0 && mb->st.uidvalidity != (int64_t)uv) {
		log_warn(mb->section, "UIDVALIDITY changed from %" G_GINT64_FORMAT " to %u: the "
			 "folder was recreated; rescanning it (stored messages are recognised by "
			 "content hash and Message-ID, no duplicates)", mb->st.uidvalidity, uv);
		mb->st.last_uid = 0;
	}
	mb->st.uidvalidity = uv;
	mb->uidnext = next;
	mb->search_from = (uint32_t)mb->st.last_uid + 1;
	imap_pass_step(mb);
}

static void imap_start_search(struct imap_mailbox *mb)
{
	uint32_t to = mb->uidnext - 1;
	if (to - mb->search_from >= IMAP_SEARCH_WINDOW)
		to = mb->search_from + IMAP_SEARCH_WINDOW - 1;
	char *req = g_strdup_printf("UID SEARCH UID %u:%u%s", mb->search_from, to,
				    mb->move_q == NULL ? " UNKEYWORD " IMAP_KEYWORD : "");
	if (imap_conn_start(&mb->conns[0], OP_SEARCH, req, NULL) < 0)
		imap_pass_end(mb);
}

static void imap_on_search(struct imap_mailbox *mb, struct imap_conn *c)
{
	uint32_t from = mb->search_from;
	uint32_t to = MIN(mb->uidnext - 1, from + IMAP_SEARCH_WINDOW - 1);
	const char *p = strstr(imap_text(c), "* SEARCH");
	for (p = p != NULL ? p + 8 : ""; *p == ' ';) {
		uint32_t uid;
		p++;
		if (!imap_number(&p, &uid))
			break;
		if (uid >= from && uid <= to && uid > (uint32_t)mb->st.last_uid)
			g_array_append_val(mb->uids, uid);
	}
	log_debug(mb->section, "UID SEARCH %u:%u: %u bytes, %u UIDs so far", from, to, c->body->len, mb->uids->len);
	mb->search_from = to + 1;
	imap_pass_step(mb);
}

static gint imap_uid_cmp(gconstpointer a, gconstpointer b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The next step after SELECT or a search window. */
static void imap_pass_step(struct imap_mailbox *mb)
{
	if (mb->stopping) {
		imap_pass_end(mb);
	} else if (mb->uidnext > mb->search_from) {
		imap_start_search(mb);
	} else {
		g_array_sort(mb->uids, imap_uid_cmp);
		mb->st.backlog = mb->uids->len;
		imap_batch_begin(mb);
	}
}

static void imap_batch_clear(struct imap_mailbox *mb)
{
	for (guint i = 0; i < mb->n_batch; i++)
		imap_msg_clear(&mb->batch[i]);
	g_clear_pointer(&mb->batch, g_free);
	mb->n_batch = mb->next_fetch = mb->next_ingest = 0;
	g_clear_pointer(&mb->ack_set, g_free);
	g_clear_pointer(&mb->unseen_set, g_free);
}

/* Asks for the flags, dates and sizes of the next META chunk of the batch. */
static void imap_meta_next(struct imap_mailbox *mb)
{
	guint n = MIN(IMAP_META_CHUNK, mb->n_batch - mb->meta_done);
	uint32_t *u = &g_array_index(mb->uids, uint32_t, mb->batch_start + mb->meta_done);
	g_autofree char *set = imap_uid_set(u, n);
	char *req = g_strdup_printf("UID FETCH %s (UID FLAGS INTERNALDATE RFC822.SIZE)", set);
	mb->meta_done += n;
	if (imap_conn_start(&mb->conns[0], OP_META, req, NULL) < 0)
		imap_pass_end(mb);
}

static void imap_batch_begin(struct imap_mailbox *mb)
{
	imap_batch_clear(mb);
	if (mb->stopping || mb->batch_start >= mb->uids->len) {
		imap_pass_end(mb);
		return;
	}
	mb->n_batch = MIN(IMAP_BATCH, mb->uids->len - mb->batch_start);
	mb->batch = g_new0(struct imap_msg, mb->n_batch);
	uint32_t *u = &g_array_index(mb->uids, uint32_t, mb->batch_start);
	for (guint i = 0; i < mb->n_batch; i++)
		mb->batch[i].uid = u[i];
	mb->meta_done = 0;
	mb->group_lost = ingest_group_lost(mb->env.ingest);
	imap_meta_next(mb);
}

/* Decides per message: already stored, too big, gone, or to fetch. */
static int imap_classify(struct imap_mailbox *mb, struct imap_msg *m)
{
	GError *err = NULL;
	if (!m->has_meta) {
		m->state = MSG_GONE;
		return 0;
	}
	g_autofree char *origin = g_strdup_printf("%s%" G_GINT64_FORMAT ":%u", mb->origin_prefix,
						  mb->st.uidvalidity, m->uid);
	int known = store_source_origin_known(ingest_store(mb->env.ingest), origin, &err);
	if (known < 0) {
		imap_set_fail(mb, FAIL_STORE, g_strdup(err->message));
		g_error_free(err);
		return -1;
	}
	if (known > 0)
		m->state = MSG_KNOWN;
	else if (m->size > mb->max_bytes)
		m->state = MSG_HELD;
	return 0;
}

static void imap_on_meta(struct imap_mailbox *mb, struct imap_conn *c)
{
	char **lines = g_strsplit(imap_text(c), "\n", -1);
	for (size_t i = 0; lines[i] != NULL; i++)
		imap_parse_meta_line(mb, lines[i]);
	g_strfreev(lines);
	if (mb->meta_done < mb->n_batch && !mb->stopping) {
		imap_meta_next(mb);
		return;
	}
	for (guint i = 0; i < mb->n_batch; i++)
		if (imap_classify(mb, &mb->batch[i]) < 0)
			break;
	if (mb->fail != FAIL_NONE) {
		imap_pass_end(mb);
		return;
	}
	imap_fetch_more(mb);
}

static void imap_note_held(struct imap_mailbox *mb, const struct imap_msg *m)
{
	mb->held++;
	g_free(mb->note);
	mb->note = g_strdup_printf("%" G_GINT64_FORMAT " message(s) over max_message_size %"
				   G_GUINT64_FORMAT " bytes left on the server (last: UID %u, %"
				   G_GUINT64_FORMAT " bytes); raise max_message_size to take them",
				   mb->held, mb->max_bytes, m->uid, m->size);
	if (g_hash_table_add(mb->held_logged, GUINT_TO_POINTER(m->uid)))
		log_warn(mb->section, "uid %u: %" G_GUINT64_FORMAT " bytes is over max_message_size %"
			 G_GUINT64_FORMAT ": left on the server, not ingested", m->uid, m->size,
			 mb->max_bytes);
}

/* Stores one fetched message: MSG_STORED, MSG_KNOWN or MSG_FAILED. */
static void imap_ingest_one(struct imap_mailbox *mb, struct imap_msg *m)
{
	GError *err = NULL;
	struct store *st = ingest_store(mb->env.ingest);
	g_autofree char *origin = g_strdup_printf("%s%" G_GINT64_FORMAT ":%u", mb->origin_prefix,
						  mb->st.uidvalidity, m->uid);
	g_autofree char *except = g_strdup_printf("%s%" G_GINT64_FORMAT ":", mb->origin_prefix,
						  mb->st.uidvalidity);
	g_autofree char *mid = imap_message_id(m->data->data, m->data->len);
	int seen = mid != NULL ? store_source_message_id_known(st, mid, mb->origin_prefix, except,
							       &err) : 0;
	struct ingest_origin o = { .channel = "email", .kind = "imap", .origin = origin,
				   .received_at = m->internaldate, .group = true };
	struct ingest_outcome out = { 0 };
	int rc = -1;
	if (seen == 0 && m->file != NULL)
		rc = ingest_message_writer(mb->env.ingest, &o, g_steal_pointer(&m->file), &out, &err);
	else if (seen == 0)
		rc = ingest_message(mb->env.ingest, &o, (const char *)m->data->data, m->data->len,
				    &out, &err);
	if (seen == 0 && rc == 0) {
		m->state = out.status == INGEST_KNOWN ? MSG_KNOWN : MSG_STORED;
		if (out.status == INGEST_CREATED)
			log_info(mb->section, "uid %u: draft %s", m->uid, out.ref);
		else if (out.status == INGEST_CLASSIFIED)
			log_info(mb->section, "uid %u: not a complaint (%s), kept", m->uid,
				 out.disposition);
	} else if (seen > 0) {
		m->state = MSG_KNOWN;
	} else {
		m->state = MSG_FAILED;
		log_error(mb->section, "uid %u: not stored: %s", m->uid, err->message);
		imap_set_fail(mb, FAIL_STORE, g_strdup_printf("uid %u: %s", m->uid, err->message));
	}
	g_clear_error(&err);
	ingest_outcome_clear(&out);
	m->by_ingest = true;
	if (m->state == MSG_STORED)
		mb->stored++;
	else if (m->state == MSG_KNOWN)
		mb->known++;
	imap_msg_clear(m);
}

/* Makes what the batch stored durable: one syncfs and one commit for all
   of it. Whatever a lost group held is not acknowledged: the messages stay
   on the server and the next pass takes them again (deduplicated). */
static void imap_group_commit(struct imap_mailbox *mb)
{
	GError *err = NULL;
	if (ingest_group_commit(mb->env.ingest, &err) < 0)
		log_error(mb->section, "commit of the batch failed: %s", err->message);
	if (ingest_group_lost(mb->env.ingest) == mb->group_lost) {
		g_clear_error(&err);
		return;
	}
	mb->group_lost = ingest_group_lost(mb->env.ingest);
	for (guint i = 0; i < mb->next_ingest; i++) {
		struct imap_msg *m = &mb->batch[i];
		if (m->state == MSG_STORED)
			mb->stored--;
		if (m->state == MSG_STORED || (m->state == MSG_KNOWN && m->by_ingest))
			m->state = MSG_FAILED;
	}
	if (mb->fail == FAIL_NONE)
		imap_set_fail(mb, FAIL_STORE, g_strdup_printf("commit failed: %s", err != NULL ?
							      err->message : "rolled back"));
	g_clear_error(&err);
}

/* Ingests, in UID order, what has arrived. */
static void imap_ingest_ready(struct imap_mailbox *mb)
{
	while (mb->next_ingest < mb->n_batch) {
		struct imap_msg *m = &mb->batch[mb->next_ingest];
		if (m->state == MSG_FETCHING || (m->state == MSG_NEW && !mb->stopping &&
						 mb->fail == FAIL_NONE))
			return;
		if (m->state == MSG_FETCHED && mb->fail == FAIL_NONE) {
			imap_ingest_one(mb, m);
			if (ingest_group_age(mb->env.ingest) > IMAP_GROUP_MAX_US)
				imap_group_commit(mb);
		}
		else if (m->state == MSG_FETCHED)
			m->state = MSG_FAILED;
		else if (m->state == MSG_HELD)
			imap_note_held(mb, m);
		mb->next_ingest++;
	}
}

static struct imap_conn *imap_free_conn(struct imap_mailbox *mb)
{
	for (unsigned i = 0; i < mb->n_conns; i++)
		if (!mb->conns[i].busy)
			return &mb->conns[i];
	return NULL;
}

/* ---- several small messages in one UID FETCH ----
   libcurl hands the answer to a custom command to the header callback line
   by line, literals included, byte for byte; each message's literal is cut
   out here. A line inside a literal that looks like a tagged answer would
   end libcurl's reading of the command early and leave the rest of the
   answer on the connection for the next command: the transfer is aborted
   instead (libcurl then closes the connection) and the messages it did not
   bring are fetched one by one. */

static struct imap_msg *imap_set_find(struct imap_conn *c, uint32_t uid)
{
	for (guint i = 0; i < c->set->len; i++) {
		struct imap_msg *m = g_ptr_array_index(c->set, i);
		if (m->uid == uid && m->state == MSG_FETCHING)
			return m;
	}
	return NULL;
}

/* "A123 " or longer: a tag as libcurl writes them. */
static bool imap_tag_like(const char *p, size_t len)
{
	size_t i = 1;
	if (len < 5 || !g_ascii_isupper(p[0]))
		return false;
	while (i < len && g_ascii_isdigit(p[i]))
		i++;
	return i >= 4 && i < len && p[i] == ' ';
}

/* The number after "UID " in line[0, len), or 0. */
static uint32_t imap_line_uid(const char *line, size_t len)
{
	g_autofree char *t = g_strndup(line, len);
	const char *u = strstr(t, "UID ");
	uint32_t uid = 0;
	if (u == NULL || !imap_number((const char *[]){ u + 4 }, &uid))
		return 0;
	return uid;
}

static void imap_set_deliver(struct imap_conn *c, struct imap_msg *m)
{
	if (m != NULL) {
		m->data = c->lit;
		m->state = MSG_FETCHED;
	} else {
		g_byte_array_unref(c->lit);
	}
	c->lit = NULL;
	c->lit_msg = NULL;
}

/* A line outside any literal: the start of a message's literal, the rest of
   a FETCH item list after one, or anything else (kept if tagged). */
static int imap_set_line(struct imap_conn *c, const char *data, size_t len)
{
	if (c->lit != NULL) /* the literal's UID follows it */
		imap_set_deliver(c, imap_set_find(c, imap_line_uid(data, len)));
	if (len < 2 || data[0] != '*') {
		imap_keep_tagged(c, data, len);
		return 0;
	}
	size_t e = len;
	while (e > 0 && (data[e - 1] == '\n' || data[e - 1] == '\r'))
		e--;
	if (e == 0 || data[e - 1] != '}' || g_strstr_len(data, (gssize)e, " FETCH (") == NULL)
		return 0;
	const char *open = g_strrstr_len(data, (gssize)e, "{");
	uint32_t n = 0;
	if (open == NULL || !imap_number((const char *[]){ open + 1 }, &n) ||
	    n > IMAP_SET_ONE_MAX * 4u)
		return -1;
	c->lit = g_byte_array_sized_new(n);
	c->lit_left = n;
	c->lit_open = true;
	c->lit_msg = imap_set_find(c, imap_line_uid(data, (size_t)(open - data)));
	if (n == 0) {
		c->lit_open = false;
		if (c->lit_msg != NULL)
			imap_set_deliver(c, c->lit_msg);
	}
	return 0;
}

static int imap_set_header(struct imap_conn *c, const char *data, size_t len)
{
	if (c->lit_open) {
		if (imap_tag_like(data, len))
			return -1;
		size_t take = (size_t)MIN((uint64_t)len, c->lit_left);
		g_byte_array_append(c->lit, (const guint8 *)data, (guint)take);
		c->lit_left -= take;
		data += take;
		len -= take;
		if (c->lit_left > 0)
			return 0;
		c->lit_open = false;
		if (c->lit_msg != NULL)
			imap_set_deliver(c, c->lit_msg);
		if (len == 0)
			return 0;
	}
	return imap_set_line(c, data, len);
}

/* Collects from mb->next_fetch the small messages to fetch in one command;
   NULL when the next message is to be fetched alone. */
static GPtrArray *imap_set_collect(struct imap_mailbox *mb, guint *end_r)
{
	GPtrArray *set = g_ptr_array_new();
	uint64_t bytes = 0;
	guint i = mb->next_fetch;
	for (; i < mb->n_batch && set->len < IMAP_SET_MAX; i++) {
		struct imap_msg *m = &mb->batch[i];
		if (m->state != MSG_NEW)
			continue;
		if (m->single || m->size > IMAP_SET_ONE_MAX || bytes + m->size > IMAP_SET_BYTES)
			break;
		bytes += m->size;
		g_ptr_array_add(set, m);
	}
	if (set->len < 2) {
		g_ptr_array_unref(set);
		return NULL;
	}
	*end_r = i;
	return set;
}

static int imap_set_start(struct imap_mailbox *mb, struct imap_conn *c, GPtrArray *set)
{
	GArray *uids = g_array_sized_new(FALSE, FALSE, sizeof(uint32_t), set->len);
	for (guint i = 0; i < set->len; i++) {
		struct imap_msg *m = g_ptr_array_index(set, i);
		m->state = MSG_FETCHING;
		g_array_append_val(uids, m->uid);
	}
	g_autofree char *u = imap_uid_set((const uint32_t *)(void *)uids->data, uids->len);
	g_array_free(uids, TRUE);
	c->set = set;
	mb->inflight += set->len;
	if (imap_conn_start(c, OP_FETCHSET,
			    g_strdup_printf("UID FETCH %s (UID BODY.PEEK[])", u), NULL) == 0)
		return 0;
	for (guint i = 0; i < set->len; i++)
		((struct imap_msg *)g_ptr_array_index(set, i))->state = MSG_FAILED;
	mb->inflight -= set->len;
	c->set = NULL;
	return -1;
}

/* What the set did not bring is fetched again, one by one. */
static void imap_on_fetchset(struct imap_mailbox *mb, struct imap_conn *c, CURLcode rc)
{
	guint missing = 0, first = mb->n_batch;
	for (guint i = 0; i < c->set->len; i++) {
		struct imap_msg *m = g_ptr_array_index(c->set, i);
		if (m->state != MSG_FETCHING)
			continue;
		m->state = MSG_NEW;
		m->single = true;
		first = MIN(first, (guint)(m - mb->batch));
		missing++;
	}
	if (missing > 0)
		log_debug(mb->section, "UID FETCH of %u messages: %u to fetch one by one (%s)",
			  c->set->len, missing, rc == CURLE_OK ? "not in the answer" :
			  c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc));
	mb->next_fetch = MIN(mb->next_fetch, first);
	mb->inflight -= c->set->len;
	g_clear_pointer(&c->set, g_ptr_array_unref);
	g_clear_pointer(&c->lit, g_byte_array_unref);
	c->lit_msg = NULL;
	c->lit_open = false;
	c->lit_left = 0;
	imap_fetch_more(mb);
}

/* Bytes fetched or being fetched and not yet stored. */
static uint64_t imap_window_bytes(const struct imap_mailbox *mb)
{
	uint64_t b = 0;
	for (guint i = mb->next_ingest; i < mb->next_fetch && i < mb->n_batch; i++)
		if (mb->batch[i].state == MSG_FETCHING || mb->batch[i].state == MSG_FETCHED)
			b += mb->batch[i].size;
	return b;
}

/* Starts fetches on free connections while what is fetched and not yet
   stored stays under IMAP_WINDOW_BYTES (one message at least). */
static void imap_start_fetches(struct imap_mailbox *mb)
{
	struct imap_conn *c;
	mb->next_fetch = MAX(mb->next_fetch, mb->next_ingest);
	while (!mb->stopping && mb->fail == FAIL_NONE && mb->next_fetch < mb->n_batch &&
	       (mb->inflight == 0 || imap_window_bytes(mb) < IMAP_WINDOW_BYTES) &&
	       (c = imap_free_conn(mb)) != NULL) {
		struct imap_msg *m = &mb->batch[mb->next_fetch];
		if (m->state != MSG_NEW) {
			mb->next_fetch++;
			continue;
		}
		guint end;
		GPtrArray *set = imap_set_collect(mb, &end);
		if (set != NULL) {
			mb->next_fetch = end;
			if (imap_set_start(mb, c, set) < 0)
				g_ptr_array_unref(set);
			continue;
		}
		mb->next_fetch++;
		m->state = MSG_FETCHING;
		m->fetched = true;
		mb->inflight++;
		if (imap_conn_start(c, OP_FETCH, NULL, m) < 0) {
			m->state = MSG_FAILED;
			mb->inflight--;
		}
	}
}

/* Keeps the connections busy, stores in UID order what has arrived and, at
   the end of the batch, commits and acknowledges. */
static void imap_fetch_more(struct imap_mailbox *mb)
{
	imap_start_fetches(mb);
	imap_ingest_ready(mb);
	imap_start_fetches(mb);
	if (mb->inflight > 0 || (mb->next_ingest < mb->n_batch && !mb->stopping &&
				 mb->fail == FAIL_NONE))
		return;
	imap_group_commit(mb);
	mb->ack_prepared = false;
	imap_ack_next(mb);
}

static void imap_on_fetch(struct imap_mailbox *mb, struct imap_conn *c, CURLcode rc)
{
	struct imap_msg *m = c->msg;
	mb->inflight--;
	if (rc == CURLE_OK) {
		m->state = MSG_FETCHED;
		m->data = c->body;
		m->file = g_steal_pointer(&c->file);
		c->body = g_byte_array_new();
	} else if (c->file_error != NULL) {
		m->state = MSG_FAILED;
		imap_set_fail(mb, FAIL_STORE, g_strdup_printf("uid %u: not written to the spool: %s",
							      m->uid, c->file_error->message));
	} else if (rc == CURLE_REMOTE_FILE_NOT_FOUND) {
		/* Expunged meanwhile, or a kept connection whose view is older than
		   the metadata's: left for the next pass, which tells them apart
		   (an expunged message is no longer in its UID SEARCH). */
		m->state = MSG_LATER;
		log_info(mb->section, "uid %u: not found by the fetch; tried again next pass", m->uid);
	} else if (c->over) {
		m->state = MSG_HELD;
		m->size = MAX(m->size, c->limit + 1);
	} else {
		g_autofree char *why = imap_conn_error(c, rc);
		m->state = MSG_FAILED;
		imap_set_fail(mb, imap_fail_kind(c, rc), g_strdup_printf("uid %u: fetch failed: %s",
								      m->uid, why));
	}
	imap_fetch_more(mb);
}

/* ---- acknowledgement: only after the commit ---- */

static void imap_ack_start(struct imap_mailbox *mb, enum imap_op op, const char *set)
{
	char *req = NULL;
	switch (op) {
	case OP_MOVE: req = g_strdup_printf("UID MOVE %s %s", set, mb->move_q); break;
	case OP_CREATE: req = g_strdup_printf("CREATE %s", mb->move_q); break;
	case OP_COPY: req = g_strdup_printf("UID COPY %s %s", set, mb->move_q); break;
	case OP_DELETE: req = g_strdup_printf("UID STORE %s +FLAGS.SILENT (\\Deleted)", set); break;
	case OP_EXPUNGE: req = g_strdup_printf("UID EXPUNGE %s", set); break;
	case OP_FLAG:
		req = g_strdup_printf("UID STORE %s +FLAGS.SILENT (\\Seen " IMAP_KEYWORD ")", set);
		break;
	case OP_SEEN: req = g_strdup_printf("UID STORE %s +FLAGS.SILENT (\\Seen)", set); break;
	default: req = g_strdup_printf("UID STORE %s -FLAGS.SILENT (\\Seen)", set); break;
	}
	if (imap_conn_start(&mb->conns[0], op, req, NULL) < 0)
		imap_pass_end(mb);
}

static void imap_batch_finish(struct imap_mailbox *mb);

/* The next acknowledgement command of the batch, or its end. */
static void imap_ack_next(struct imap_mailbox *mb)
{
	if (!mb->ack_prepared) {
		mb->ack_prepared = true;
		mb->ack_pos = mb->unseen_pos = 0;
		mb->allow_ack = mb->fail == FAIL_NONE || mb->fail == FAIL_STORE;
		mb->allow_unseen = mb->fail != FAIL_NET && mb->fail != FAIL_AUTH;
	}
	if (mb->ack_set == NULL && mb->allow_ack)
		mb->ack_set = imap_chunk_set(mb, &mb->ack_pos, false);
	if (mb->ack_set != NULL) {
		/* moved messages arrive read, like flagged ones (BODY.PEEK left them unread) */
		imap_ack_start(mb, mb->move_q == NULL ? OP_FLAG : OP_SEEN, mb->ack_set);
		return;
	}
	if (mb->unseen_set == NULL && mb->allow_unseen)
		mb->unseen_set = imap_chunk_set(mb, &mb->unseen_pos, true);
	if (mb->unseen_set != NULL)
		imap_ack_start(mb, OP_UNSEEN, mb->unseen_set);
	else
		imap_batch_finish(mb);
}

/* The current chunk is moved or flagged. */
static void imap_acked(struct imap_mailbox *mb)
{
	g_clear_pointer(&mb->ack_set, g_free);
	for (guint i = 0; i < mb->ack_pos; i++)
		if (mb->batch[i].state == MSG_STORED || mb->batch[i].state == MSG_KNOWN)
			mb->batch[i].state = MSG_ACKED;
	imap_ack_next(mb);
}

/* No more acknowledgement in this pass: the stored messages stay and are
   recognised (and acknowledged) by the next pass. */
static void imap_ack_give_up(struct imap_mailbox *mb)
{
	g_clear_pointer(&mb->ack_set, g_free);
	mb->allow_ack = false;
	imap_ack_next(mb);
}

/* MOVE or COPY was refused: the folder may be missing (TRYCREATE). */
static void imap_ack_refused(struct imap_mailbox *mb, struct imap_conn *c, CURLcode rc)
{
	g_autofree char *why = imap_conn_error(c, rc);
	if (!mb->created) {
		mb->created = true;
		imap_ack_start(mb, OP_CREATE, NULL);
	} else if (c->op == OP_MOVE) {
		log_info(mb->section, "UID MOVE refused (%s): using UID COPY, \\Deleted and "
			 "UID EXPUNGE instead", why);
		mb->has_move = false;
		imap_ack_start(mb, OP_COPY, mb->ack_set);
	} else {
		imap_set_fail(mb, FAIL_NET, g_strdup_printf("cannot move the stored messages to %s: "
							    "%s", mb->move_q, why));
		imap_ack_give_up(mb);
	}
}

static void imap_on_ack(struct imap_mailbox *mb, struct imap_conn *c, CURLcode rc)
{
	if (rc != CURLE_OK && rc != CURLE_QUOTE_ERROR) {
		imap_set_fail(mb, imap_fail_kind(c, rc), imap_conn_error(c, rc));
		g_clear_pointer(&mb->ack_set, g_free);
		g_clear_pointer(&mb->unseen_set, g_free);
		imap_batch_finish(mb);
		return;
	}
	bool ok = rc == CURLE_OK;
	switch (c->op) {
	case OP_MOVE:
		ok ? imap_acked(mb) : imap_ack_refused(mb, c, rc);
		break;
	case OP_COPY:
		ok ? imap_ack_start(mb, OP_DELETE, mb->ack_set) : imap_ack_refused(mb, c, rc);
		break;
	case OP_CREATE:
		imap_ack_start(mb, mb->has_move ? OP_MOVE : OP_COPY, mb->ack_set);
		break;
	case OP_DELETE:
		if (ok) {
			imap_ack_start(mb, OP_EXPUNGE, mb->ack_set);
			break;
		}
		/* fall through */
	case OP_EXPUNGE:
		if (!ok)
			log_warn(mb->section, "UID EXPUNGE refused: the stored messages are copied "
				 "and marked \\Deleted but stay until the folder is expunged");
		imap_acked(mb);
		break;
	case OP_SEEN:   /* best effort: the move matters */
		imap_ack_start(mb, mb->has_move ? OP_MOVE : OP_COPY, mb->ack_set);
		break;
	case OP_FLAG:
		if (ok && c->op == OP_FLAG) {
			imap_acked(mb);
		} else {
			imap_set_fail(mb, FAIL_NET, imap_conn_error(c, rc));
			imap_ack_give_up(mb);
		}
		break;
	default: /* OP_UNSEEN: best effort */
		g_clear_pointer(&mb->unseen_set, g_free);
		imap_ack_next(mb);
		break;
	}
}

/* After the acknowledgement: progress, counts, the next batch. */
static void imap_batch_finish(struct imap_mailbox *mb)
{
	for (guint i = 0; i < mb->n_batch; i++) {
		const struct imap_msg *m = &mb->batch[i];
		bool done = m->state == MSG_ACKED || m->state == MSG_GONE;
		mb->done += done;
		if (!done)
			mb->blocked = true;
		if (!mb->blocked)
			mb->st.last_uid = m->uid;
	}
	mb->st.ingested = mb->ingested_base + mb->stored;
	mb->st.backlog = (int64_t)mb->uids->len - mb->done;
	mb->batch_start += mb->n_batch;
	imap_state_save(mb);
	if (mb->fail != FAIL_NONE) {
		imap_batch_clear(mb);
		imap_pass_end(mb);
	} else {
		imap_batch_begin(mb);
	}
}

/* ---- pass control ---- */

static void imap_done_cb(CURL *easy, CURLcode rc, void *ctx)
{
	struct imap_conn *c = ctx;
	struct imap_mailbox *mb = c->mb;
	(void)easy;
	c->busy = false;
	if (c->op == OP_FETCH) {
		imap_on_fetch(mb, c, rc);
	} else if (c->op == OP_FETCHSET) {
		imap_on_fetchset(mb, c, rc);
	} else if (c->op >= OP_CREATE) {
		imap_on_ack(mb, c, rc);
	} else if (rc != CURLE_OK) {
		imap_set_fail(mb, imap_fail_kind(c, rc), imap_conn_error(c, rc));
		imap_pass_end(mb);
	} else if (c->op == OP_CAPABILITY) {
		imap_on_capability(mb, c);
	} else if (c->op == OP_SELECT) {
		imap_on_select(mb, c);
	} else if (c->op == OP_SEARCH) {
		imap_on_search(mb, c);
	} else {
		imap_on_meta(mb, c);
	}
}

/* Seconds to wait after the n-th failure in a row, with jitter. */
static unsigned imap_backoff_s(enum imap_fail kind, unsigned n)
{
	bool slow = kind == FAIL_AUTH || kind == FAIL_CONFIG;
	uint64_t base = slow ? 60 : 5, cap = slow ? 3600 : 900;
	uint64_t d = base << MIN(n > 0 ? n - 1 : 0, 20u);
	d = MIN(d, cap);
	return (unsigned)(d / 2 + (uint64_t)g_random_int_range(0, (gint32)(d / 2) + 1));
}

static char *imap_duration_text(unsigned s)
{
	if (s < 120)
		return g_strdup_printf("%u s", s);
	if (s < 7200)
		return g_strdup_printf("%u min", s / 60);
	return g_strdup_printf("%.1f h", s / 3600.0);
}

static void imap_timer_cb(uv_timer_t *t);

/* Records a failed pass in the state and the log, once per backoff step. */
static unsigned imap_pass_failed(struct imap_mailbox *mb, int64_t now)
{
	static const char *const states[] = { "ok", "error", "auth_failed", "config_error",
					      "error", "ok" };
	mb->failures++;
	mb->caps_known = false; /* the next login may reach another server */
	unsigned wait = imap_backoff_s(mb->fail, mb->failures);
	g_free(mb->st.state);
	mb->st.state = g_strdup(states[mb->fail]);
	g_free(mb->st.last_error);
	mb->st.last_error = mb->fail == FAIL_AUTH ?
		g_strdup_printf("login as %s refused: %s", mb->cfg->user, mb->fail_msg) :
		g_strdup(mb->fail_msg);
	mb->st.last_error_at = now;
	g_autofree char *w = imap_duration_text(wait);
	if (mb->once || mb->stopping)
		log_error(mb->section, "%s", mb->st.last_error);
	else
		log_error(mb->section, "%s; attempt %u failed, next in %s", mb->st.last_error,
			  mb->failures, w);
	return wait;
}

static unsigned imap_pass_succeeded(struct imap_mailbox *mb, int64_t now)
{
	bool complete = mb->batch_start >= mb->uids->len && !mb->stopping;
	if (complete && !mb->blocked && mb->uidnext > 0)
		mb->st.last_uid = MAX(mb->st.last_uid, (int64_t)mb->uidnext - 1);
	mb->failures = 0;
	mb->last_ok = true;
	g_free(mb->st.state);
	mb->st.state = g_strdup(mb->held > 0 ? "oversize" : "ok");
	mb->st.last_ok_at = now;
	if (mb->held > 0) {
		g_free(mb->st.last_error);
		mb->st.last_error = g_strdup(mb->note);
		mb->st.last_error_at = now;
	}
	if (mb->uids->len > 0)
		log_info(mb->section, "pass: %u new, %" G_GINT64_FORMAT " stored, %" G_GINT64_FORMAT
			 " already stored, %" G_GINT64_FORMAT " left; last UID %" G_GINT64_FORMAT
			 "; %.1f s", mb->uids->len, mb->stored, mb->known,
			 mb->st.backlog, mb->st.last_uid,
			 (double)(g_get_monotonic_time() - mb->pass_started) / 1e6);
	return mb->cfg->poll_interval_s;
}

/* ---- IDLE: a new message brings the next pass forward ---- */

/* The watcher lost its connection. Its own retries would log in with the
   credentials of the pass that started it, stale once the bearer token (or
   password) file is replaced: it is stopped instead, and a pass soon, which
   reads them afresh and fetches what came meanwhile, starts a new watcher
   when it succeeds. Losses in a row wait longer; a failing mailbox keeps its
   backoff. */
static void imap_idle_lost(struct imap_mailbox *mb, const char *why)
{
	mb->idle_losses++;
	unsigned s = MIN(IMAP_IDLE_RETRY_MAX_S, 2u << MIN(mb->idle_losses, 8u));
	idle_stop(mb->idle);
	mb->idle = NULL;
	uint64_t due = uv_timer_get_due_in(&mb->timer);
	if (mb->running || mb->stopping || mb->failures > 0 || (due > 0 && due <= s * 1000u)) {
		log_info(mb->section, "%s; polling until it is back", why);
		return;
	}
	log_info(mb->section, "%s; polling until it is back, next pass in %u s", why, s);
	uv_timer_start(&mb->timer, imap_timer_cb, (uint64_t)s * 1000, 0);
}

static void imap_idle_cb(unsigned events, const char *why, void *ctx)
{
	struct imap_mailbox *mb = ctx;
	if (events & IDLE_UNSUPPORTED) {
		log_info(mb->section, "the server offers no IDLE: polling every %u s",
			 mb->cfg->poll_interval_s);
		mb->idle_off = true;
		idle_stop(mb->idle);
		mb->idle = NULL;
		return;
	}
	if (events & IDLE_LOST) {
		imap_idle_lost(mb, why);
	} else if (events & IDLE_READY) {
		mb->idle_losses = 0;
		log_debug(mb->section, "waiting in IDLE");
	}
	if (!(events & IDLE_CHANGED) || mb->stopping)
		return;
	if (mb->running) {
		mb->again = true;
	} else {
		log_debug(mb->section, "IDLE: new message");
		uv_timer_start(&mb->timer, imap_timer_cb, 0, 0);
	}
}

/* Starts the watcher after a good pass, with this pass's credentials. */
static void imap_idle_begin(struct imap_mailbox *mb)
{
	if (mb->idle != NULL || mb->idle_off)
		return;
	struct idle_params p = {
		.url = mb->base_url, .folder_q = mb->folder_q, .login = imap_login(mb),
	};
	mb->idle = idle_start(mb->env.loop, &p, imap_idle_cb, mb);
	if (mb->idle == NULL)
		mb->idle_off = true;
}

/* Ends the pass (no transfer is in flight), saves the state, schedules the
   next one and tells the runner. */
static void imap_pass_end(struct imap_mailbox *mb)
{
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	unsigned wait;
	GError *err = NULL;
	if (ingest_group_commit(mb->env.ingest, &err) < 0)
		log_error(mb->section, "commit at the end of the pass failed: %s", err->message);
	g_clear_error(&err);
	imap_batch_clear(mb);
	mb->st.last_poll_at = now;
	mb->last_ok = false;
	if (mb->fail == FAIL_NONE)
		wait = imap_pass_succeeded(mb, now);
	else if (mb->fail == FAIL_STOP)
		wait = mb->cfg->poll_interval_s;
	else
		wait = imap_pass_failed(mb, now);
	imap_state_save(mb);
	if (!mb->once && !mb->stopping && mb->fail == FAIL_NONE)
		imap_idle_begin(mb);
	if (mb->again && !mb->once && !mb->stopping && mb->fail == FAIL_NONE)
		wait = 0;
	mb->again = false;
	imap_clear_credentials(mb);
	mb->running = false;
	g_array_set_size(mb->uids, 0);
	g_clear_pointer(&mb->fail_msg, g_free);
	g_clear_pointer(&mb->note, g_free);
	if (!mb->once && !mb->stopping)
		uv_timer_start(&mb->timer, imap_timer_cb, (uint64_t)wait * 1000, 0);
	mb->env.pass_done(mb, mb->env.ctx);
}

static void imap_pass_begin(struct imap_mailbox *mb)
{
	mb->running = true;
	mb->fail = FAIL_NONE;
	mb->pass_started = g_get_monotonic_time();
	mb->stored = mb->known = mb->held = mb->done = 0;
	mb->ingested_base = mb->st.ingested;
	mb->blocked = false;
	mb->batch_start = 0;
	mb->uidnext = 0;
	if (imap_set_credentials(mb) < 0)
		imap_pass_end(mb);
	else if (mb->move_q != NULL && !mb->caps_known)
		imap_start_capability(mb);
	else
		imap_start_select(mb);
}

static void imap_timer_cb(uv_timer_t *t)
{
	struct imap_mailbox *mb = t->data;
	if (!mb->running && !mb->stopping)
		imap_pass_begin(mb);
}

void imap_start(struct imap_mailbox *mb, bool once)
{
	mb->once = once;
	mb->stopping = false;
	if (!once && !mb->cfg->idle)
		log_info(mb->section, "idle = false: polling only, every %u s",
			 mb->cfg->poll_interval_s);
	uv_timer_start(&mb->timer, imap_timer_cb, 0, 0);
}

bool imap_stop(struct imap_mailbox *mb)
{
	mb->stopping = true;
	idle_stop(mb->idle);
	mb->idle = NULL;
	uv_timer_stop(&mb->timer);
	return !mb->running;
}

void imap_abort(struct imap_mailbox *mb)
{
	if (!mb->running)
		return;
	for (unsigned i = 0; i < mb->n_conns; i++) {
		if (mb->conns[i].busy) {
			run_curl_cancel(mb->env.curl, mb->conns[i].easy);
			mb->conns[i].busy = false;
		}
	}
	mb->inflight = 0;
	log_warn(mb->section, "stopped in the middle of a pass: what was stored stays stored; "
		 "the next start acknowledges it");
	mb->fail = FAIL_STOP;
	imap_pass_end(mb);
}

/* ---- life cycle ---- */

static int imap_setup(struct imap_mailbox *mb, GError **error)
{
	const struct config_imap *m = mb->cfg;
	if (imap_split_url(m->url, &mb->base_url, &mb->folder) < 0 ||
	    (mb->folder_q = imap_quote(mb->folder)) == NULL) {
		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "[%s] url = \"%s\": unusable",
			    mb->section, m->url);
		return -1;
	}
	char *esc = curl_easy_escape(NULL, mb->folder, 0);
	mb->folder_url = g_strconcat(mb->base_url, esc, NULL);
	curl_free(esc);
	if (g_str_has_prefix(m->after, "move:"))
		mb->move_q = imap_quote(m->after + 5);
	for (unsigned i = 0; i < mb->n_conns; i++) {
		if (imap_conn_init(mb, &mb->conns[i]) < 0) {
			g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "curl_easy_init failed");
			return -1;
		}
	}
	return 0;
}

struct imap_mailbox *imap_new(const struct imap_env *env, const struct config_imap *m,
			      GError **error)
{
	struct imap_mailbox *mb = g_new0(struct imap_mailbox, 1);
	mb->env = *env;
	mb->cfg = m;
	mb->section = g_strdup_printf("imap %s", m->name);
	mb->origin_prefix = g_strdup_printf("imap:%s:", m->name);
	mb->max_bytes = m->max_message_bytes != 0 ? m->max_message_bytes :
						    env->cfg->limits.message_bytes;
	mb->n_conns = MAX(1u, MIN(m->fetch_connections, (unsigned)IMAP_MAX_CONNS));
	mb->has_move = true;
	mb->idle_off = !m->idle;
	mb->uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	mb->held_logged = g_hash_table_new(g_direct_hash, g_direct_equal);
	uv_timer_init(env->loop, &mb->timer);
	mb->timer.data = mb;
	if (imap_setup(mb, error) < 0 ||
	    store_source_state_get(ingest_store(env->ingest), mb->section, "imap", &mb->st,
				   error) < 0) {
		imap_free(mb);
		return NULL;
	}
	return mb;
}

static void imap_free_cb(uv_handle_t *h)
{
	struct imap_mailbox *mb = h->data;
	g_free(mb);
}

void imap_free(struct imap_mailbox *mb)
{
	if (mb == NULL)
		return;
	idle_stop(mb->idle);
	mb->idle = NULL;
	for (unsigned i = 0; i < mb->n_conns; i++) {
		if (mb->conns[i].busy)
			run_curl_cancel(mb->env.curl, mb->conns[i].easy);
		imap_conn_clear(&mb->conns[i]);
	}
	imap_batch_clear(mb);
	store_source_state_clear(&mb->st);
	g_array_unref(mb->uids);
	g_hash_table_unref(mb->held_logged);
	g_free(mb->section);
	g_free(mb->origin_prefix);
	g_free(mb->base_url);
	g_free(mb->folder);
	g_free(mb->folder_url);
	g_free(mb->folder_q);
	g_free(mb->move_q);
	g_free(mb->fail_msg);
	g_free(mb->note);
	imap_clear_credentials(mb);
	uv_close((uv_handle_t *)&mb->timer, imap_free_cb);
}
