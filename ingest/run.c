/* `intake run`: the loop, the curl multi glue, signals and reload; see run.h.
   Shape: libcurl's multi interface driven by uv_poll (one per socket curl
   asks for) and one uv_timer (curl's timeout); every source runs on this one
   thread, store writes included. The outbox drainer alone runs on libuv's
   thread pool (uv_queue_work) with a store connection of its own: an SMTP
   exchange blocks (libcurl easy), up to [smtp] timeout, and a backlog of
   notices takes seconds, during which the mailboxes, the drop folders and
   the signals go on. It touches nothing of the loop's; the configuration
   it reads is replaced (SIGHUP) only while no drain runs. */
#include "ingest/run.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/config.h"
#include "core/log.h"
#include "ingest/dropdir.h"
#include "ingest/imap.h"
#include "ingest/ingest.h"
#include "notify/notify.h"

#define RUN_EXIT_DEADLINE_MS 4500   /* SIGTERM: exit within 5 s */
#define RUN_DRAIN_GRACE_MS 3000     /* SIGTERM: an SMTP exchange in hand may finish within
				       this, then it is abandoned (the notice is tried again) */

/* ---- libcurl multi on libuv ---- */

struct run_curl {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	GHashTable *socks;       /* struct run_curl_sock* */
};

struct run_curl_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct run_curl *rc;
};

struct run_curl_job {
	run_curl_done_fn done;
	void *ctx;
};

static void run_curl_sock_closed(uv_handle_t *h)
{
	g_free(h->data);
}

static void run_curl_sock_close(struct run_curl *rc, struct run_curl_sock *k)
{
	g_hash_table_remove(rc->socks, k);
	uv_close((uv_handle_t *)&k->poll, run_curl_sock_closed);
}

/* Reports every finished transfer to its owner. */
static void run_curl_check(struct run_curl *rc)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(rc->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct run_curl_job *job = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&job);
		curl_multi_remove_handle(rc->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (job != NULL) {
			struct run_curl_job j = *job;
			g_free(job);
			j.done(easy, result, j.ctx);
		}
	}
}

static void run_curl_poll_cb(uv_poll_t *p, int status, int events)
{
	struct run_curl_sock *k = p->data;
	struct run_curl *rc = k->rc;
	int flags = 0, running = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(rc->multi, k->fd, flags, &running);
	run_curl_check(rc);
}

static int run_curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct run_curl *rc = userp;
	struct run_curl_sock *k = socketp;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (k != NULL) {
			curl_multi_assign(rc->multi, s, NULL);
			run_curl_sock_close(rc, k);
		}
		return 0;
	}
	if (k == NULL) {
		k = g_new0(struct run_curl_sock, 1);
		k->fd = s;
		k->rc = rc;
		if (uv_poll_init_socket(rc->loop, &k->poll, s) < 0) {
			g_free(k);
			return -1;
		}
		k->poll.data = k;
		g_hash_table_add(rc->socks, k);
		curl_multi_assign(rc->multi, s, k);
	}
	int ev = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
	uv_poll_start(&k->poll, ev, run_curl_poll_cb);
	return 0;
}

