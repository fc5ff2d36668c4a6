#include "session.h"

#include <string.h>

#include "formats/formats.h"

volatile sig_atomic_t session_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	session_stop = 1;
}

void session_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the sampler's sleep must end at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int session_open_target(const struct cli_opts *o, target **out)
{
	lp_error err = { 0 };
	if (!o->cmd && target_pid_is_self(o->pid)) {
		cli_error("cannot attach to PID %d: it is this loupe itself; "
			  "give the PID of the program to profile", (int)o->pid);
		return 1;
	}
	int rc = o->cmd ? target_spawn(out, o->cmd, &err)
			: target_attach(out, o->pid, &err);
	if (rc != LP_OK) {
		cli_error("%s", err.msg[0] ? err.msg : lp_strerror(rc));
		return 1;
	}
	return 0;
}

static void print_notice(void *ctx, const char *msg)
{
	(void)ctx;
	cli_error("warning: %s", msg);
}

void session_sampler_opts(const struct cli_opts *o, struct sampler_opts *so)
{
	*so = (struct sampler_opts){
		.rate_hz = o->rate,
		.duration_s = o->duration,
		.native = o->native,
		.blocking = o->blocking,
		.skip_idle = o->mode == MODE_CPU && !o->idle && !o->keep_all,
		.cpu_each_tick = o->mode == MODE_CPU || o->keep_all,
		.tasks = o->tasks || o->tasks_auto,
		.subprocesses = o->subprocesses,
		.no_demangle = o->no_demangle,
		.notice = o->quiet ? NULL : print_notice,
	};
}

int session_open_sampler(const struct cli_opts *o, target *t, profile *p,
			 sampler **out)
{
	struct sampler_opts so;
	session_sampler_opts(o, &so);
	lp_error err = { 0 };
	int rc = sampler_new(out, t, p, &so, &err);
	if (rc != LP_OK && !target_alive(t)) {
		cli_error("PID %d exited before the first sample", (int)target_pid(t));
		return 1;
	}
	if (rc != LP_OK) {
		cli_error("%s", err.msg[0] ? err.msg : lp_strerror(rc));
		return 1;
	}
	/* Task mode turned on by the command, not asked for: quietly off
	 * where there are no tasks to read. */
	if (o->tasks || !o->tasks_auto)
		session_warn(*out);
	return 0;
}

int session_check_output(const struct cli_opts *o)
{
	lp_error err = { 0 };
	if (output_check(o->output, o->follow ? OUTPUT_FOLLOW : 0, &err) != LP_OK) {
		cli_error("%s", err.msg);
		return 1;
	}
	return 0;
}

void session_warn(sampler *s)
{
	const char *w = sampler_warning(s);
	if (w)
		cli_error("warning: %s", w);
}

int session_output_open(struct session_output *so, const struct cli_opts *o)
{
	so->w = NULL;
	if (o->format != FORMAT_RAW)
		return 0;
	lp_error err = { 0 };
	if (raw_writer_open_flags(&so->w, o->output,
				  o->follow ? OUTPUT_FOLLOW : 0, &err) != LP_OK) {
		cli_error("%s", err.msg);
		return 1;
	}
	return 0;
}

int session_output_write(struct session_output *so, const profile *p,
			 const struct cli_opts *o, const struct output_opts *oo,
			 lp_error *err)
{
	int rc = so->w ? raw_writer_close(so->w, p, err)
		       : format_write_file(p, o->format, o->output, oo, err);
	so->w = NULL;
	return rc;
}

void session_output_abort(struct session_output *so)
{
	if (so->w)
		raw_writer_abort(so->w);
	so->w = NULL;
}
