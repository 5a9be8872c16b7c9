/* Loop protection: who never gets a notice; see notify.h. The per-address
   daily limit is counted by the store (store_outbox_queue) inside the
   transaction that would queue one more.
   SECURITY: the address comes from hostile mail; it is used only if it has
   the strict shape checked here. */
#include "notify/notify.h"

#include <string.h>

bool notify_address_valid(const char *a)
{
	if (a == NULL)
		return false;
	size_t len = strlen(a);
	const char *at = strrchr(a, '@');
	if (len < 3 || len > 254 || at == NULL || at == a || at[1] == '\0' || at - a > 64)
		return false;
	for (const char *p = a; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"", c) != NULL ||
		    (c == '@' && p != at))
			return false;
	}
	const char *dom = at + 1;
	return dom[0] != '.' && dom[0] != '-' && strstr(dom, "..") == NULL &&
	       dom[strlen(dom) - 1] != '.' && strchr(dom, '.') != NULL;
}

/* Local parts that belong to machines, not people (compared without case,
   with '-', '_' and '.' ignored, so "no-reply", "no_reply" and "NoReply" are
   one). A prefix match also catches "bounces+abc", "noreply-alerts".
   Called only with a valid address (it has an '@'). */
static bool notify_machine_local(const char *address)
{
	static const char *const exact[] = { "mailerdaemon", "postmaster", "mailer", "daemon",
					     "root", "abuse", "listserv", "majordomo", NULL };
	static const char *const prefixes[] = { "noreply", "donotreply", "dontreply", "bounce",
						"mailerdaemon", "autoreply", "autoresponder", NULL };
	g_autofree char *raw = g_ascii_strdown(address, (gssize)(strrchr(address, '@') - address));
	GString *local = g_string_new(NULL);
	for (const char *p = raw; *p != '\0'; p++)
		if (*p != '-' && *p != '_' && *p != '.')
			g_string_append_c(local, *p);
	/* mailing-list conventions: owner-LIST, LIST-request */
	bool machine = g_strv_contains(exact, local->str) || g_str_has_prefix(raw, "owner-") ||
		       g_str_has_suffix(raw, "-request");
	for (size_t i = 0; !machine && prefixes[i] != NULL; i++)
		machine = g_str_has_prefix(local->str, prefixes[i]);
	g_string_free(local, TRUE);
	return machine;
}

static bool notify_is_own(const char *address, const char *const *own)
{
	for (size_t i = 0; own != NULL && own[i] != NULL; i++)
		if (g_ascii_strcasecmp(address, own[i]) == 0)
			return true;
	return false;
}

const char *notify_guard_refuses(const char *address, const char *auto_submitted,
				 const char *const *own)
{
	if (auto_submitted != NULL) {
		if (strcmp(auto_submitted, "bounce") == 0)
			return "the message is a bounce";
		if (strcmp(auto_submitted, "list") == 0)
			return "the message came from a mailing list";
		if (strcmp(auto_submitted, "own_notice") == 0)
			return "the message is one of our own notices";
		return "the message is an automatic reply";
	}
	if (address == NULL || *address == '\0')
		return "null sender: no address to answer";
	if (!notify_address_valid(address))
		return "the address is not a plain addr-spec";
	if (notify_is_own(address, own))
		return "the address is one of our own";
	if (notify_machine_local(address))
		return "the address belongs to a mail system (MAILER-DAEMON, postmaster, noreply ...)";
	return NULL;
}
