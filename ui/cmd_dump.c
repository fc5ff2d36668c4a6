/* loupe dump: print every thread's stack once, like py-spy dump; with
 * --tasks, the asyncio task tree with each task's await chain, like
 * `python -m asyncio pstree` (ui/report/dump_output.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dump_output.h"
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
	"      --no-demangle    C++ and Rust names as mangled in the binary\n"
	"      --blocking       pause the process while reading (consistent)\n"
	"      --nonblocking    never pause the process (default)\n"
	"      --tasks          asyncio: the task tree, each task's await chain\n"
	"                       and the stack of the running task\n"
	"      --subprocesses   every descendant process too\n"
	"  -l, --locals         each Python frame's local variables: None, bool,\n"
	"                       int, float, short str and bytes as values; other\n"
	"                       objects by type, length and address\n"
	"      --format F       text (default) or json\n"
	"\n"
	"py-spy's spellings work too: --json, -n (--native), -s.\n";

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
	if (dump_write_locals(stdout, s, t, p, o.tasks, o.json,
			      o.locals, &err) != LP_OK) {
		fflush(stdout);
		cli_error("%s", err.msg);
		goto out;
	}
	/* task mode could not go on: said after the plain stacks */
	if (o.tasks || o.json)
		session_warn(s);
	status = 0;
out:
	fflush(stdout);
	sampler_free(s);
	profile_free(p);
	if (t)
		target_free(t, false);
	return status;
}
