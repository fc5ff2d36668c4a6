/* Format names, file extensions and sample modes (DESIGN.md, "Command
 * line"), and what a sample weighs under each mode. */
#include "formats/formats.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum output_format format;
} format_names[] = {
	{ "collapsed", FORMAT_COLLAPSED },
	{ "flamegraph", FORMAT_FLAMEGRAPH },
	{ "speedscope", FORMAT_SPEEDSCOPE },
	{ "chrome", FORMAT_CHROME },
	{ "pprof", FORMAT_PPROF },
	{ "pstats", FORMAT_PSTATS },
	{ "loupe", FORMAT_RAW },
	/* aliases, accepted but never printed */
	{ "folded", FORMAT_COLLAPSED },
	{ "svg", FORMAT_FLAMEGRAPH },
	{ "raw", FORMAT_RAW },
};

/* Longest suffix first, so that ".speedscope.json" and ".trace.json" win
 * over ".json". */
static const struct {
	const char *ext;
	enum output_format format;
} format_exts[] = {
	{ ".speedscope.json", FORMAT_SPEEDSCOPE },
	{ ".trace.json", FORMAT_CHROME },
	{ ".folded", FORMAT_COLLAPSED },
	{ ".pstats", FORMAT_PSTATS },
	{ ".loupe", FORMAT_RAW },
	{ ".pb.gz", FORMAT_PPROF },
	{ ".json", FORMAT_SPEEDSCOPE },
	{ ".prof", FORMAT_PSTATS },
	{ ".svg", FORMAT_FLAMEGRAPH },
	{ ".txt", FORMAT_COLLAPSED },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum output_format format_from_name(const char *name)
{
	if (!name)
		return FORMAT_NONE;
	for (size_t i = 0; i < COUNT(format_names); i++) {
		if (strcmp(name, format_names[i].name) == 0)
			return format_names[i].format;
	}
	return FORMAT_NONE;
}

enum output_format format_from_path(const char *path)
{
	if (!path)
		return FORMAT_NONE;
	/* only the last path component has an extension */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	for (size_t i = 0; i < COUNT(format_exts); i++) {
		size_t el = strlen(format_exts[i].ext);
		/* a bare ".txt" is a hidden file with no extension; "OUT.SVG"
		 * is an SVG */
		if (len > el &&
		    strcasecmp(base + len - el, format_exts[i].ext) == 0)
			return format_exts[i].format;
	}
	return FORMAT_NONE;
}

const char *format_name(enum output_format f)
{
	for (size_t i = 0; i < COUNT(format_names); i++) {
		if (format_names[i].format == f)
			return format_names[i].name;
	}
	return "none";
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
