/* Tasks grouped by their outermost coroutine (task_groups.c): the counts
 * in the group's root, a lone task keeping its name, every weight kept,
 * the per-task view unchanged, and profiles it must leave alone. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "unit.h"

static uint32_t fr(profile *p, enum frame_kind kind, const char *func,
		   const char *file, int line)
{
	struct frame f = { .kind = kind,
			   .func = profile_intern_cstr(p, func),
			   .file = profile_intern_cstr(p, file),
			   .line = line };
	return profile_intern_frame(p, &f);
}

static void add(profile *p, const uint32_t *ids, size_t n, const char *task,
		int count)
{
	struct sample s = { .pid = 7, .tid = 7,
			    .stack = profile_intern_stack(p, ids, n),
			    .task = profile_intern_cstr(p, task),
			    .flags = SAMPLE_ON_CPU, .cpu_ns = 1000 };
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
}

/* Three tasks of handle (two lines), one of main, one task with no
 * coroutine frame under it. */
static profile *service(void)
{
	profile *p = profile_new();
	char name[32];
	for (int k = 0; k < 3; k++) {
		snprintf(name, sizeof name, "Task-%d", k + 2);
		uint32_t ids[] = { fr(p, FRAME_TASK, name, "", 0),
				   fr(p, FRAME_PYTHON, "handle", "/srv/app.py", 10 + k),
				   fr(p, FRAME_PYTHON, "query", "/srv/db.py", 5) };
		add(p, ids, 3, name, k + 1);
	}
	uint32_t m[] = { fr(p, FRAME_TASK, "Task-1", "", 0),
			 fr(p, FRAME_PYTHON, "main", "/srv/app.py", 40) };
	add(p, m, 2, "Task-1", 4);
	uint32_t bare[] = { fr(p, FRAME_TASK, "orphan", "", 0) };
	add(p, bare, 1, "orphan", 2);
	return p;
}

static char *collapsed(const profile *p, bool per_task)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct output_opts o = { .mode = MODE_WALL, .lines = false,
				 .per_task = per_task };
	ck_assert_int_eq(format_write(format_info(FORMAT_COLLAPSED), p, fp, &o), LP_OK);
	fclose(fp);
	return buf;
}

START_TEST(test_grouped)
{
	profile *p = service();
	char *out = collapsed(p, false);
	ck_assert_msg(strstr(out, "3 tasks: handle;handle (/srv/app.py);query (/srv/db.py) 6\n"), "%s", out);
	ck_assert_msg(strstr(out, "task Task-1;main (/srv/app.py) 4\n"), "%s", out);
	ck_assert_msg(strstr(out, "task orphan 2\n"), "%s", out);
	ck_assert_msg(!strstr(out, "Task-2"), "%s", out);
	free(out);
	out = collapsed(p, true);
	ck_assert_msg(strstr(out, "task Task-2;handle (/srv/app.py);query (/srv/db.py) 1\n"), "%s", out);
	ck_assert_msg(strstr(out, "task Task-4;handle (/srv/app.py);query (/srv/db.py) 3\n"), "%s", out);
	ck_assert_msg(!strstr(out, "tasks:"), "%s", out);
	free(out);
	profile_free(p);
}
END_TEST

START_TEST(test_nothing_to_group)
{
	profile *p = profile_new();
	uint32_t ids[] = { fr(p, FRAME_PYTHON, "f", "a.py", 1) };
	add(p, ids, 1, "", 3);
	profile *q = (profile *)1;
	ck_assert_int_eq(task_groups_build(p, &q), LP_OK);
	ck_assert_ptr_null(q);
	profile_free(p);
}
END_TEST

START_TEST(test_too_many_coroutines)
{
	/* a hostile recording with more distinct outermost coroutines than
	 * are worth grouping is written as it is */
	profile *p = profile_new();
	char name[32];
	for (int k = 0; k < 5000; k++) {
		snprintf(name, sizeof name, "c%d", k);
		uint32_t ids[] = { fr(p, FRAME_TASK, name, "", 0),
				   fr(p, FRAME_PYTHON, name, "x.py", 1) };
		add(p, ids, 2, name, 1);
	}
	profile *q = (profile *)1;
	ck_assert_int_eq(task_groups_build(p, &q), LP_OK);
	ck_assert_ptr_null(q);
	profile_free(p);
}
END_TEST

START_TEST(test_weights_and_meta_kept)
{
	profile *p = service();
	profile_set_meta(p, "mode", "wall");
	profile *q = NULL;
	ck_assert_int_eq(task_groups_build(p, &q), LP_OK);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(profile_total_samples(q), profile_total_samples(p));
	ck_assert_str_eq(profile_meta(q, "mode"), "wall");
	profile_free(q);
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("task_groups");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_grouped);
	tcase_add_test(tc, test_nothing_to_group);
	tcase_add_test(tc, test_too_many_coroutines);
	tcase_add_test(tc, test_weights_and_meta_kept);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
