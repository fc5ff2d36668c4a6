/* loupe record --mode memory: samples the target in cpu mode and charges
 * the growth of its resident memory between two ticks to the stacks that
 * ran in between, by each thread's CPU time (profiler/memcharge.c).
 * Writes the growth to -o and the release beside it (NAME.release.EXT),
 * both weighted by bytes. */
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"
#include "memcharge.h"
#include "profile.h"
#include "record_memory.h"
#include "sampler.h"
#include "session.h"

/* OUT.svg -> OUT.release.svg (the format's extension kept) */
static void release_path(const char *out, enum output_format f, char *buf,
			 size_t len)
{
	const struct format_info *fi = format_info(f);
	size_t n = strlen(out);
	for (int i = 0; fi && i < FORMAT_MAX_EXTS && fi->exts[i]; i++) {
		size_t e = strlen(fi->exts[i]);
		if (n > e && strcmp(out + n - e, fi->exts[i]) == 0) {
			snprintf(buf, len, "%.*s.release%s", (int)(n - e), out,
				 fi->exts[i]);
			return;
		}
	}
	snprintf(buf, len, "%s.release", out);
}

static void mib(char *buf, size_t len, uint64_t b)
{
	snprintf(buf, len, "%.1f MiB", (double)b / (1024.0 * 1024.0));
}

int record_memory(struct cli_opts *o)
{
	if (!o->output) {
		cli_error("--mode memory writes a file: give -o FILE (.svg, "
			  ".pb.gz, .txt, ...)");
		return 2;
	}
	if (o->format == FORMAT_NONE)
		o->format = format_from_path(o->output);
	if (o->format == FORMAT_NONE || o->format == FORMAT_RAW ||
	    format_needs_timeline(o->format)) {
		cli_error("--mode memory writes a profile weighted by bytes: "
			  "give -o with .svg, .pb.gz, .txt, .speedscope.json "
			  "or .prof");
		return 2;
	}
	if (o->tasks || o->subprocesses || o->threads) {
		cli_error("--mode memory charges one process's memory to its "
			  "stacks: --tasks, --subprocesses and --threads do not "
			  "apply");
		return 2;
	}
	o->keep_all = false;
	if (session_check_output(o))
		return 1;
	char rel_out[4096 + 16];
	release_path(o->output, o->format, rel_out, sizeof rel_out);

	session_catch_signals();
	target *t = NULL;
	profile *p = NULL, *grow = NULL, *rel = NULL;
	sampler *s = NULL;
	memcharge *m = NULL;
	int status = 1;
	lp_error err = { 0 };
	if (session_open_target(o, &t))
		goto out;
	p = profile_new();
	grow = profile_new();
	rel = profile_new();
	if (!p || !grow || !rel) {
		cli_error("out of memory");
		goto out;
	}
	if (session_open_sampler(o, t, p, &s))
		goto out;
	if (memcharge_new(&m, target_procfd(t), &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	int rc = sampler_run(s, &session_stop, memcharge_sink, m, &err);
	session_warn(s);
	if (rc != LP_OK)
		cli_error("%s; writing what was sampled", err.msg);
	int32_t pid = (int32_t)target_pid(t);
	if (memcharge_finish(m, p, grow, rel, pid, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	struct output_opts oo = cli_output_opts(o);
	oo.mode = MODE_WALL;	/* the weights are bytes, in samples */
	char title[128];
	const profile *outs[2] = { grow, rel };
	const char *paths[2] = { o->output, rel_out };
	char dur[32];
	snprintf(dur, sizeof dur, "%llu",
		 (unsigned long long)sampler_stats(s)->elapsed_ns);
	for (int i = 0; i < 2; i++) {
		profile_set_meta((profile *)outs[i], "duration_ns", dur);
		profile_set_start_ns((profile *)outs[i], profile_start_ns(p));
		snprintf(title, sizeof title, "Memory %s (bytes of RSS): PID %d",
			 i ? "released" : "growth", (int)pid);
		oo.title = title;
		profile_set_meta((profile *)outs[i], "bytes",
				 i ? "rss_release" : "rss_growth");
		if (format_write_file(outs[i], o->format, paths[i], &oo,
				      &err) != LP_OK) {
			cli_error("%s", err.msg);
			goto out;
		}
	}
	if (!o->quiet) {
		const struct memcharge_stats *st = memcharge_stats(m);
		char a[32], b[32], g[32], r[32], u[32];
		mib(a, sizeof a, st->rss_first);
		mib(b, sizeof b, st->rss_last);
		mib(g, sizeof g, st->grown);
		mib(r, sizeof r, st->released);
		mib(u, sizeof u, st->uncharged);
		fprintf(stderr, "loupe: RSS of PID %d %s -> %s over %llu ticks: "
			"%s of growth charged to stacks (%s), %s of release "
			"(%s), %s in ticks where no sampled thread ran\n",
			(int)pid, a, b, (unsigned long long)st->ticks, g,
			o->output, r, rel_out, u);
	}
	status = 0;
out:
	memcharge_free(m);
	sampler_free(s);
	profile_free(p);
	profile_free(grow);
	profile_free(rel);
	if (t)
		target_free(t, false);
	return status;
}
