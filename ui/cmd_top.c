/* loupe top: the command.  Opens the target and its sampler as the other
 * sampling commands do, hands them to the live view (ui/top/top_view.c),
 * and writes the recording (-o) when the view ends. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "formats/formats.h"
#include "options.h"
#include "profile.h"
#include "sampler.h"
#include "session.h"
#include "top_model.h"
#include "top_view.h"

static const char usage[] =
	"usage: loupe top [OPTIONS] (-p PID | -- CMD [ARGS...])\n"
	"\n"
	"A live view of where a process spends its time, refreshed every second:\n"
	"one row per function with its own and total share of wall and CPU time.\n"
	"\n"
	"  -p, --pid PID        attach to a running process\n"
	"  -r, --rate HZ        samples per second per thread (default 100)\n"
	"  -d, --duration S     stop sampling after S seconds, at most a year (the\n"
	"                       view stays)\n"
	"      --mode M         wall, cpu or gil: what the first columns show\n"
	"                       (default wall; keys w, c, g switch)\n"
	"      --native         sample native (C) frames too (key n hides them)\n"
	"      --no-demangle    C++ and Rust names as mangled in the binary\n"
	"      --blocking       pause the process while reading (consistent)\n"
	"      --nonblocking    never pause the process (default)\n"
	"      --threads        start with a row per function and thread\n"
	"      --tasks          asyncio: sample every task's await chain; key a\n"
	"                       shows coroutines by wall time with task counts\n"
	"      --subprocesses   also every descendant process; key p shows a\n"
	"                       row per process\n"
	"      --merge-processes  rows of the same function in several processes\n"
	"                       add up (and so do those of -o FILE)\n"
	"      --no-lines       start aggregated by function, not by line\n"
	"      --sort COLUMN    sort by OwnWall, TotWall, OwnCPU, TotCPU, OwnGIL,\n"
	"                       TotGIL, OwnSecs or TotSecs (default: the own\n"
	"                       share of the mode, which follows w, c and g),\n"
	"                       or GrowKiB or FreeKiB (the memory column)\n"
	"      --memory         show the memory column (key m): KiB of RSS grown\n"
	"                       and freed while each row's stacks ran\n"
	"  -o, --output FILE    also write the recording to FILE on exit\n"
	"      --format F       format of FILE (default: from its extension)\n"
	"      --follow         -o may be a symbolic link: write to its target\n"
	"                       (refused without it)\n"
	"\n"
	"Keys: 1-6 or < > sort column, w/c/g mode, m memory, a tasks (--tasks),\n"
	"t rows per thread, T thread filter, p rows per process, n native\n"
	"frames, l line numbers, / filter, Esc clear the filter, space pause,\n"
	"r reset, x trends (sort by the change over 10 s, a 60 s sparkline),\n"
	"s snapshot (what is shown, to loupe-PID-TIME.EXT in --format),\n"
	"arrows, PgUp/PgDn, Home/End scroll, ? or h help (every key),\n"
	"q quit (the target runs on).\n"
	"Columns by width: 120+ adds a file:line column, under 96 the seconds\n"
	"go, under 76 the other metric's shares (see loupe(1)).\n"
	"A command started with -- has its input and output on /dev/null.\n"
	"Without a terminal that can place the cursor (TERM=dumb, output to a\n"
	"pipe) top prints the table every second instead, until Ctrl-C.\n";

/* A command's output would draw over the view and its reads would steal
 * our keys: it gets /dev/null for all three. */
static int spawn_quiet(const struct cli_opts *o, target **t)
{
	int saved[3] = { -1, -1, -1 };
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	lp_error err = { 0 };
	int rc = -1;
	if (null < 0) {
		cli_error("cannot open /dev/null: %s", strerror(errno));
		return 1;
	}
	for (int fd = 0; fd < 3; fd++) {
		saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (saved[fd] < 0 || dup2(null, fd) < 0)
			goto restore;
	}
	rc = target_spawn(t, o->cmd, &err);
restore:
	for (int fd = 0; fd < 3; fd++)
		if (saved[fd] >= 0) {
			dup2(saved[fd], fd);
			close(saved[fd]);
		}
	close(null);
	if (rc == -1) {
		cli_error("cannot redirect the command's output: %s", strerror(errno));
		return 1;
	}
	if (rc != LP_OK) {
		cli_error("%s", err.msg[0] ? err.msg : lp_strerror(rc));
		return 1;
	}
	return 0;
}


int cmd_top(int argc, char **argv)
{
	struct cli_opts o = { 0 };
	struct top_session ts = { .o = &o };
	int status = 1;
	int rc = cli_parse(argc, argv, OPT_TARGET | OPT_SAMPLING | OPT_OUTPUT | OPT_SHAPE | OPT_TASKS |
			   OPT_SUBPROC | OPT_PROCESSES | OPT_SORT, usage, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.mode_set)
		o.mode = MODE_WALL;
	struct top_view_opts check = { .mode = o.mode };
	if (o.sort && top_sort_by_name(&check, o.sort) != 0) {
		cli_error("unknown --sort column '%s': use OwnWall, TotWall, OwnCPU, TotCPU, OwnGIL, TotGIL, OwnSecs, TotSecs, GrowKiB or FreeKiB (see 'loupe top --help')", o.sort);
		return 2;
	}
	if (o.output) {
		if (o.format == FORMAT_NONE)
			o.format = format_from_path(o.output);
		if (o.format == FORMAT_NONE) {
			cli_error("cannot tell the format of '%s' from its extension: give --format (see 'loupe top --help')", o.output);
			return 2;
		}
		if (session_check_output(&o))
			return 1;
	}
	setlocale(LC_ALL, "");
	ts.use_screen = top_can_use_screen();
	session_catch_signals();
	if (o.cmd ? spawn_quiet(&o, &ts.t) : session_open_target(&o, &ts.t))
		goto out;
	ts.p = profile_new();
	if (!ts.p) {
		cli_error("out of memory");
		goto out;
	}
	/* The sampler takes every thread whatever the mode, since the mode
	 * can change on screen. */
	struct cli_opts so = o;
	so.mode = MODE_WALL;
	so.quiet = true;	/* the header shows missed samples instead */
	if (session_open_sampler(&so, ts.t, ts.p, &ts.s))
		goto out;
	session_set_meta(ts.p, &o, ts.t, ts.s);
	if (top_view_run(&ts))
		goto out;
	status = ts.sampler_rc == LP_OK ? 0 : 1;
	if (ts.sampler_rc != LP_OK)
		cli_error("%s", ts.sampler_err.msg);

	if (o.output) {
		lp_error err = { 0 };
		struct output_opts oo = cli_output_opts(&o);
		if (format_write_file(ts.p, o.format, o.output, &oo, &err) != LP_OK) {
			cli_error("%s", err.msg);
			status = 1;
		} else if (!o.quiet) {
			fprintf(stderr, "loupe: wrote %s\n", o.output);
		}
	}
out:
	sampler_free(ts.s);
	profile_free(ts.p);
	if (ts.t)
		target_free(ts.t, true);
	return status;
}
