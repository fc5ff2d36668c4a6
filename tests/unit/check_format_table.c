/* The format table (formats.h, format_names.c): the one list of names,
 * aliases, file extensions and writers that record, trace, report, top,
 * diff and the daemon go through.  Every name and extension maps to its
 * writer; an unknown name gives the one-line error. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"
#include "unit.h"

/* What DESIGN.md ("Command line") promises, written out by hand: the
 * table must agree with it. */
static const struct {
	enum output_format f;
	const char *name;
	format_writer write;
} names[] = {
	{ FORMAT_COLLAPSED, "collapsed", collapsed_write },
	{ FORMAT_FLAMEGRAPH, "flamegraph", flamegraph_write },
	{ FORMAT_SPEEDSCOPE, "speedscope", speedscope_write },
	{ FORMAT_CHROME, "chrome", chrome_write },
	{ FORMAT_PPROF, "pprof", pprof_write },
	{ FORMAT_PSTATS, "pstats", pstats_write },
	{ FORMAT_RAW, "loupe", raw_write },
	/* aliases */
	{ FORMAT_COLLAPSED, "folded", collapsed_write },
	{ FORMAT_FLAMEGRAPH, "svg", flamegraph_write },
	{ FORMAT_RAW, "raw", raw_write },
	/* py-spy's name */
	{ FORMAT_CHROME, "chrometrace", chrome_write },
};

