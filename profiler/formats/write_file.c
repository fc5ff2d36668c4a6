/* format_write_file: one entry point that writes a profile in any format,
 * always through an atomic file. */
#include "formats.h"

int format_write_file(const profile *p, enum output_format f,
		      const char *path, const struct output_opts *o,
		      lp_error *err)
{
	atomic_file af;
	int rc;

	switch (f) {
	case FORMAT_COLLAPSED:
	case FORMAT_RAW:
		break;
	case FORMAT_FLAMEGRAPH:
	case FORMAT_SPEEDSCOPE:
	case FORMAT_CHROME:
	case FORMAT_PPROF:
	case FORMAT_PSTATS:
		return lp_error_set(err, LP_EUNSUPPORTED,
				    "format %s is not implemented yet",
				    format_name(f));
	case FORMAT_NONE:
	default:
		return lp_error_set(err, LP_EINVAL,
				    "no output format for %s: name one with "
				    "--format", path);
	}
	rc = atomic_file_open(&af, path, err);
	if (rc)
		return rc;
	if (f == FORMAT_COLLAPSED)
		rc = collapsed_write(p, af.fp, o);
	else
		rc = raw_write_profile(p, af.fp);
	if (rc) {
		atomic_file_abort(&af);
		return lp_error_set(err, rc, "cannot write %s: %s", path,
				    lp_strerror(rc));
	}
	return atomic_file_commit(&af, err);
}
