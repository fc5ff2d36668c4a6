/* loupe report: convert or summarize a .loupe recording. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "formats/formats.h"
#include "options.h"
#include "profile.h"

static const char usage[] =
	"usage: loupe report FILE.loupe [--format F] [-o OUT] [OPTIONS]\n"
	"\n"
	"Converts a raw recording to another format (to OUT, or collapsed stacks\n"
	"on stdout), or without --format and -o prints the top functions.\n"
	"\n"
	"  -o, --output OUT     where to write (format from the extension)\n"
	"      --format F       collapsed, flamegraph, speedscope, chrome, pprof,\n"
	"                       pstats or loupe\n"
	"      --mode M         wall, cpu or gil (default: the recording's)\n"
	"      --threads        a root frame per thread\n"
	"      --idle           keep idle samples in cpu mode\n"
	"      --no-lines       aggregate by function, not by line\n";

/* Top functions by own weight under the chosen mode. */
static int print_summary(const profile *p, const struct cli_opts *o)
{
	struct profile_func_stats *fs;
	size_t n;
	if (profile_func_stats(p, !o->no_lines, &fs, &n) != LP_OK) {
		cli_error("out of memory");
		return 1;
	}
	bool cpu = o->mode == MODE_CPU;
	uint64_t total = 0;
	size_t na;
	const struct profile_agg *a = profile_aggs(p, &na);
	for (size_t i = 0; i < na; i++)
		total += cpu ? a[i].cpu_samples : a[i].samples;
	/* Selection of the top 25 by own weight, ties by total. */
	for (size_t i = 0; i < n && i < 25; i++) {
		size_t best = i;
		for (size_t j = i + 1; j < n; j++) {
			uint64_t bj = cpu ? fs[j].own_cpu_samples : fs[j].own_samples;
			uint64_t bb = cpu ? fs[best].own_cpu_samples : fs[best].own_samples;
			uint64_t tj = cpu ? fs[j].total_cpu_samples : fs[j].total_samples;
			uint64_t tb = cpu ? fs[best].total_cpu_samples : fs[best].total_samples;
			if (bj > bb || (bj == bb && tj > tb))
				best = j;
		}
		struct profile_func_stats tmp = fs[i];
		fs[i] = fs[best];
		fs[best] = tmp;
	}
	printf("%s samples: %llu\n\n  %%Own  %%Total  Function\n", cpu ? "CPU" : "Wall",
	       (unsigned long long)total);
	for (size_t i = 0; i < n && i < 25; i++) {
		uint64_t own = cpu ? fs[i].own_cpu_samples : fs[i].own_samples;
		uint64_t tot = cpu ? fs[i].total_cpu_samples : fs[i].total_samples;
		if (!tot)
			break;
		char name[1024];
		format_frame(p, fs[i].frame, !o->no_lines, name, sizeof name);
		printf("%6.1f  %6.1f  %s\n", total ? 100.0 * own / total : 0.0,
		       total ? 100.0 * tot / total : 0.0, name);
	}
	free(fs);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct cli_opts o;
	int rc = cli_parse(argc, argv, OPT_OUTPUT | OPT_SHAPE, usage, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1) {
		cli_error("give exactly one recording to report on (see 'loupe report --help')");
		return 2;
	}
	if (o.output && o.format == FORMAT_NONE) {
		o.format = format_from_path(o.output);
		if (o.format == FORMAT_NONE) {
			cli_error("cannot tell the format of '%s' from its extension: give --format", o.output);
			return 2;
		}
	}
	profile *p = profile_new();
	if (!p) {
		cli_error("out of memory");
		return 1;
	}
	int status = 1;
	lp_error err = { 0 };
	struct raw_read_info info = { 0 };
	if (raw_read_file(o.args[0], p, &info, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (info.truncated)
		cli_error("warning: %s ends inside a record (cut off while written); reporting what precedes it", o.args[0]);
	if (!o.mode_set) {
		const char *m = profile_meta(p, "mode");
		if (!m || format_mode_from_name(m, &o.mode) != 0)
			o.mode = MODE_CPU;
	}
	struct output_opts oo = cli_output_opts(&o);
	if (o.output) {
		if (format_write_file(p, o.format, o.output, &oo, &err) != LP_OK) {
			cli_error("%s", err.msg);
			goto out;
		}
	} else if (o.format == FORMAT_COLLAPSED) {
		if (collapsed_write(p, stdout, &oo) != LP_OK || fflush(stdout) != 0) {
			cli_error("cannot write to stdout");
			goto out;
		}
	} else if (o.format != FORMAT_NONE) {
		cli_error("format %s needs an output file: give -o FILE", format_name(o.format));
		status = 2;
		goto out;
	} else if (print_summary(p, &o)) {
		goto out;
	}
	status = 0;
out:
	profile_free(p);
	return status;
}
