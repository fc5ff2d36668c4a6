/* format_write_file: one entry point that writes a profile in any format of
 * the table (format_names.c), always through an atomic file (atomic_file.c:
 * or directly to stdout, a device or a FIFO). */
#include "formats/formats.h"

int format_write_file(const profile *p, enum output_format f,
		      const char *path, const struct output_opts *o,
		      lp_error *err)
{
	const struct format_info *fi = format_info(f);
	if (!fi)
		return lp_error_set(err, LP_EINVAL,
				    "no output format for %s: name one with "
				    "--format", path);
	atomic_file af;
	int rc = atomic_file_open_flags(&af, path,
					o && o->follow ? OUTPUT_FOLLOW : 0, err);
	if (rc)
		return rc;
	rc = format_write(fi, p, af.fp, o);
	if (rc == LP_EUNSUPPORTED && fi->timeline) {
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
