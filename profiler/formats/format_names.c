/* The format table (names, file extensions, writers: DESIGN.md, "Command
 * line"), sample modes, and what a sample weighs under each mode. */
#include "formats/formats.h"

#include <string.h>
#include <strings.h>

/* The one format table: every format's name, the aliases --format also
 * takes, the file name endings that choose it, and its writer.  record,
 * trace, report, top, diff and the daemon all go through it. */
static const struct format_info formats[] = {
	{ FORMAT_COLLAPSED, "collapsed", { "folded" }, { ".txt", ".folded" },
	  collapsed_write, false },
	{ FORMAT_FLAMEGRAPH, "flamegraph", { "svg" }, { ".svg" },
	  flamegraph_write, false },
	{ FORMAT_SPEEDSCOPE, "speedscope", { NULL }, { ".speedscope.json", ".json" },
	  speedscope_write, false },
	/* drawn from every sample: the profile must keep its timeline */
	{ FORMAT_CHROME, "chrome", { "chrometrace" }, { ".trace.json" }, chrome_write, true },
	{ FORMAT_PPROF, "pprof", { NULL }, { ".pb.gz" }, pprof_write, false },
	{ FORMAT_PSTATS, "pstats", { NULL }, { ".prof", ".pstats" },
	  pstats_write, false },
	{ FORMAT_RAW, "loupe", { "raw" }, { ".loupe" }, raw_write, false },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct format_info *format_table(size_t *n)
{
	*n = COUNT(formats);
	return formats;
}

const struct format_info *format_info(enum output_format f)
{
	for (size_t i = 0; i < COUNT(formats); i++) {
		if (formats[i].format == f)
			return &formats[i];
	}
	return NULL;
}

enum output_format format_from_name(const char *name)
{
	if (!name)
		return FORMAT_NONE;
	for (size_t i = 0; i < COUNT(formats); i++) {
		if (strcmp(name, formats[i].name) == 0)
			return formats[i].format;
		for (size_t k = 0; k < FORMAT_MAX_ALIASES && formats[i].aliases[k]; k++)
			if (strcmp(name, formats[i].aliases[k]) == 0)
				return formats[i].format;
	}
	return FORMAT_NONE;
}

int format_parse(const char *name, enum output_format *f, lp_error *err)
{
	*f = format_from_name(name);
	if (*f != FORMAT_NONE)
		return LP_OK;
	/* "use collapsed, flamegraph, ... pstats or loupe": the names the
	 * table prints, never its aliases */
	char list[256] = "";
	size_t len = 0;
	for (size_t i = 0; i < COUNT(formats) && len < sizeof list; i++) {
		const char *sep = i == 0 ? "" : i + 1 == COUNT(formats) ? " or " : ", ";
		int n = snprintf(list + len, sizeof list - len, "%s%s", sep, formats[i].name);
		if (n > 0)
			len += (size_t)n;
	}
	return lp_error_set(err, LP_EINVAL, "unknown format '%s': use %s",
			    name ? name : "", list);
}

enum output_format format_from_path(const char *path)
{
	if (!path)
		return FORMAT_NONE;
	/* only the last path component has an extension */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	/* the longest ending wins: ".speedscope.json" and ".trace.json"
	 * over ".json" */
	enum output_format best = FORMAT_NONE;
	size_t best_len = 0;
	for (size_t i = 0; i < COUNT(formats); i++) {
		for (size_t k = 0; k < FORMAT_MAX_EXTS && formats[i].exts[k]; k++) {
			const char *ext = formats[i].exts[k];
			size_t el = strlen(ext);
			/* a bare ".txt" is a hidden file with no extension;
			 * "OUT.SVG" is an SVG */
			if (len > el && el > best_len &&
			    strcasecmp(base + len - el, ext) == 0) {
				best = formats[i].format;
				best_len = el;
			}
		}
	}
	return best;
}

const char *format_name(enum output_format f)
{
	const struct format_info *fi = format_info(f);
	return fi ? fi->name : "none";
}

bool format_needs_timeline(enum output_format f)
{
	const struct format_info *fi = format_info(f);
	return fi && fi->timeline;
}

int format_mode_from_name(const char *name, enum sample_mode *mode)
{
	static const struct {
		const char *name;
		enum sample_mode mode;
	} modes[] = {
		{ "wall", MODE_WALL },
		{ "cpu", MODE_CPU },
		{ "gil", MODE_GIL },
	};
	for (size_t i = 0; name && i < COUNT(modes); i++) {
		if (strcmp(name, modes[i].name) == 0) {
			*mode = modes[i].mode;
			return LP_OK;
		}
	}
	return LP_EINVAL;
}

/* What one aggregate weighs, in samples:
 *   wall  every sample, idle or not (opts.idle does not matter);
 *   cpu   the CPU time of samples taken on CPU (SAMPLE_ON_CPU), in
 *         periods, plus the idle ones (SAMPLE_IDLE) when opts.idle asks
 *         to keep them;
 *   gil   samples whose thread held the GIL (SAMPLE_GIL).
 * A sampler never marks one sample both on-CPU and idle (running vs
 * waiting); should it, cpu with idle is capped at the larger of the wall
 * and the CPU counts. */
uint64_t output_weight(const struct profile_agg *a,
		       const struct output_opts *o)
{
	uint64_t w;
	if (o->pid && a->pid != o->pid)
		return 0;
	switch (o->mode) {
	case MODE_CPU:
		/* CPU samples are the CPU time used over the period: a
		 * sample may stand for more of it than its wall weight. */
		if (!o->idle)
			return a->cpu_samples;
		w = a->cpu_samples + a->idle_samples;
		return w < a->samples ? w :
		       a->samples > a->cpu_samples ? a->samples : a->cpu_samples;
	case MODE_GIL:
		return a->gil_samples;
	case MODE_WALL:
	default:
		return a->samples;
	}
}
