/* The .loupe reader (profiler/formats/raw_reader.c) on any bytes, then what
 * 'loupe report' and 'loupe diff' do with what it accepted: every writer
 * (options chosen from the input's size and first bytes), and the raw
 * writer, whose output the reader must take back whole. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "formats/formats.h"

static int in_fd, out_fd;
static char in_path[64], out_path[64];
static FILE *null_fp;

FUZZ_INIT(raw_reader)
{
	in_fd = memfd_create("fuzz-in.loupe", MFD_CLOEXEC);
	out_fd = memfd_create("fuzz-out.loupe", MFD_CLOEXEC);
	null_fp = fopen("/dev/null", "we");
	if (in_fd < 0 || out_fd < 0 || !null_fp)
		abort();
	snprintf(in_path, sizeof in_path, "/proc/self/fd/%d", in_fd);
	snprintf(out_path, sizeof out_path, "/proc/self/fd/%d", out_fd);
	return 0;
}

static void put(int fd, const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
}

FUZZ_ONE(raw_reader)
{
	put(in_fd, data, size);
	profile *p = profile_new();
	if (!p)
		return 0;
	profile_keep_timeline(p, true);
	struct raw_read_info info;
	lp_error err;
	int rc = raw_read_file(in_path, p, &info, &err);
	if (rc != LP_OK && rc != LP_EFORMAT)
		abort();	/* only damage is possible: no I/O error, no OOM */
	if (rc == LP_OK) {
		unsigned h = (unsigned)size ^ (size > 20 ? data[20] : 0u);
		struct output_opts o = {
			.mode = (enum sample_mode)(h % 3),
			.threads = h & 4,
			.lines = h & 8,
			.idle = h & 16,
			.merge_processes = h & 32,
			.pid = h & 64 ? 0 : (int32_t)(h >> 7),
			.inverted = h & 128,
		};
		collapsed_write(p, null_fp, &o);
		flamegraph_write(p, null_fp, &o);
		speedscope_write(p, null_fp, &o);
		chrome_write(p, null_fp, &o);
		pprof_write(p, null_fp, &o);
		pstats_write(p, null_fp, &o);
		fflush(null_fp);

		/* what the reader accepted, the writer writes and the reader
		 * takes back without complaint */
		FILE *fp = fopen(out_path, "we");
		if (!fp)
			abort();
		if (raw_write_profile(p, fp) != LP_OK || fclose(fp) != 0)
			abort();
		profile *q = profile_new();
		if (!q)
			abort();
		struct raw_read_info qi;
		if (raw_read_file(out_path, q, &qi, &err) != LP_OK ||
		    qi.truncated) {
			fprintf(stderr, "re-read of a written profile: %s\n",
				err.msg);
			abort();
		}
		flamegraph_write_diff(p, q, null_fp, &o);
		fflush(null_fp);
		profile_free(q);
	}
	profile_free(p);
	return 0;
}
