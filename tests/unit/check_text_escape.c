/* Unit tests of the escaping of names for the terminal (ui/cli/text_escape.c):
 * nothing a terminal acts on gets through, and valid UTF-8 stays. */
#include <string.h>

#include "text_escape.h"
#include "unit.h"
#include "utf8.h"

static const char *esc(const char *s)
{
	static char out[256];
	return text_escape(s, out, sizeof out);
}

START_TEST(test_controls)
{
	ck_assert_str_eq(esc("plain name (app.py:12)"), "plain name (app.py:12)");
	ck_assert_str_eq(esc("a\nb\rc\td"), "a\\nb\\rc\\td");
	ck_assert_str_eq(esc("\x1b[2Jclear"), "\\e[2Jclear");
	ck_assert_str_eq(esc("bell\x07" "del\x7f"), "bell\\x07del\\x7f");
	/* C1 CSI (U+009B) and a lone 0x9b byte */
	ck_assert_str_eq(esc("x\xc2\x9b" "31m"), "x\\u009b31m");
	ck_assert_str_eq(esc("x\x9b" "31m"), "x\\x9b31m");
}
END_TEST

START_TEST(test_utf8)
{
	ck_assert_str_eq(esc("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\x8d"),
			 "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\x8d");
	/* overlong '/', a surrogate, a cut sequence */
	ck_assert_str_eq(esc("\xc0\xaf"), "\\xc0\\xaf");
	ck_assert_str_eq(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	ck_assert_str_eq(esc("\xe2\x86"), "\\xe2\\x86");
	ck_assert_str_eq(esc("\xc2\xa0"), "\xc2\xa0");	/* NBSP: not C1 */
}
END_TEST

/* the engine's test of a name read from a target (heap type names) */
START_TEST(test_valid)
{
	ck_assert(utf8_valid("", 0));
	ck_assert(utf8_valid("str", 3));
	ck_assert(utf8_valid("caf\xc3\xa9\xf0\x9f\x90\x8d", 9));
	ck_assert(!utf8_valid("str\xff", 4));
	ck_assert(!utf8_valid("\xc0\xaf", 2));		/* overlong */
	ck_assert(!utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	ck_assert(!utf8_valid("\xf4\x90\x80\x80", 4));	/* past U+10FFFF */
	ck_assert(!utf8_valid("\xe2\x86\x92", 2));	/* cut at n */
	ck_assert(!utf8_valid("a\x80", 2));		/* stray continuation */
	ck_assert_uint_eq(utf8_char_len((const unsigned char *)"\xe2\x86\x92", 3), 3);
	ck_assert_uint_eq(utf8_char_len((const unsigned char *)"\xe2\x86\x92", 2), 0);
	ck_assert_uint_eq(utf8_char_len((const unsigned char *)"a", 1), 0);
}
END_TEST

START_TEST(test_cut)
{
	char out[6];
	/* never inside an escape or a character */
	ck_assert_str_eq(text_escape("ab\ncd", out, 5), "ab\\n");
	ck_assert_str_eq(text_escape("a\xe2\x86\x92\xe2\x86\x92", out, 6), "a\xe2\x86\x92");
	ck_assert_str_eq(text_escape("\x1b\x1b\x1b", out, 6), "\\e\\e");
	char one[1];
	ck_assert_str_eq(text_escape("abc", one, 1), "");
	/* the stream form writes the same */
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	text_fputs("f\n\x1b" "x\xc2\x9b", fp);
	fclose(fp);
	ck_assert_str_eq(buf, "f\\n\\ex\\u009b");
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("text_escape");
	TCase *tc = tcase_create("text_escape");
	tcase_add_test(tc, test_controls);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_cut);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
