/* The status line's and progress bar's text (pure formatting), and the raw
 * reader's progress callback. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "progress.h"
#include "status_line.h"
#include "unit.h"

static struct status_figures figures(void)
{
	struct status_figures f;
	memset(&f, 0, sizeof f);
	f.ticks = 1234;
	f.samples = 4936;
	f.missed = 2;
	f.rate_hz = 100;
	f.threads = 4;
	f.processes = 1;
	f.output_bytes = 217088;
	return f;
}

START_TEST(test_full_line)
{
	struct status_figures f = figures();
	char buf[512];
	status_line_format(buf, sizeof buf, 200, "loupe record", &f,
			   75500000000ull, 99.84);
	ck_assert_str_eq(buf, "loupe record 01:15 | 4936 samples | 99.8/100 Hz"
			 " | 2 missed | 4 threads | 212 KiB written | Ctrl-C to stop");
	f.duration_s = 90;
	f.output_in_memory = true;
	f.processes = 3;
	f.threads = 1;
	snprintf(f.extra, sizeof f.extra, "3 stalls");
	status_line_format(buf, sizeof buf, 200, "loupe trace", &f, 0, -1);
	ck_assert_str_eq(buf, "loupe trace 00:00 of 90 s | 4936 samples | -/100 Hz"
			 " | 2 missed | 1 threads in 3 processes | 212 KiB in memory"
			 " | 3 stalls | Ctrl-C to stop");
	/* trace: no steady rate, nothing written */
	f.rate_hz = 0;
	f.no_output = true;
	f.processes = 1;
	status_line_format(buf, sizeof buf, 200, "loupe trace", &f, 0, 12);
	ck_assert_str_eq(buf, "loupe trace 00:00 of 90 s | 4936 samples | 1 thread"
			 " | 3 stalls | Ctrl-C to stop");
}
END_TEST

START_TEST(test_narrow_terminal_drops_whole_parts)
{
	struct status_figures f = figures();
	char buf[512];
	for (size_t w = 0; w < 120; w++) {
		status_line_format(buf, sizeof buf, w, "loupe record", &f,
				   1000000000ull, 100);
		ck_assert_uint_le(strlen(buf), w);
		/* never a part cut in the middle */
		ck_assert(strlen(buf) == 0 || buf[strlen(buf) - 1] != ' ');
	}
	status_line_format(buf, sizeof buf, 40, "loupe record", &f, 0, 100);
	ck_assert_str_eq(buf, "loupe record 00:00 | 4936 samples");
	/* a buffer smaller than the width still ends terminated */
	char small[10];
	status_line_format(small, sizeof small, 200, "loupe record", &f, 0, 1);
	ck_assert_uint_lt(strlen(small), sizeof small);
}
END_TEST

START_TEST(test_bytes)
{
	char b[32];
	status_format_bytes(b, sizeof b, 0);
	ck_assert_str_eq(b, "0 B");
	status_format_bytes(b, sizeof b, 1023);
	ck_assert_str_eq(b, "1023 B");
	status_format_bytes(b, sizeof b, 1536);
	ck_assert_str_eq(b, "1.50 KiB");
	status_format_bytes(b, sizeof b, 50u << 20);
	ck_assert_str_eq(b, "50.0 MiB");
	status_format_bytes(b, sizeof b, UINT64_MAX);
	ck_assert_str_eq(b, "16777216 TiB");
}
END_TEST

START_TEST(test_progress_bar)
{
	char buf[256];
	progress_format(buf, sizeof buf, 79, "loupe report: reading",
			5u << 20, 10u << 20);
	ck_assert_str_eq(buf, "loupe report: reading [##############...............]"
			 "  50% 5.00 MiB of 10.0 MiB");
	ck_assert_uint_le(strlen(buf), 79);
	progress_format(buf, sizeof buf, 200, "x", 20, 10);	/* done > total */
	ck_assert_ptr_nonnull(strstr(buf, "100%"));
	ck_assert_ptr_nonnull(strstr(buf, "[########################################]"));
	progress_format(buf, sizeof buf, 20, "loupe report: reading", 1, 2);
	ck_assert_uint_le(strlen(buf), 20);
	ck_assert_ptr_null(strchr(buf, '['));
}
END_TEST

struct seen {
	uint64_t calls, last_done, last_total;
	int backwards;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct seen *s = ctx;
	if (done < s->last_done)
		s->backwards++;
	s->calls++;
	s->last_done = done;
	s->last_total = total;
}

START_TEST(test_reader_reports_progress)
{
	char dir[200], path[256];
	unit_tmpdir_make(dir, sizeof dir, "check_status_line");
	snprintf(path, sizeof path, "%s/r.loupe", dir);
	/* a recording of a few MiB: many distinct frames */
	profile *p = profile_new();
	lp_error err = { 0 };
	raw_writer *w;
	ck_assert_int_eq(raw_writer_open(&w, path, &err), LP_OK);
	char name[64];
	for (uint32_t i = 0; i < 60000; i++) {
		snprintf(name, sizeof name, "function_number_%u_with_a_long_name", i);
		struct frame fr = { .kind = FRAME_PYTHON,
				    .func = profile_intern_cstr(p, name),
				    .file = profile_intern_cstr(p, "app.py"),
				    .line = (int32_t)i };
		uint32_t id = profile_intern_frame(p, &fr);
		struct sample s = { .time_ns = i, .pid = 1, .tid = 1,
				    .stack = profile_intern_stack(p, &id, 1) };
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
		ck_assert_int_eq(raw_writer_sample(w, p, &s), LP_OK);
	}
	ck_assert_uint_gt(raw_writer_size(w), 1u << 20);
	ck_assert_int_eq(raw_writer_close(w, p, &err), LP_OK);
	profile_free(p);

	struct seen seen = { 0 };
	profile *q = profile_new();
	struct raw_read_info info;
	ck_assert_int_eq(raw_read_file_progress(path, q, &info, on_progress,
						&seen, &err), LP_OK);
	FILE *fp = fopen(path, "rb");
	fseek(fp, 0, SEEK_END);
	uint64_t size = (uint64_t)ftell(fp);
	fclose(fp);
	ck_assert_uint_gt(seen.calls, 3);	/* now and then, not once */
	ck_assert_uint_lt(seen.calls, 1000);	/* and not per record */
	ck_assert_int_eq(seen.backwards, 0);
	ck_assert_uint_eq(seen.last_done, size);	/* ends at the end */
	ck_assert_uint_eq(seen.last_total, size);
	ck_assert_uint_eq(profile_total_samples(q), 60000);
	profile_free(q);
	unit_tmpdir_remove(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status_line");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, test_full_line);
	tcase_add_test(tc, test_narrow_terminal_drops_whole_parts);
	tcase_add_test(tc, test_bytes);
	tcase_add_test(tc, test_progress_bar);
	tcase_add_test(tc, test_reader_reports_progress);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
