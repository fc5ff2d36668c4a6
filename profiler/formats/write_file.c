/* format_write_file: one entry point that writes a profile in any format,
 * always through an atomic file (atomic_file.c: or
 * directly to stdout, a device or a FIFO). */
#include "formats/formats.h"

bool format_needs_timeline(enum output_format f)
{
	return f == FORMAT_CHROME;
}

int format_write_file(const profile *p, enum output_format f,
		      const char *path, const struct output_opts *o,
		      lp_error *err)
{
	atomic_file af;
	int rc;
	int (*writer)(const profile *, FILE *, const struct output_opts *);

	switch (f) {
	case FORMAT_COLLAPSED: writer = collapsed_write; break;
	case FORMAT_FLAMEGRAPH: writer = flamegraph_write; break;
	case FORMAT_SPEEDSCOPE: writer = speedscope_write; break;
	case FORMAT_CHROME: writer = chrome_write; break;
	case FORMAT_PPROF: writer = pprof_write; break;
	case FORMAT_PSTATS: writer = pstats_write; break;
	case FORMAT_RAW: writer = NULL; break;
	case FORMAT_NONE:
	default:
		return lp_error_set(err, LP_EINVAL,
				    "no output format for %s: name one with "
				    "--format", path);
	}
	rc = atomic_file_open_flags(&af, path, o && o->follow ? OUTPUT_FOLLOW : 0,
				    err);
	if (rc)
		return rc;
	rc = writer ? writer(p, af.fp, o) : raw_write_profile(p, af.fp);
	if (rc == LP_EUNSUPPORTED && f == FORMAT_CHROME) {
		atomic_file_abort(&af);
		return lp_error_set(err, rc, "cannot write %s: the chrome trace "
				    "needs the sample timeline, which this "
				    "profile did not keep (record to .loupe "
				    "or straight to .trace.json)", path);
	}
	if (rc) {
		atomic_file_abort(&af);
		return lp_error_set(err, rc, "cannot write %s: %s", path,
				    lp_strerror(rc));
	}
	return atomic_file_commit(&af, err);
}
