/* IMAP IDLE watcher on a thread of its own; see idle.h. */
#include "ingest/idle.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define IDLE_LINE_MAX 8192
#define IDLE_RENEW_MS (25 * 60 * 1000) /* RFC 2177: re-issue IDLE within 29 minutes */
#define IDLE_BACKOFF_MAX_S 300

struct idle {
	uv_async_t async;
	uv_thread_t thread;
	bool started;
	int wake[2];             /* the loop writes here to stop the thread */
	GMutex lock;
	unsigned events;         /* under lock */
	char *why;               /* under lock */
	idle_fn fn;
	void *ctx;
	char *url, *folder_q, *user, *password, *token, *ca_file;
	struct curlopt_login login;  /* pointing at the copies above */
	unsigned timeout_s;
};

/* One logged-in connection of the thread. */
struct idle_conn {
	CURL *easy;
	curl_socket_t sock;
	char buf[IDLE_LINE_MAX];
	size_t len;
	bool skipping;           /* dropping the rest of an over-long line */
	unsigned tag;
};

static void idle_post(struct idle *w, unsigned ev, const char *why)
{
	g_mutex_lock(&w->lock);
	w->events |= ev;
	if (why != NULL) {
		g_free(w->why);
		w->why = g_strdup(why);
	}
	g_mutex_unlock(&w->lock);
	uv_async_send(&w->async);
}

static void idle_async_cb(uv_async_t *a)
{
	struct idle *w = a->data;
	g_mutex_lock(&w->lock);
	unsigned ev = w->events;
	char *why = w->why;
	w->events = 0;
	w->why = NULL;
	g_mutex_unlock(&w->lock);
	if (ev != 0)
		w->fn(ev, why, w->ctx);
	g_free(why);
}

