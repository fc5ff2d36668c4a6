/* The HTTP endpoint's request checks, without a server: the profile query
 * string (what the endpoint and the fuzz harness call) and the bearer
 * token. */
#include <check.h>
#include <string.h>

#include "daemon_http_query.h"
#include "unit.h"

static int parse(const char *s, struct daemon_http_query *q, lp_error *err)
{
	memset(err, 0, sizeof *err);
	return daemon_http_query_parse(s, strlen(s), q, err);
}

START_TEST(test_good)
{
	struct daemon_http_query q;
	lp_error err;
	ck_assert_int_eq(parse("pid=123", &q, &err), LP_OK);
	ck_assert_int_eq(q.pid, 123);
	ck_assert(q.seconds == DAEMON_HTTP_DEFAULT_SECONDS);
	/* neither pid nor service: every target; a service by name */
	ck_assert_int_eq(parse("seconds=1", &q, &err), LP_OK);
	ck_assert_int_eq(q.pid, 0);
	ck_assert_str_eq(q.service, "");
	ck_assert_int_eq(parse("service=web-1.service&seconds=2", &q, &err), LP_OK);
	ck_assert_str_eq(q.service, "web-1.service");
	ck_assert_int_eq(parse("seconds=2.5&pid=7", &q, &err), LP_OK);
	ck_assert_int_eq(q.pid, 7);
	ck_assert(q.seconds == 2.5);
	/* decoded as libmicrohttpd does; empty arguments skipped */
	ck_assert_int_eq(parse("%70id=%31%32&&seconds=3600", &q, &err), LP_OK);
	ck_assert_int_eq(q.pid, 12);
	ck_assert(q.seconds == 3600);
	/* one argument at a time, as the server hands them over */
	daemon_http_query_init(&q);
	ck_assert_int_eq(daemon_http_query_arg(&q, "seconds", "1", &err), LP_OK);
	ck_assert_int_eq(daemon_http_query_finish(&q, &err), LP_OK);	/* all */
	ck_assert_int_eq(daemon_http_query_arg(&q, "pid", "99", &err), LP_OK);
	ck_assert_int_eq(daemon_http_query_finish(&q, &err), LP_OK);
	ck_assert_int_eq(q.pid, 99);
}
END_TEST

START_TEST(test_bad)
{
	static const struct { const char *q, *msg; } bad[] = {
		/* without pid: every target (issue #23), asked with seconds=N
		 * at least; a service is a name */
		{ "", "give seconds=N (every target), service=NAME or pid=PID" },
		{ "service=", "invalid service ''" },
		{ "service=a/b", "invalid service 'a/b'" },
		{ "service=a&service=b", "service is given twice" },
		{ "pid", "invalid pid ''" },
		{ "pid=", "invalid pid ''" },
		{ "pid=x", "invalid pid 'x'" },
		{ "pid=0", "invalid pid '0'" },
		{ "pid=-1", "invalid pid '-1'" },
		{ "pid=+1", "invalid pid ' 1'" },	/* '+' is a space */
		{ "pid=%2B1", "invalid pid '+1'" },
		{ "pid= 1", "invalid pid ' 1'" },
		{ "pid=1x", "invalid pid '1x'" },
		{ "pid=2147483648", "invalid pid '2147483648'" },
		{ "pid=99999999999999999999999", "invalid pid" },
		{ "pid=1&pid=2", "pid is given twice" },
		{ "pid=1&seconds=0", "invalid seconds '0'" },
		{ "pid=1&seconds=", "invalid seconds ''" },
		{ "pid=1&seconds", "invalid seconds ''" },
		{ "pid=1&seconds=-1", "invalid seconds" },
		{ "pid=1&seconds=3600.5", "invalid seconds" },
		{ "pid=1&seconds=inf", "invalid seconds 'inf'" },
		{ "pid=1&seconds=nan", "invalid seconds" },
		{ "pid=1&seconds=1e3", "invalid seconds" },
		{ "pid=1&seconds=0x10", "invalid seconds" },
		{ "pid=1&seconds=1..2", "invalid seconds" },
		{ "pid=1&seconds=.", "invalid seconds" },
		{ "pid=1&seconds=1&seconds=2", "seconds is given twice" },
		{ "pid=1&debug=1", "unknown parameter 'debug'" },
		{ "pid=1&=1", "unknown parameter ''" },
		{ "pid=1%00", "NUL" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct daemon_http_query q;
		lp_error err;
		ck_assert_msg(parse(bad[i].q, &q, &err) == LP_EINVAL, "'%s' accepted", bad[i].q);
		ck_assert_msg(strstr(err.msg, bad[i].msg), "'%s': %s", bad[i].q, err.msg);
		ck_assert_msg(!strchr(err.msg, '\n'), "'%s': not one line", bad[i].q);
	}
	/* a long value is quoted cut short; a long query is refused whole */
	char big[DAEMON_HTTP_QUERY_MAX + 2];
	memset(big, '9', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "pid=", 4);
	struct daemon_http_query q;
	lp_error err;
	ck_assert_int_eq(parse(big, &q, &err), LP_EINVAL);
	ck_assert(strlen(err.msg) < 100);
	big[DAEMON_HTTP_QUERY_MAX] = '\0';
	ck_assert_int_eq(parse(big, &q, &err), LP_EINVAL);
	ck_assert_msg(strstr(err.msg, "invalid pid") && strlen(err.msg) < 100, "%s", err.msg);
	/* bytes that are not text: an error, not a crash */
	const char raw[] = { 'p', 'i', 'd', '=', '1', '\0', '&', '\xff', '=', '%' };
	ck_assert_int_eq(daemon_http_query_parse(raw, sizeof raw, &q, &err), LP_EINVAL);
}
END_TEST

START_TEST(test_bearer)
{
	const char *tok = "0123456789abcdef0123";
	ck_assert(daemon_http_bearer_ok("Bearer 0123456789abcdef0123", tok));
	ck_assert(daemon_http_bearer_ok("bearer 0123456789abcdef0123", tok));
	ck_assert(daemon_http_bearer_ok("BEARER   0123456789abcdef0123 ", tok));
	ck_assert(!daemon_http_bearer_ok(NULL, tok));
	ck_assert(!daemon_http_bearer_ok("", tok));
	ck_assert(!daemon_http_bearer_ok("Bearer", tok));
	ck_assert(!daemon_http_bearer_ok("Bearer ", tok));
	ck_assert(!daemon_http_bearer_ok("Basic 0123456789abcdef0123", tok));
	ck_assert(!daemon_http_bearer_ok("Bearer0123456789abcdef0123", tok));
	ck_assert(!daemon_http_bearer_ok("Bearer 0123456789abcdef012", tok));	/* prefix */
	ck_assert(!daemon_http_bearer_ok("Bearer 0123456789abcdef01234", tok));	/* longer */
	ck_assert(!daemon_http_bearer_ok("Bearer 0123456789abcdef0124", tok));
	ck_assert(!daemon_http_bearer_ok("Bearer x", NULL));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("daemon_http_query");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_bearer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
