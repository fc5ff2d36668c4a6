/* The daemon's configuration parser (ui/daemon/daemon_config.c) on any text: an
 * error names a line, or the result keeps every bound loupe.conf(5)
 * states. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "daemon_config.h"

static void check(const struct daemon_config *c)
{
	if (!c->dir || !c->socket || c->ntargets > DAEMON_CONFIG_MAX_TARGETS ||
	    !(c->window_s > 0) || !isfinite(c->window_s) ||
	    !isfinite(c->retention_age_s) || c->retention_age_s < 0 ||
	    !(c->max_cpu > 0) || !isfinite(c->max_cpu) ||
	    (c->socket_mode != DAEMON_SOCKET_MODE_DEFAULT &&
	     (c->socket_mode & ~07777u)))
		abort();
	if (c->http && strncmp(c->http, "unix:", 5) != 0) {
		char host[64];
		unsigned port;
		if (daemon_parse_listen(c->http, host, sizeof host, &port) ||
		    port > 65535)
			abort();
	}
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct daemon_target_cfg *t = &c->targets[i];
		if (!t->name[0] || strlen(t->name) > DAEMON_TARGET_NAME_MAX ||
		    t->npids > DAEMON_CONFIG_MAX_PIDS ||
		    (!t->npids && !t->exe && !t->cmdline && !t->cgroup &&
		     !t->unit && !t->python) ||
		    !(t->rate > 0) || !isfinite(t->rate) || t->rate > 1000)
			abort();
		for (size_t k = 0; k < t->npids; k++)
			if (t->pids[k] <= 0)
				abort();
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->targets[k].name, t->name) == 0)
				abort();	/* duplicate sections */
	}
}

FUZZ_ONE(daemon_config)
{
	struct daemon_config c;
	lp_error err;
	int rc = daemon_config_parse((const char *)data, size, "fuzz.conf", &c,
				     &err);
	if (getenv("LOUPE_FUZZ_SHOW"))	/* to see what a seed does */
		fprintf(stderr, "%s\n", rc ? err.msg : "parsed");
	if (rc == LP_OK) {
		check(&c);
	} else if (rc == LP_EINVAL) {
		/* "NAME:LINE: what" or a whole-file complaint naming it */
		if (strncmp(err.msg, "fuzz.conf", 9) != 0)
			abort();
	} else if (rc != LP_ENOMEM) {
		abort();
	}
	daemon_config_free(&c);
	return 0;
}