static void run_curl_timeout_cb(uv_timer_t *t)
{
	struct run_curl *rc = t->data;
	int running = 0;
	curl_multi_socket_action(rc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	run_curl_check(rc);
}

static int run_curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct run_curl *rc = userp;
	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&rc->timer);
	else
		uv_timer_start(&rc->timer, run_curl_timeout_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

static struct run_curl *run_curl_new(uv_loop_t *loop)
{
	struct run_curl *rc = g_new0(struct run_curl, 1);
	rc->loop = loop;
	rc->multi = curl_multi_init();
	rc->socks = g_hash_table_new(g_direct_hash, g_direct_equal);
	uv_timer_init(loop, &rc->timer);
	rc->timer.data = rc;
	curl_multi_setopt(rc->multi, CURLMOPT_SOCKETFUNCTION, run_curl_socket_cb);
	curl_multi_setopt(rc->multi, CURLMOPT_SOCKETDATA, rc);
	curl_multi_setopt(rc->multi, CURLMOPT_TIMERFUNCTION, run_curl_timer_cb);
	curl_multi_setopt(rc->multi, CURLMOPT_TIMERDATA, rc);
	return rc;
}

int run_curl_start(struct run_curl *rc, CURL *easy, run_curl_done_fn done, void *ctx)
{
	struct run_curl_job *job = g_new0(struct run_curl_job, 1);
	job->done = done;
	job->ctx = ctx;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, job);
	if (curl_multi_add_handle(rc->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		g_free(job);
		return -1;
	}
	return 0;
}

void run_curl_cancel(struct run_curl *rc, CURL *easy)
{
	struct run_curl_job *job = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&job);
	curl_multi_remove_handle(rc->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	g_free(job);
}

static void run_curl_freed(uv_handle_t *h)
{
	g_free(h->data);
}

/* Closes the cached connections and the handles; the memory goes with the
   timer's close callback. No transfer may be running. */
static void run_curl_close(struct run_curl *rc)
{
	curl_multi_cleanup(rc->multi);
	GList *left = g_hash_table_get_keys(rc->socks);
	for (GList *l = left; l != NULL; l = l->next)
		run_curl_sock_close(rc, l->data);
	g_list_free(left);
	g_hash_table_unref(rc->socks);
	uv_close((uv_handle_t *)&rc->timer, run_curl_freed);
}

/* ---- the runner ---- */

struct run {
	uv_loop_t loop;
	struct run_curl *curl;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t deadline, tick;
	uv_timer_t drain;        /* the outbox drainer, every [notices] drain_interval */
	uv_work_t drain_work;    /* a drain on the thread pool */
	bool draining;           /* drain_work is queued or running */
	bool drain_again;        /* asked for while one ran */
	bool once_drained;       /* --once: the final drain has run */
	atomic_int drain_cancel; /* NOTIFY_CANCEL_*: set by the loop, read by the drain */
	char *drain_error;       /* the drain's store error, for the loop to log */
	const char *config_path;
	struct config *cfg;
	struct ingest *in;
	GPtrArray *mailboxes;    /* struct imap_mailbox* */
	GPtrArray *dropdirs;     /* struct dropdir*, watching (not --once) */
	GPtrArray *dropdirs_stopped;   /* freed once the loop has ended */
	bool once, stopping, reload_pending, closed, any_failed;
};

static void run_shutdown(struct run *r);
static void run_reload(struct run *r);

static void run_tick(struct run *r);

/* On a thread of the pool: the notices due now, through a connection of
   its own (the loop's may hold an open group commit; this one sees only
   what is committed, so no notice leaves before its complaint is durable). */
static void run_drain_work(uv_work_t *w)
{
	struct run *r = w->data;
	GError *err = NULL;
	struct store *st = store_open(r->cfg->store_path, &err);
	if (st != NULL)
		notify_drain_cancellable(st, r->cfg, NULL, &r->drain_cancel, &err);
	store_free(st);
	if (err != NULL) {
		r->drain_error = g_strdup(err->message);
		g_error_free(err);
	}
	/* The pool's threads live until the process ends, and OpenSSL frees
	   what TLS left in a thread (its random generators) only when the
	   thread ends: freed here, made again by the next drain. */
	OPENSSL_thread_stop();
}

static void run_drain_start(struct run *r);

static void run_drain_done(uv_work_t *w, int status)
{
	struct run *r = w->data;
	(void)status;
	r->draining = false;
	if (r->drain_error != NULL) {
		log_error("outbox", "%s", r->drain_error);
		g_clear_pointer(&r->drain_error, g_free);
		r->any_failed = true;
	}
	if (r->drain_again && !r->stopping && !r->closed && !r->reload_pending)
		run_drain_start(r);
	run_tick(r);
}

static void run_drain_start(struct run *r)
{
	r->drain_again = false;
	r->draining = true;
	r->drain_work.data = r;
	uv_queue_work(&r->loop, &r->drain_work, run_drain_work, run_drain_done);
}

/* Queues the responders' digest when its time has come (once a working
   day), then starts a drain of the notices due now unless one runs (it is
   run again after that one). */
static void run_drain(struct run *r)
{
	GError *err = NULL;
	enum notify_remind_result res;
	if (notify_remind(ingest_store(r->in), r->cfg, ingest_calendar(r->in), ingest_timezone(r->in),
			  g_get_real_time() / G_USEC_PER_SEC, false, &res, &err) < 0) {
		log_error("reminder", "%s", err->message);
		g_clear_error(&err);
	}
	if (r->draining)
		r->drain_again = true;
	else
		run_drain_start(r);
}

static void run_drain_cb(uv_timer_t *t)
{
	struct run *r = t->data;
	if (!r->stopping && !r->closed)
		run_drain(r);
}

static bool run_all_idle(const struct run *r)
{
	if (r->draining)
		return false;
	for (guint i = 0; i < r->mailboxes->len; i++)
		if (!imap_idle(r->mailboxes->pdata[i]))
			return false;
	for (guint i = 0; i < r->dropdirs->len; i++)
		if (!dropdir_idle(r->dropdirs->pdata[i]))
			return false;
	return true;
}

static void run_dropdir_idle(struct dropdir *d, void *ctx)
{
	(void)d;
	run_tick(ctx);
}

/* --once: one pass of every drop folder, after the mailboxes' (a pass
   blocks the loop while it reads documents). A store error or a folder that
   cannot be read fails the run; a refused file does not. */
static void run_dropdirs_once(struct run *r)
{
	for (guint i = 0; i < r->cfg->dropdirs->len; i++) {
		GError *err = NULL;
		struct dropdir_stats st = { 0 };
		struct dropdir *d = dropdir_new(NULL, r->in, r->cfg->dropdirs->pdata[i], &err);
		if (d == NULL) {
			log_error("run", "%s", err->message);
			g_error_free(err);
			r->any_failed = true;
			continue;
		}
		if (dropdir_once(d) < 0)
			r->any_failed = true;
		dropdir_get_stats(d, &st);
		if (st.errors > 0)
			r->any_failed = true;
		dropdir_free(d);
	}
}

/* Watchers of every drop folder (not --once). Returns 0 or -1 with error. */
static int run_start_dropdirs(struct run *r, GError **error)
{
	for (guint i = 0; !r->once && i < r->cfg->dropdirs->len; i++) {
		struct dropdir *d = dropdir_new(&r->loop, r->in, r->cfg->dropdirs->pdata[i], error);
		if (d == NULL)
			return -1;
		dropdir_set_idle_cb(d, run_dropdir_idle, r);
		dropdir_start(d);
		g_ptr_array_add(r->dropdirs, d);
	}
	return 0;
}

/* Runs on its own loop iteration, never inside a source's callback (which
   may not be freed under its feet): --once ends when every source has done
   its pass; stopping ends when all are idle; a reload waits for idleness. */
static void run_tick_cb(uv_timer_t *t)
{
	struct run *r = t->data;
	if (r->closed || !run_all_idle(r))
		return;
	if (r->once && !r->stopping && !r->once_drained) {
		run_dropdirs_once(r);
		r->once_drained = true;
		run_drain(r);   /* --once: the outbox after the sources' pass; ticks when done */
		return;
	}
	if (r->once || r->stopping)
		run_shutdown(r);
	else if (r->reload_pending)
		run_reload(r);
}

static void run_tick(struct run *r)
{
	if (!r->closed)
		uv_timer_start(&r->tick, run_tick_cb, 0, 0);
}

static void run_pass_done(struct imap_mailbox *mb, void *ctx)
{
	struct run *r = ctx;
	if (!imap_last_ok(mb))
		r->any_failed = true;
	run_tick(r);
}

/* Checks every mailbox of a configuration. Returns 0 or -1 with error. */
static int run_check_config(const struct config *cfg, GError **error)
{
	for (guint i = 0; i < cfg->imap->len; i++)
		if (imap_check(cfg, cfg->imap->pdata[i], error) < 0)
			return -1;
	return notify_smtp_check(cfg, error);
}

/* Creates and starts the sources of r->cfg. Returns 0 or -1 with error. */
static int run_start_sources(struct run *r, GError **error)
{
	struct imap_env env = { .loop = &r->loop, .curl = r->curl, .ingest = r->in,
				.cfg = r->cfg, .pass_done = run_pass_done, .ctx = r };
	for (guint i = 0; i < r->cfg->imap->len; i++) {
		const struct config_imap *m = r->cfg->imap->pdata[i];
		imap_warn_insecure(m);
		struct imap_mailbox *mb = imap_new(&env, m, error);
		if (mb == NULL)
			return -1;
		g_ptr_array_add(r->mailboxes, mb);
	}
	for (guint i = 0; i < r->mailboxes->len; i++)
		imap_start(r->mailboxes->pdata[i], r->once);

	/* dropdir sources start here */
	if (run_start_dropdirs(r, error) < 0)
		return -1;

	/* outbox drainer starts here */
	if (!r->once)
		uv_timer_start(&r->drain, run_drain_cb, 0,
			       (uint64_t)r->cfg->notices.drain_interval_s * 1000);

	if (r->mailboxes->len == 0 && r->cfg->dropdirs->len == 0)
		log_warn("run", "%s configures no source ([imap NAME] or [dropdir NAME])",
			 r->cfg->path);
	return 0;
}

static void run_stop_sources(struct run *r)
{
	for (guint i = 0; i < r->mailboxes->len; i++)
		imap_free(r->mailboxes->pdata[i]);
	g_ptr_array_set_size(r->mailboxes, 0);
	for (guint i = 0; i < r->dropdirs->len; i++) {
		dropdir_stop(r->dropdirs->pdata[i]);
		g_ptr_array_add(r->dropdirs_stopped, r->dropdirs->pdata[i]);
	}
	g_ptr_array_set_size(r->dropdirs, 0);
}

/* Swaps in the new configuration once every source is idle; a refused one
   keeps the old running. The old store is closed before the new one opens
   (measured: with both open, the new connection's writes were lost). */
static void run_reload(struct run *r)
{
	GError *err = NULL;
	r->reload_pending = false;
	struct config *cfg = config_load(r->config_path, &err);
	if (cfg == NULL || run_check_config(cfg, &err) < 0) {
		log_error("run", "SIGHUP: configuration refused, the old one stays: %s", err->message);
		g_error_free(err);
		config_free(cfg);
		return;
	}
	run_stop_sources(r);
	ingest_free(r->in);
	if ((r->in = ingest_open(cfg, &err)) == NULL) {
		log_error("run", "SIGHUP: %s; the old configuration stays", err->message);
		g_clear_error(&err);
		config_free(cfg);
		r->in = ingest_open(r->cfg, &err);
	} else {
		config_free(r->cfg);
		r->cfg = cfg;
		log_info("run", "SIGHUP: %s reloaded", cfg->path);
	}
	if (r->in == NULL || run_start_sources(r, &err) < 0) {
		log_error("run", "SIGHUP: %s; stopping", err != NULL ? err->message : "no store");
		g_clear_error(&err);
		r->any_failed = true;
		r->stopping = true;
		run_tick(r);
	}
}

static void run_close_cb(uv_handle_t *h)
{
	(void)h;
}

/* Every source is idle (or aborted): close everything; the loop then ends. */
static void run_shutdown(struct run *r)
{
	if (r->closed)
		return;
	r->closed = true;
	run_stop_sources(r);
	run_curl_close(r->curl);
	uv_close((uv_handle_t *)&r->sig_term, run_close_cb);
	uv_close((uv_handle_t *)&r->sig_int, run_close_cb);
	uv_close((uv_handle_t *)&r->sig_hup, run_close_cb);
	uv_close((uv_handle_t *)&r->deadline, run_close_cb);
	uv_close((uv_handle_t *)&r->tick, run_close_cb);
	uv_close((uv_handle_t *)&r->drain, run_close_cb);
}

static void run_deadline_cb(uv_timer_t *t)
{
	struct run *r = t->data;
	log_warn("run", "still busy %d ms after the signal: cancelling the transfers in flight",
		 RUN_EXIT_DEADLINE_MS);
	atomic_store(&r->drain_cancel, NOTIFY_CANCEL_NOW);
	for (guint i = 0; i < r->mailboxes->len && !r->closed; i++)
		imap_abort(r->mailboxes->pdata[i]);
	for (guint i = 0; i < r->dropdirs->len && !r->closed; i++)
		dropdir_abort(r->dropdirs->pdata[i]);
	run_tick(r);
}

static void run_drain_abort_cb(uv_timer_t *t)
{
	struct run *r = t->data;
	atomic_store(&r->drain_cancel, NOTIFY_CANCEL_NOW);
}

static void run_stop(struct run *r, const char *why)
{
	if (r->stopping) {
		run_deadline_cb(&r->deadline);
		return;
	}
	r->stopping = true;
	atomic_store(&r->drain_cancel, NOTIFY_CANCEL_SOON);
	if (!r->closed)
		uv_timer_start(&r->drain, run_drain_abort_cb, RUN_DRAIN_GRACE_MS, 0);
	log_info("run", "%s: finishing the messages in hand, then exiting", why);
	uv_timer_start(&r->deadline, run_deadline_cb, RUN_EXIT_DEADLINE_MS, 0);
	for (guint i = 0; i < r->mailboxes->len; i++)
		imap_stop(r->mailboxes->pdata[i]);
	for (guint i = 0; i < r->dropdirs->len; i++)
		dropdir_stop(r->dropdirs->pdata[i]);
	run_tick(r);
}

static void run_signal_cb(uv_signal_t *s, int signum)
{
	struct run *r = s->data;
	if (signum == SIGHUP) {
		log_info("run", "SIGHUP: reloading %s when the sources are idle", r->config_path);
		r->reload_pending = true;
		run_tick(r);
		return;
	}
	run_stop(r, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void run_signals_init(struct run *r)
{
	uv_signal_t *sigs[] = { &r->sig_term, &r->sig_int, &r->sig_hup };
	const int nums[] = { SIGTERM, SIGINT, SIGHUP };
	for (int i = 0; i < 3; i++) {
		uv_signal_init(&r->loop, sigs[i]);
		sigs[i]->data = r;
		uv_signal_start(sigs[i], run_signal_cb, nums[i]);
		if (r->once)
			uv_unref((uv_handle_t *)sigs[i]);
	}
	uv_timer_init(&r->loop, &r->deadline);
	r->deadline.data = r;
	uv_timer_init(&r->loop, &r->tick);
	r->tick.data = r;
	uv_timer_init(&r->loop, &r->drain);
	r->drain.data = r;
}

/* Runs the loop until it ends; returns the exit code. */
static int run_loop(struct run *r)
{
	GError *err = NULL;
	uv_loop_init(&r->loop);
	r->curl = run_curl_new(&r->loop);
	r->mailboxes = g_ptr_array_new();
	r->dropdirs = g_ptr_array_new();
	r->dropdirs_stopped = g_ptr_array_new_with_free_func((GDestroyNotify)dropdir_free);
	run_signals_init(r);
	int code = RUN_OK;
	if (run_start_sources(r, &err) < 0) {
		log_error("run", "%s", err->message);
		g_error_free(err);
		code = RUN_FAILED;
		run_shutdown(r);
	} else if (r->once && r->mailboxes->len == 0) {
		run_tick(r);
	}
	uv_run(&r->loop, UV_RUN_DEFAULT);
	if (!r->closed)
		run_shutdown(r);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	g_ptr_array_unref(r->dropdirs_stopped);
	g_ptr_array_unref(r->dropdirs);
	if (uv_loop_close(&r->loop) != 0)
		log_error("run", "the loop still had open handles at exit");
	g_ptr_array_unref(r->mailboxes);
	if (code == RUN_OK && r->any_failed && r->once)
		code = RUN_FAILED;
	return code;
}

int run_main(const struct run_settings *s, GError **error)
{
	struct run r = { .config_path = s->config_path, .once = s->once };
	if ((r.cfg = config_load(s->config_path, error)) == NULL)
		return RUN_CONFIG;
	if (run_check_config(r.cfg, error) < 0) {
		config_free(r.cfg);
		return RUN_CONFIG;
	}
	enum log_level level;
	if (log_level_parse(r.cfg->log_level, &level) == 0)
		log_set_level(level);
	if ((r.in = ingest_open(r.cfg, error)) == NULL) {
		config_free(r.cfg);
		return RUN_FAILED;
	}
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int code = run_loop(&r);
	ingest_free(r.in);
	config_free(r.cfg);
	curl_global_cleanup();
	return code;
}