static const struct {
	const char *ext;
	enum output_format f;
	format_writer write;
} exts[] = {
	{ ".svg", FORMAT_FLAMEGRAPH, flamegraph_write },
	{ ".speedscope.json", FORMAT_SPEEDSCOPE, speedscope_write },
	{ ".json", FORMAT_SPEEDSCOPE, speedscope_write },
	{ ".txt", FORMAT_COLLAPSED, collapsed_write },
	{ ".folded", FORMAT_COLLAPSED, collapsed_write },
	{ ".trace.json", FORMAT_CHROME, chrome_write },
	{ ".pb.gz", FORMAT_PPROF, pprof_write },
	{ ".prof", FORMAT_PSTATS, pstats_write },
	{ ".pstats", FORMAT_PSTATS, pstats_write },
	{ ".loupe", FORMAT_RAW, raw_write },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char unknown_tail[] =
	": use collapsed, flamegraph, speedscope, chrome, pprof, pstats or loupe";

START_TEST(test_every_format_has_one_entry)
{
	size_t n;
	const struct format_info *t = format_table(&n);
	ck_assert_uint_eq(n, FORMAT_RAW);	/* FORMAT_NONE has none */
	ck_assert_ptr_null(format_info(FORMAT_NONE));
	ck_assert_ptr_null(format_info((enum output_format)(FORMAT_RAW + 1)));
	for (int f = FORMAT_COLLAPSED; f <= FORMAT_RAW; f++) {
		const struct format_info *fi = format_info((enum output_format)f);
		ck_assert_ptr_nonnull(fi);
		ck_assert_int_eq(fi->format, f);
		ck_assert_ptr_nonnull(fi->write);
		ck_assert_ptr_nonnull(fi->exts[0]);
		size_t seen = 0;
		for (size_t i = 0; i < n; i++)
			seen += (int)t[i].format == f;
		ck_assert_uint_eq(seen, 1);
		/* only the chrome trace is drawn from every sample */
		ck_assert(fi->timeline == (f == FORMAT_CHROME));
		ck_assert(format_needs_timeline((enum output_format)f) == fi->timeline);
	}
	ck_assert(!format_needs_timeline(FORMAT_NONE));
	ck_assert_str_eq(format_name(FORMAT_NONE), "none");
}
END_TEST

START_TEST(test_names_map_to_their_writer)
{
	for (size_t i = 0; i < COUNT(names); i++) {
		enum output_format f = format_from_name(names[i].name);
		ck_assert_msg(f == names[i].f, "%s", names[i].name);
		ck_assert_ptr_eq(format_info(f)->write, names[i].write);
		lp_error err = { 0 };
		enum output_format g = FORMAT_NONE;
		ck_assert_int_eq(format_parse(names[i].name, &g, &err), LP_OK);
		ck_assert_int_eq(g, f);
	}
	/* every name and alias the table holds maps back to its entry; the
	 * name printed is the first one, never an alias */
	size_t n;
	const struct format_info *t = format_table(&n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(format_from_name(t[i].name), t[i].format);
		ck_assert_str_eq(format_name(t[i].format), t[i].name);
		for (size_t k = 0; k < FORMAT_MAX_ALIASES && t[i].aliases[k]; k++)
			ck_assert_int_eq(format_from_name(t[i].aliases[k]), t[i].format);
	}
	ck_assert_str_eq(format_name(FORMAT_RAW), "loupe");
	/* names are exact: no case folding, no prefixes */
	ck_assert_int_eq(format_from_name("Collapsed"), FORMAT_NONE);
	ck_assert_int_eq(format_from_name("pp"), FORMAT_NONE);
	ck_assert_int_eq(format_from_name(""), FORMAT_NONE);
	ck_assert_int_eq(format_from_name(NULL), FORMAT_NONE);
}
END_TEST

START_TEST(test_extensions_map_to_their_writer)
{
	char path[128];
	for (size_t i = 0; i < COUNT(exts); i++) {
		snprintf(path, sizeof path, "dir.d/out%s", exts[i].ext);
		enum output_format f = format_from_path(path);
		ck_assert_msg(f == exts[i].f, "%s", path);
		ck_assert_ptr_eq(format_info(f)->write, exts[i].write);
		/* "OUT.SVG" is an SVG */
		for (char *c = path; *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
		ck_assert_msg(format_from_path(path) == exts[i].f, "%s", path);
		/* a bare ".txt" is a hidden file without an extension (a
		 * bare ".speedscope.json" ends in ".json") */
		if (!strchr(exts[i].ext + 1, '.'))
			ck_assert_int_eq(format_from_path(exts[i].ext), FORMAT_NONE);
	}
	/* the table holds no ending the list above does not */
	size_t n, total = 0;
	const struct format_info *t = format_table(&n);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < FORMAT_MAX_EXTS && t[i].exts[k]; k++) {
			snprintf(path, sizeof path, "x%s", t[i].exts[k]);
			ck_assert_int_eq(format_from_path(path), t[i].format);
			total++;
		}
	ck_assert_uint_eq(total, COUNT(exts));
	ck_assert_int_eq(format_from_path("x.gz"), FORMAT_NONE);
	ck_assert_int_eq(format_from_path("dir.svg/x"), FORMAT_NONE);
	ck_assert_int_eq(format_from_path("x"), FORMAT_NONE);
	ck_assert_int_eq(format_from_path(NULL), FORMAT_NONE);
}
END_TEST

static void assert_unknown(const char *name)
{
	lp_error err = { 0 };
	enum output_format f = FORMAT_PPROF;
	ck_assert_int_eq(format_parse(name, &f, &err), LP_EINVAL);
	ck_assert_int_eq(f, FORMAT_NONE);
	ck_assert_int_eq(err.code, LP_EINVAL);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
	ck_assert(strncmp(err.msg, "unknown format '", 16) == 0);
	if (strlen(name) < 100) {
		char want[256];
		snprintf(want, sizeof want, "unknown format '%s'%s", name, unknown_tail);
		ck_assert_str_eq(err.msg, want);
	}
}

START_TEST(test_unknown_name_one_line_error)
{
	assert_unknown("xml");
	assert_unknown("");
	assert_unknown("Loupe");
	char big[2000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_unknown(big);	/* cut to the message's room, one line */
	lp_error err = { 0 };
	enum output_format f;
	ck_assert_int_eq(format_parse(NULL, &f, &err), LP_EINVAL);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
	/* no format: the one-line error of format_write_file */
	profile *p = profile_new();
	ck_assert_int_eq(format_write_file(p, FORMAT_NONE, "/nonexistent/x", NULL, &err),
			 LP_EINVAL);
	ck_assert_str_eq(err.msg, "no output format for /nonexistent/x: name one with --format");
	profile_free(p);
}
END_TEST

/* Each entry's writer writes: through the table into a stream, and
 * through format_write_file into a file, the same bytes. */
START_TEST(test_every_writer_writes)
{
	profile *p = profile_new();
	profile_keep_timeline(p, true);
	struct frame fr = { .kind = FRAME_PYTHON, .func = profile_intern_cstr(p, "work"),
			    .file = profile_intern_cstr(p, "m.py"), .line = 3 };
	uint32_t id = profile_intern_frame(p, &fr);
	struct sample s = { .pid = 10, .tid = 10, .stack = profile_intern_stack(p, &id, 1),
			    .flags = SAMPLE_ON_CPU, .cpu_ns = 1000, .time_ns = 5 };
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	char dir[128], path[320];
	unit_tmpdir_make(dir, sizeof dir, "check_format_table");
	size_t n;
	const struct format_info *t = format_table(&n);
	struct output_opts o = { .mode = MODE_CPU, .lines = true };
	for (size_t i = 0; i < n; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		ck_assert_ptr_nonnull(fp);
		ck_assert_int_eq(t[i].write(p, fp, &o), LP_OK);
		ck_assert_int_eq(fclose(fp), 0);
		ck_assert_msg(len > 0, "%s wrote nothing", t[i].name);
		snprintf(path, sizeof path, "%s/out%s", dir, t[i].exts[0]);
		lp_error err = { 0 };
		ck_assert_int_eq(format_write_file(p, format_from_path(path), path, &o, &err), LP_OK);
		FILE *in = fopen(path, "rb");
		ck_assert_ptr_nonnull(in);
		char *got = malloc(len + 1);
		ck_assert_uint_eq(fread(got, 1, len + 1, in), len);
		fclose(in);
		/* pprof is gzipped with no time in its header, the raw
		 * header holds the profile's start: both the same twice */
		ck_assert_msg(memcmp(got, buf, len) == 0, "%s differs", t[i].name);
		free(got);
		free(buf);
	}
	unit_tmpdir_remove(dir);
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format_table");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, test_every_format_has_one_entry);
	tcase_add_test(tc, test_names_map_to_their_writer);
	tcase_add_test(tc, test_extensions_map_to_their_writer);
	tcase_add_test(tc, test_unknown_name_one_line_error);
	tcase_add_test(tc, test_every_writer_writes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
