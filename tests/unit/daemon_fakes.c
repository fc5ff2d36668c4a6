/* Test servers for tests/functional/test_daemon_parts.py, built from the
 * real ctl server and HTTP endpoint with fake answers (the sampling loop
 * behind them is not in this program):
 *
 *   daemon_fakes ctl SOCKET   a ctl server: "echo ARGS" prints them, "file
 *                             ARGS" sends them back as a file, "may PID"
 *                             applies the SO_PEERCRED rule, "stop" exits;
 *                             anything else is an unknown command (2)
 *   daemon_fakes http ADDR TOKEN_FILE
 *                             the HTTP endpoint (token from the file):
 *                             /metrics a fixed text, the profile of PID 404 missing, of PID 403
 *                             forbidden, else a pprof profile whose hot
 *                             function is hot_function, after `seconds`
 *
 * Each prints "ready" (http: "port PORT" first) once it serves, and runs
 * until stopped (ctl "stop", SIGTERM for http). */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_server.h"
#include "daemon_http.h"
#include "formats/formats.h"
#include "profile.h"

static int stop;

static void ctl_handler_fn(void *ctx, const struct ctl_peer *peer,
			   const struct ctl_request *req, struct ctl_reply *r)
{
	char buf[4096] = "";
	for (int i = 1; i < req->argc; i++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i > 1 ? " " : "", req->argv[i]);
	if (strcmp(req->argv[0], "echo") == 0) {
		ctl_reply_text(r, 0, "%s", buf);
	} else if (strcmp(req->argv[0], "file") == 0) {
		size_t n = strlen(buf);
		uint8_t *d = malloc(n + 1);
		memcpy(d, buf, n + 1);
		ctl_reply_file(r, d, n);
	} else if (strcmp(req->argv[0], "may") == 0 && req->argc == 2) {
		char why[256];
		int rc = ctl_peer_may_act(peer, (pid_t)atoi(req->argv[1]), why, sizeof why);
		if (rc)
			ctl_reply_text(r, 1, "%s", why);
		else
			ctl_reply_text(r, 0, "allowed: uid %u may act on %s", (unsigned)peer->uid, req->argv[1]);
	} else if (strcmp(req->argv[0], "stop") == 0) {
		stop = 1;
		ctl_reply_text(r, 0, "stopping");
	} else {
		ctl_reply_text(r, 2, "unknown command '%s' (try echo, file, may, stop)", req->argv[0]);
	}
}

static int run_ctl(const char *path)
{
	ctl_server *s;
	lp_error err = { 0 };
	if (ctl_server_new(&s, path, 0666, (gid_t)-1, ctl_handler_fn, NULL, &err)) {
		fprintf(stderr, "daemon_fakes: %s\n", err.msg);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd fds[1 + CTL_MAX_CLIENTS];
		size_t n = ctl_server_pollfds(s, fds, 1 + CTL_MAX_CLIENTS);
		int t = ctl_server_timeout_ms(s);
		if (poll(fds, n, t < 0 ? 1000 : t) < 0)
			continue;
		ctl_server_handle(s, fds, n);
	}
	/* let the last reply go out */
	for (int i = 0; i < 20; i++) {
		struct pollfd fds[1 + CTL_MAX_CLIENTS];
		size_t n = ctl_server_pollfds(s, fds, 1 + CTL_MAX_CLIENTS);
		if (n == 1)
			break;
		poll(fds, n, 50);
		ctl_server_handle(s, fds, n);
	}
	ctl_server_free(s);
	return 0;
}

static char *metrics(void *ctx)
{
	return strdup("# HELP loupe_samples_total Samples taken per target.\n"
		      "# TYPE loupe_samples_total counter\n"
		      "loupe_samples_total{pid=\"1\",name=\"fake\"} 42\n"
		      "# HELP loupe_daemon_cpu_ratio The daemon's own CPU use.\n"
		      "# TYPE loupe_daemon_cpu_ratio gauge\n"
		      "loupe_daemon_cpu_ratio 0.004\n");
}

/* A profile in which hot_function holds 3 samples in 4. */
static int profile_begin(void *ctx, const struct daemon_http_query *q, lp_error *err)
{
	pid_t pid = q->pid;
	if (pid == 404)
		return lp_error_set(err, LP_ENOPROC, "no process %d", (int)pid);
	if (pid == 403)
		return lp_error_set(err, LP_EPERM, "permission denied: process %d", (int)pid);
	return LP_OK;
}

static int profile_fn(void *ctx, const struct daemon_http_query *q, time_t since,
		      uint8_t **data, size_t *len, lp_error *err)
{
	pid_t pid = q->pid;
	profile *p = profile_new();
	struct frame main_f = { .kind = FRAME_PYTHON, .func = profile_intern_cstr(p, "main"),
				.file = profile_intern_cstr(p, "fake.py"), .line = 1 };
	struct frame hot_f = { .kind = FRAME_PYTHON, .func = profile_intern_cstr(p, "hot_function"),
			       .file = profile_intern_cstr(p, "fake.py"), .line = 5 };
	uint32_t fr[2] = { profile_intern_frame(p, &main_f), profile_intern_frame(p, &hot_f) };
	uint32_t hot = profile_intern_stack(p, fr, 2), cold = profile_intern_stack(p, fr, 1);
	for (int i = 0; i < 400; i++) {
		struct sample s = { .time_ns = (uint64_t)i * 10000000, .pid = pid, .tid = pid,
				    .stack = i % 4 ? hot : cold, .flags = SAMPLE_ON_CPU,
				    .cpu_ns = 10000000 };
		profile_add_sample(p, &s);
	}
	profile_set_meta(p, "rate", "100");
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	struct output_opts o = { .mode = MODE_CPU, .lines = true };
	int rc = f ? pprof_write(p, f, &o) : LP_ENOMEM;
	if (f)
		fclose(f);
	profile_free(p);
	if (rc) {
		free(buf);
		return lp_error_set(err, rc, "cannot write the profile");
	}
	*data = (uint8_t *)buf;
	*len = n;
	return LP_OK;
}

static void on_term(int sig)
{
	stop = 1;
}

static int run_http(const char *addr, const char *token_file)
{
	struct daemon_http_ops ops = { .metrics = metrics, .profile_begin = profile_begin,
				       .profile = profile_fn };
	struct daemon_http_cfg cfg = { .listen = addr, .token_file = token_file };
	daemon_http *h;
	lp_error err = { 0 };
	if (daemon_http_start(&h, &cfg, &ops, &err)) {
		fprintf(stderr, "daemon_fakes: %s\n", err.msg);
		return 1;
	}
	signal(SIGTERM, on_term);
	printf("port %u\nready\n", daemon_http_port(h));
	fflush(stdout);
	while (!stop)
		pause();
	daemon_http_stop(h);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "ctl") == 0)
		return run_ctl(argv[2]);
	if (argc == 4 && strcmp(argv[1], "http") == 0)
		return run_http(argv[2], argv[3]);
	fprintf(stderr, "usage: daemon_fakes ctl SOCKET | http ADDR:PORT TOKEN_FILE\n");
	return 2;
}
