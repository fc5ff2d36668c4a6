/* loupe dump: print every thread's stack once, like py-spy dump; with
 * --tasks, the asyncio task tree with each task's await chain, like
 * `python -m asyncio pstree` (ui/dump_tasks.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dump_tasks.h"
#include "options.h"
#include "profile.h"
#include "sampler.h"
#include "session.h"

static const char usage[] =
	"usage: loupe dump [OPTIONS] -p PID\n"
	"\n"
	"Prints the current stack of every thread of a process, innermost\n"
	"frame first.\n"
	"\n"
	"  -p, --pid PID        the process\n"
	"      --native         merge native (C) frames with Python frames\n"
	"      --blocking       pause the process while reading (consistent)\n"
	"      --nonblocking    never pause the process (default)\n"
	"      --tasks          asyncio: the task tree, each task's await chain\n"
	"                       and the stack of the running task\n"
	"      --subprocesses   every descendant process too\n"
	"      --format F       text (default) or json\n";

struct dump_ctx {
	profile *p;
	const sampler *s;
	unsigned threads;
	pid_t pid;		/* the process of the last thread printed */
};

static void print_frame(const profile *p, uint32_t id)
{
	const struct frame *f = profile_frame(p, id);
	const char *func = profile_str(p, f->func);
	if (f->kind == FRAME_PYTHON)
		printf("    %s (%s:%d)\n", func, profile_str(p, f->file), f->line);
	else if (f->module && strncmp(func, profile_str(p, f->module),
				      strlen(profile_str(p, f->module))) != 0)
		printf("    %s (%s)\n", func, profile_str(p, f->module));
	else
		printf("    %s\n", func);
}

static void print_thread(void *ctx, const struct sampler_thread_view *v)
{
	struct dump_ctx *d = ctx;
	size_t n;
	const uint32_t *frames = profile_stack(d->p, v->stack, &n);
	if (v->pid != d->pid && sampler_nprocs(d->s) > 1) {
		/* --subprocesses: a header per process, the root's printed
		 * before the snapshot */
		struct sampler_proc_view pv = { 0 };
		for (size_t i = 0; i < sampler_nprocs(d->s); i++) {
			sampler_proc_at(d->s, i, &pv);
			if (pv.pid == v->pid)
				break;
		}
		if (d->pid)
			printf("\nProcess %d: %s (parent %d)\n%s\n", (int)v->pid,
			       pv.comm ? pv.comm : "?", (int)pv.ppid,
			       pv.describe ? pv.describe : "");
		d->threads = 0;
	}
	d->pid = v->pid;
	printf("%sThread %d (%s%s): \"%s\" state %c%s\n", d->threads ? "\n" : "",
	       (int)v->tid, v->flags & SAMPLE_ON_CPU ? "active" : "idle",
	       v->flags & SAMPLE_GIL ? ", gil" : "", v->name, v->state,
	       v->flags & SAMPLE_TRUNCATED ? " [truncated]" : "");
	for (size_t i = n; i-- > 0;)
		print_frame(d->p, frames[i]);
	if (n == 0)
		printf("    (no frames)\n");
	d->threads++;
}

int cmd_dump(int argc, char **argv)
{
	struct cli_opts o;
	int rc = cli_parse(argc, argv, OPT_TARGET | OPT_SAMPLING | OPT_TASKS |
			   OPT_TEXT_JSON | OPT_SUBPROC, usage, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.cmd) {
		cli_error("dump attaches to a running process: give -p PID");
		return 2;
	}
	o.mode = MODE_WALL;
	session_catch_signals();
	target *t = NULL;
	profile *p = NULL;
	sampler *s = NULL;
	int status = 1;
	if (session_open_target(&o, &t))
		goto out;
	p = profile_new();
	if (!p || session_open_sampler(&o, t, p, &s))
		goto out;
	lp_error err = { 0 };
	if (o.tasks || o.json) {
		status = dump_tasks(s, t, p, o.tasks, o.json);
		goto out;
	}
	printf("Process %d: %s\n%s (%s)\n", (int)target_pid(t), target_comm(t),
	       sampler_describe(s), target_exe(t));
	struct dump_ctx d = { p, s, 0, target_pid(t) };
	fflush(stdout);
	if (sampler_snapshot(s, print_thread, &d, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	status = 0;
out:
	fflush(stdout);
	sampler_free(s);
	profile_free(p);
	if (t)
		target_free(t, false);
	return status;
}