static bool idle_stopping(struct idle *w)
{
	struct pollfd p = { .fd = w->wake[0], .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

/* Waits for the socket (or only the wake pipe when sock < 0) at most ms.
   Returns 1 readable, 0 timeout, -1 woken to stop. */
static int idle_wait(struct idle *w, curl_socket_t sock, int ms)
{
	struct pollfd p[2] = { { .fd = w->wake[0], .events = POLLIN },
			       { .fd = sock, .events = POLLIN } };
	int n;
	do
		n = poll(p, sock >= 0 ? 2 : 1, ms);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (p[0].revents & POLLIN))
		return -1;
	return n > 0 ? 1 : 0;
}

static int idle_send(struct idle_conn *c, const char *text)
{
	size_t len = strlen(text), off = 0;
	while (off < len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(c->easy, text + off, len - off, &n);
		if (rc == CURLE_AGAIN) {
			struct pollfd p = { .fd = c->sock, .events = POLLOUT };
			if (poll(&p, 1, 5000) <= 0)
				return -1;
			continue;
		}
		if (rc != CURLE_OK)
			return -1;
		off += n;
	}
	return 0;
}

/* Takes one complete line out of the buffer into line (NUL-terminated,
   without CRLF). Returns true when there was one. */
static bool idle_take_line(struct idle_conn *c, char *line)
{
	char *lf = memchr(c->buf, '\n', c->len);
	if (lf == NULL) {
		if (c->len == sizeof c->buf) { /* over-long: not a line we read */
			c->len = 0;
			c->skipping = true;
		}
		return false;
	}
	size_t n = (size_t)(lf - c->buf);
	bool skipped = c->skipping;
	c->skipping = false;
	memcpy(line, c->buf, n);
	line[n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	c->len -= n + 1;
	memmove(c->buf, lf + 1, c->len);
	if (skipped)
		line[0] = '\0';
	return true;
}

/* The next server line within ms. Returns 1, 0 on timeout, -1 when the
   connection failed or the thread is to stop (*stop_r set). */
static int idle_line(struct idle *w, struct idle_conn *c, char *line, int ms, bool *stop_r)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	for (;;) {
		if (idle_take_line(c, line))
			return 1;
		size_t n = 0;
		CURLcode rc = curl_easy_recv(c->easy, c->buf + c->len, sizeof c->buf - c->len, &n);
		if (rc == CURLE_OK && n == 0)
			return -1; /* closed */
		if (rc == CURLE_OK) {
			c->len += n;
			continue;
		}
		if (rc != CURLE_AGAIN)
			return -1;
		gint64 left = (end - g_get_monotonic_time()) / 1000;
		if (left <= 0)
			return 0;
		int r = idle_wait(w, c->sock, (int)MIN(left, (gint64)G_MAXINT));
		if (r < 0) {
			*stop_r = true;
			return -1;
		}
	}
}

/* Sends "TAG TEXT" and reads to its tagged answer. Returns 1 for OK, 0 for
   NO/BAD, -1 on failure. With cap_r, notes whether a CAPABILITY line offers
   IDLE. */
static int idle_command(struct idle *w, struct idle_conn *c, const char *text, bool *cap_r,
			bool *stop_r)
{
	char tag[16], line[IDLE_LINE_MAX];
	g_snprintf(tag, sizeof tag, "W%u ", ++c->tag);
	g_autofree char *cmd = g_strdup_printf("%s%s\r\n", tag, text);
	if (idle_send(c, cmd) < 0)
		return -1;
	for (;;) {
		int r = idle_line(w, c, line, (int)w->timeout_s * 1000, stop_r);
		if (r <= 0)
			return -1;
		if (cap_r != NULL && g_str_has_prefix(line, "* CAPABILITY ")) {
			g_autofree char *padded = g_strconcat(line + 12, " ", NULL);
			*cap_r = g_strstr_len(padded, -1, " IDLE ") != NULL;
		}
		if (g_str_has_prefix(line, tag))
			return g_str_has_prefix(line + strlen(tag), "OK") ? 1 : 0;
	}
}

/* "* N EXISTS" */
static bool idle_is_exists(const char *line)
{
	if (!g_str_has_prefix(line, "* "))
		return false;
	const char *p = line + 2;
	if (!g_ascii_isdigit(*p))
		return false;
	while (g_ascii_isdigit(*p))
		p++;
	return g_ascii_strcasecmp(p, " EXISTS") == 0;
}

/* Sits in IDLE until the renewal time, the server ends it, or a stop.
   Returns 1 to renew, 0 stopped, -1 on failure. */
static int idle_sit(struct idle *w, struct idle_conn *c, bool *stop_r)
{
	char tag[16], line[IDLE_LINE_MAX];
	g_snprintf(tag, sizeof tag, "W%u ", ++c->tag);
	g_autofree char *cmd = g_strdup_printf("%sIDLE\r\n", tag);
	if (idle_send(c, cmd) < 0)
		return -1;
	int r;
	while ((r = idle_line(w, c, line, (int)w->timeout_s * 1000, stop_r)) > 0 && line[0] != '+')
		if (g_str_has_prefix(line, tag))
			return -1; /* refused */
	if (r <= 0)
		return *stop_r ? 0 : -1;
	idle_post(w, IDLE_READY, NULL);
	gint64 renew = g_get_monotonic_time() + (gint64)IDLE_RENEW_MS * 1000;
	bool done_sent = false;
	for (;;) {
		gint64 left = (renew - g_get_monotonic_time()) / 1000;
		r = idle_line(w, c, line, (int)MAX(left, 1), stop_r);
		if (r < 0)
			return *stop_r ? 0 : -1;
		if (r == 0 && !done_sent) {
			if (idle_send(c, "DONE\r\n") < 0)
				return -1;
			done_sent = true;
			renew = g_get_monotonic_time() + (gint64)w->timeout_s * 1000000;
			continue;
		}
		if (r == 0)
			return -1; /* no answer to DONE */
		if (idle_is_exists(line))
			idle_post(w, IDLE_CHANGED, NULL);
		else if (g_str_has_prefix(line, "* BYE"))
			return -1;
		else if (g_str_has_prefix(line, tag))
			return 1;
	}
}

/* Lets a stop cut short a login in progress. */
static int idle_progress_cb(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return idle_stopping(ctx) ? 1 : 0;
}

static CURL *idle_easy(struct idle *w)
{
	CURL *e = curl_easy_init();
	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, w->url);
	curlopt_set_login(e, &w->login);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, idle_progress_cb);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)w->timeout_s);
	return e;
}

/* On a logged-in connection: checks IDLE, EXAMINEs, then IDLEs until
   failure or stop. Returns 2 unsupported, 0 stopped, -1 failed. */
