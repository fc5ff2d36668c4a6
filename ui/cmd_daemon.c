/* loupe daemon: the continuous profiling agent (ui/daemon/daemon.c) in the
 * foreground, until SIGTERM or SIGINT (every window finalized, exit 0);
 * SIGHUP reads the config again.  Logs on stderr (journald under
 * systemd). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "daemon.h"
#include "daemon_config.h"
#include "daemon_engine.h"
#include "options.h"

static const char usage[] =
	"usage: loupe daemon [--config FILE] [--foreground | --check]\n"
	"\n"
	"Profiles the processes the config file names, keeps a raw recording\n"
	"per process and window, and answers 'loupe ctl' (see loupe.conf(5)).\n"
	"Runs in the foreground; SIGTERM or SIGINT ends it after writing every\n"
	"window, SIGHUP reads the config again.\n"
	"\n"
	"  -c, --config FILE    the configuration\n"
	"                       (default: " DAEMON_DEFAULT_CONFIG ")\n"
	"      --foreground     run in the foreground (default, the only way:\n"
	"                       systemd and shells keep it there)\n"
	"      --check          read the configuration, say what it sets and\n"
	"                       exit: 0 when it is valid, 1 with the error\n";

static volatile sig_atomic_t got_stop, got_reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_stop = 1;
}

/* What the daemon would be told by config, without starting it: the
 * check an administrator runs before a reload (as nginx -t, sshd -t). */
static int check_config(const char *config)
{
	struct daemon_config c;
	lp_error err = { 0 };
	unsigned mode;
	gid_t gid;
	if (daemon_config_load(config, &c, &err) != LP_OK) {
		cli_error("%s", err.msg);
		return 1;
	}
	if (daemon_socket_access(&c, &mode, &gid, &err) != LP_OK) {
		cli_error("%s: %s", config, err.msg);
		daemon_config_free(&c);
		return 1;
	}
	printf("%s: valid: dir %s, socket %s (mode %04o), http %s, %zu target section%s",
	       config, c.dir, c.socket, mode, c.http ? c.http : "off",
	       c.ntargets, c.ntargets == 1 ? "" : "s");
	for (size_t i = 0; i < c.ntargets; i++)
		printf("%s%s", i ? ", " : ": ", c.targets[i].name);
	putchar('\n');
	daemon_config_free(&c);
	return 0;
}

int cmd_daemon(int argc, char **argv)
{
	const char *config = DAEMON_DEFAULT_CONFIG;
	bool check = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
			config = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			config = a + 9;
		} else if (strcmp(a, "--foreground") == 0) {
			continue;
		} else if (strcmp(a, "--check") == 0) {
			check = true;
		} else {
			cli_error("%s '%s' (see 'loupe daemon --help')",
				  a[0] == '-' ? "unknown option or missing value" : "unexpected argument", a);
			return 2;
		}
	}
	if (check)
		return check_config(config);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a signal ends the loop's poll at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct daemon_backend be;
	struct daemon_state *d;
	lp_error err = { 0 };
	if (daemon_engine_backend(&be, &err) != LP_OK) {
		cli_error("%s", err.msg);
		return 1;
	}
	if (daemon_new(&d, config, &be, &err) != LP_OK) {
		cli_error("%s", err.msg);
		daemon_engine_free(&be);
		return 1;
	}
	for (;;) {
		if (got_stop)
			daemon_request_stop(d);
		if (got_reload) {
			got_reload = 0;
			daemon_request_reload(d);
		}
		if (!daemon_step(d, 1000))
			break;
	}
	daemon_free(d);
	daemon_engine_free(&be);
	return 0;
}
