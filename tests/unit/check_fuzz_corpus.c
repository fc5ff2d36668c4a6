/* The fuzz harnesses (tests/fuzz) replayed over their committed corpora
 * with the tree's compiler: every seed and every input that once crashed
 * a harness (the crash-* files) runs through the same checks as under
 * libFuzzer, so a regression shows here even where clang is missing, and
 * under ASan/UBSan in 'tests/run --sanitize'. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "py_image.h"
#include "unit.h"

static char corpus[4096];

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs one harness over every file of its corpus; returns how many. */
static int replay(const char *name, int (*one)(const uint8_t *, size_t))
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/%s", corpus, name);
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, by_name);
	ck_assert_msg(n >= 0, "no corpus %s", dir);
	int ran = 0;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			char path[4500];
			size_t len;
			snprintf(path, sizeof path, "%s/%s", dir,
				 ents[i]->d_name);
			uint8_t *data = py_image_slurp(path, &len);
			ck_assert_msg(data != NULL, "cannot read %s", path);
			/* named first: an abort in the harness ends the
			 * test, and the output says which input it was */
			printf("replay %s/%s\n", name, ents[i]->d_name);
			fflush(stdout);
			one(data, len);
			free(data);
			ran++;
		}
		free(ents[i]);
	}
	free(ents);
	ck_assert_int_gt(ran, 0);
	return ran;
}

START_TEST(test_raw_reader)
{
	int argc = 0;
	char **argv = NULL;
	fuzz_init_raw_reader(&argc, &argv);
	replay("raw_reader", fuzz_one_raw_reader);
}
END_TEST

START_TEST(test_daemon_config)
{
	replay("daemon_config", fuzz_one_daemon_config);
}
END_TEST

START_TEST(test_ctl_proto)
{
	replay("ctl_proto", fuzz_one_ctl_proto);
}
END_TEST

START_TEST(test_http_query)
{
	replay("http_query", fuzz_one_http_query);
}
END_TEST

START_TEST(test_py_offsets)
{
	int argc = 0;
	char **argv = NULL;
	fuzz_init_py_offsets(&argc, &argv);
	replay("py_offsets", fuzz_one_py_offsets);
}
END_TEST

START_TEST(test_py_walk)
{
	replay("py_walk", fuzz_one_py_walk);
}
END_TEST

int main(void)
{
	const char *src = getenv("LOUPE_SRC");
	if (src)
		snprintf(corpus, sizeof corpus, "%s/tests/fuzz/corpus", src);
	else
		snprintf(corpus, sizeof corpus, "%s", LOUPE_FUZZ_CORPUS);
	char images[4200];
	snprintf(images, sizeof images, "%s/py_walk", corpus);
	setenv("LOUPE_FUZZ_IMAGES", images, 1);
	Suite *s = suite_create("fuzz_corpus");
	TCase *tc = tcase_create("replay");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_raw_reader);
	tcase_add_test(tc, test_daemon_config);
	tcase_add_test(tc, test_ctl_proto);
	tcase_add_test(tc, test_http_query);
	tcase_add_test(tc, test_py_offsets);
	tcase_add_test(tc, test_py_walk);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