static int idle_run(struct idle *w, struct idle_conn *c)
{
	bool stop = false, has_idle = false;
	int r = idle_command(w, c, "CAPABILITY", &has_idle, &stop);
	if (r > 0 && !has_idle)
		return 2;
	g_autofree char *examine = g_strdup_printf("EXAMINE %s", w->folder_q);
	if (r > 0)
		r = idle_command(w, c, examine, NULL, &stop);
	while (r > 0)
		r = idle_sit(w, c, &stop);
	if (!stop && r != 0)
		return -1;
	idle_send(c, "DONE\r\n");
	idle_send(c, "W0 LOGOUT\r\n");
	return 0;
}

/* One connection: log in, then idle_run. Returns as idle_run (why_r set on
   failure). */
static int idle_session(struct idle *w, char **why_r)
{
	struct idle_conn *c = g_new0(struct idle_conn, 1);
	int rc = -1;
	c->easy = idle_easy(w);
	CURLcode cr = c->easy != NULL ? curl_easy_perform(c->easy) : CURLE_OUT_OF_MEMORY;
	if (cr != CURLE_OK)
		*why_r = g_strdup_printf("IDLE connection: %s", curl_easy_strerror(cr));
	else if (curl_easy_getinfo(c->easy, CURLINFO_ACTIVESOCKET, &c->sock) != CURLE_OK ||
		 c->sock == CURL_SOCKET_BAD)
		*why_r = g_strdup("IDLE connection: no socket");
	else if ((rc = idle_run(w, c)) < 0)
		*why_r = g_strdup("IDLE connection lost");
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	g_free(c);
	return rc;
}

static void idle_thread(void *arg)
{
	struct idle *w = arg;
	unsigned failures = 0;
	while (!idle_stopping(w)) {
		char *why = NULL;
		int rc = idle_session(w, &why);
		if (rc == 2) {
			idle_post(w, IDLE_UNSUPPORTED, NULL);
			return;
		}
		if (rc == 0)
			return;
		failures++;
		idle_post(w, IDLE_LOST, why);
		g_free(why);
		unsigned s = MIN(IDLE_BACKOFF_MAX_S, 2u << MIN(failures, 8u));
		if (idle_wait(w, -1, (int)(s * 1000)) < 0)
			return;
	}
}

static void idle_secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		g_free(s);
	}
}

static void idle_free_cb(uv_handle_t *h)
{
	struct idle *w = h->data;
	g_mutex_clear(&w->lock);
	g_free(w->why);
	g_free(w->url);
	g_free(w->folder_q);
	g_free(w->user);
	idle_secret_free(w->password);
	idle_secret_free(w->token);
	g_free(w->ca_file);
	g_free(w);
}

struct idle *idle_start(uv_loop_t *loop, const struct idle_params *p, idle_fn fn, void *ctx)
{
	struct idle *w = g_new0(struct idle, 1);
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		g_free(w);
		return NULL;
	}
	g_mutex_init(&w->lock);
	w->fn = fn;
	w->ctx = ctx;
	w->url = g_strdup(p->url);
	w->folder_q = g_strdup(p->folder_q);
	w->user = g_strdup(p->login.user);
	w->password = g_strdup(p->login.password);
	w->token = g_strdup(p->login.token);
	w->ca_file = g_strdup(p->login.ca_file);
	w->timeout_s = MAX(p->login.timeout_s, 1u);
	w->login = (struct curlopt_login){
		.user = w->user, .password = w->password, .token = w->token,
		.ca_file = w->ca_file, .tls_verify = p->login.tls_verify,
		.starttls = p->login.starttls, .timeout_s = w->timeout_s,
	};
	uv_async_init(loop, &w->async, idle_async_cb);
	w->async.data = w;
	w->started = uv_thread_create(&w->thread, idle_thread, w) == 0;
	if (!w->started) {
		idle_stop(w);
		return NULL;
	}
	return w;
}

void idle_stop(struct idle *w)
{
	if (w == NULL)
		return;
	ssize_t n = write(w->wake[1], "x", 1);
	(void)n;
	if (w->started)
		uv_thread_join(&w->thread);
	close(w->wake[0]);
	close(w->wake[1]);
	uv_close((uv_handle_t *)&w->async, idle_free_cb);
}
