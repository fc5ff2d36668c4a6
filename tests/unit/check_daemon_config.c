/* The daemon's config parser: good files give the values written (and the
 * defaults for the rest), every bad one an error naming its line. */
#include <grp.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_config.h"
#include "units.h"
#include "unit.h"

static int parse(const char *text, struct daemon_config *c, lp_error *err)
{
	memset(err, 0, sizeof *err);
	return daemon_config_parse(text, strlen(text), "test.conf", c, err);
}

START_TEST(test_defaults)
{
	struct daemon_config c;
	lp_error err;
	ck_assert_int_eq(parse("", &c, &err), LP_OK);
	ck_assert_str_eq(c.dir, "/var/lib/loupe");
	ck_assert_str_eq(c.socket, "/run/loupe/loupe.sock");
	ck_assert_ptr_null(c.http);
	ck_assert(c.window_s == 60);
	ck_assert(c.retention_age_s == 86400);
	ck_assert_uint_eq(c.retention_size, 1ull << 30);
	ck_assert(c.max_cpu == 1);
	ck_assert_uint_eq(c.max_targets, 64);
	ck_assert_uint_eq(c.max_snapshot, 64ull << 20);
	/* not given: 0660 with group loupe when it exists, else 0600 */
	ck_assert_uint_eq(c.socket_mode, DAEMON_SOCKET_MODE_DEFAULT);
	ck_assert_ptr_null(c.socket_group);
	ck_assert_uint_eq(c.max_targets_per_user, 8);
	ck_assert_uint_eq(c.max_sections_per_user, 4);
	unsigned mode;
	gid_t gid;
	ck_assert_int_eq(daemon_socket_access(&c, &mode, &gid, &err), LP_OK);
	if (getgrnam("loupe"))
		ck_assert_msg(mode == 0660 && gid == getgrnam("loupe")->gr_gid, "%o %d", mode, (int)gid);
	else
		ck_assert_msg(mode == 0600 && gid == (gid_t)-1, "%o %d", mode, (int)gid);
	ck_assert_uint_eq(c.ntargets, 0);
	daemon_config_free(&c);
}
END_TEST

START_TEST(test_full_file)
{
	static const char text[] =
		"# every key\n"
		"dir = /srv/loupe\n"
		"window = 2m\n"
		"retention_age = 7d\n"
		"retention_size = 500M\n"
		"max_cpu = 2.5%\n"
		"max_targets = 8\n"
		"max_snapshot = 16MiB\n"
		"socket = /tmp/l.sock\n"
		"socket_mode = 0600\n"
		"http = 127.0.0.1:6060\n"
		"\n"
		"[target web]\n"
		"exe = python3*\n"
		"cmdline = uvicorn\n"
		"rate = 49\n"
		"mode = wall\n"
		"tasks = yes\n"
		"subprocesses = on\n"
		"; comment\n"
		"  [ target  pinned ]  \n"
		"pid = 12, 34 56\n"
		"native = true\r\n"
		"[target unit]\n"
		"cgroup = /sys/fs/cgroup/system.slice/app.service/\n"
		"cmdline = \" -m worker \"\n";
	struct daemon_config c;
	lp_error err;
	ck_assert_msg(parse(text, &c, &err) == LP_OK, "%s", err.msg);
	ck_assert_str_eq(c.dir, "/srv/loupe");
	ck_assert(c.window_s == 120);
	ck_assert(c.retention_age_s == 7 * 86400);
	ck_assert_uint_eq(c.retention_size, 500ull << 20);
	ck_assert(c.max_cpu == 2.5);
	ck_assert_uint_eq(c.max_targets, 8);
	ck_assert_uint_eq(c.max_snapshot, 16ull << 20);
	ck_assert_str_eq(c.socket, "/tmp/l.sock");
	ck_assert_uint_eq(c.socket_mode, 0600);
	ck_assert_str_eq(c.http, "127.0.0.1:6060");
	ck_assert_uint_eq(c.ntargets, 3);
	const struct daemon_target_cfg *t = &c.targets[0];
	ck_assert_str_eq(t->name, "web");
	ck_assert_int_eq(t->line, 13);
	ck_assert_str_eq(t->exe, "python3*");
	ck_assert_str_eq(t->cmdline, "uvicorn");
	ck_assert(t->rate == 49);
	ck_assert_int_eq(t->mode, MODE_WALL);
	ck_assert(t->tasks && t->subprocesses && !t->native);
	t = &c.targets[1];
	ck_assert_str_eq(t->name, "pinned");
	ck_assert_uint_eq(t->npids, 3);
	ck_assert_int_eq(t->pids[0], 12);
	ck_assert_int_eq(t->pids[2], 56);
	ck_assert(t->native);
	ck_assert(t->rate == 19);	/* the default */
	ck_assert_int_eq(t->mode, MODE_CPU);
	t = &c.targets[2];
	ck_assert_str_eq(t->cgroup, "/system.slice/app.service");
	ck_assert_str_eq(t->cmdline, " -m worker ");
	daemon_config_free(&c);
}
END_TEST

START_TEST(test_socket_and_quotas)
{
	struct daemon_config c;
	lp_error err;
	ck_assert_msg(parse("socket_mode = 0600\nsocket_group = 0\nmax_targets_per_user = 2\n"
			    "max_sections_per_user = 0\n", &c, &err) == LP_OK, "%s", err.msg);
	ck_assert_str_eq(c.socket_group, "0");
	ck_assert_uint_eq(c.max_targets_per_user, 2);
	ck_assert_uint_eq(c.max_sections_per_user, 0);
	unsigned mode;
	gid_t gid;
	ck_assert_int_eq(daemon_socket_access(&c, &mode, &gid, &err), LP_OK);
	ck_assert_uint_eq(mode, 0600);
	ck_assert_int_eq((int)gid, 0);
	free(c.socket_group);
	c.socket_group = strdup("ctlsec-no-such-group");
	ck_assert_int_eq(daemon_socket_access(&c, &mode, &gid, &err), LP_EINVAL);
	ck_assert_msg(strstr(err.msg, "no such group"), "%s", err.msg);
	daemon_config_free(&c);
}
END_TEST

/* Each bad file, the line its error must name and a word of the message. */
static const struct {
	const char *text;
	int line;
	const char *says;
} bad[] = {
	{ "colour = blue\n", 1, "unknown key 'colour'" },
	{ "window = 60\nwindow = 30\n", 2, "duplicate key window" },
	{ "window = soon\n", 1, "invalid window 'soon'" },
	{ "window = 0.5s\n", 1, "invalid window" },
	{ "window = 10x\n", 1, "invalid window" },
	{ "retention_size = 12Q\n", 1, "invalid retention_size" },
	{ "retention_size = -5M\n", 1, "invalid retention_size" },
	{ "retention_age = 1w\n", 1, "invalid retention_age" },
	{ "max_cpu = 0\n", 1, "invalid max_cpu" },
	{ "max_cpu = 150%\n", 1, "invalid max_cpu" },
	{ "max_targets = -1\n", 1, "invalid max_targets" },
	{ "max_snapshot = 3G\n", 1, "invalid max_snapshot" },
	{ "dir = relative/path\n", 1, "absolute path" },
	{ "socket_mode = 0999\n", 1, "invalid socket_mode" },
	{ "socket_group = a/b\n", 1, "invalid socket_group" },
	{ "max_targets_per_user = -1\n", 1, "invalid max_targets_per_user" },
	{ "max_sections_per_user = many\n", 1, "invalid max_sections_per_user" },
	{ "http = 6060\n", 1, "invalid http" },
	{ "http = example.com:80\n", 1, "invalid http" },
	{ "http = 127.0.0.1:99999\n", 1, "invalid http" },
	{ "\n\n[target a]\nexe = x\nrate = 0\n", 5, "invalid rate '0'" },
	{ "[target a]\nexe = x\nrate = fast\n", 3, "invalid rate" },
	{ "[target a]\nexe = x\nmode = turbo\n", 3, "invalid mode 'turbo'" },
	{ "[target a]\nexe = x\ntasks = maybe\n", 3, "invalid tasks 'maybe'" },
	{ "[target a]\nexe = x\nexe = y\n", 3, "duplicate key exe" },
	{ "[target a]\nexe = x\n[target a]\nexe = y\n", 3, "duplicate section [target a] (first on line 1)" },
	{ "[target a]\nrate = 5\n", 1, "says no process" },
	{ "[target a]\npython = maybe\n", 2, "invalid python 'maybe'" },
	{ "[target a]\nunit = a/b.service\n", 2, "invalid unit" },
	{ "[target a]\npython = all\nservice = pod\n", 3, "invalid service 'pod'" },
	{ "[target a]\npid = 1\npython = all\n", 1, "cannot be combined" },
	{ "[target a]\n[target b]\nexe = y\n", 1, "says no process" },
	{ "[target a]\npid = 1\nexe = python\n", 1, "cannot be combined" },
	{ "[target a]\npid = 12x\n", 2, "invalid pid list" },
	{ "[target a]\npid = 0\n", 2, "invalid pid list" },
	{ "[target a]\npid = 5 5\n", 2, "listed twice" },
	{ "[target a]\npid =\n", 2, "at least one" },
	{ "[target a]\nexe = x\nwindow = 5s\n", 3, "is a global key" },
	{ "exe = python\n", 1, "belongs in a [target NAME] section" },
	{ "[target a b]\nexe = x\n", 1, "invalid target name" },
	{ "[target ../etc]\nexe = x\n", 1, "invalid target name" },
	{ "[target]\nexe = x\n", 1, "[target] needs a name" },
	{ "[process x]\nexe = x\n", 1, "unknown section" },
	{ "[target x\nexe = x\n", 1, "closing ']'" },
	{ "just words\n", 1, "expected 'key = value'" },
	{ "= 5\n", 1, "no key" },
	{ "dir = \"/x\n", 1, "quote" },
	{ "dir =\n", 1, "needs a value" },
	{ "[target a]\ncgroup = system.slice\n", 2, "invalid cgroup" },
	{ "[target a]\nexe =\n", 2, "exe needs a value" },
};

START_TEST(test_bad_files)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct daemon_config c;
		lp_error err;
		int rc = parse(bad[i].text, &c, &err);
		ck_assert_msg(rc != LP_OK, "accepted: %s", bad[i].text);
		char want[32];
		snprintf(want, sizeof want, "test.conf:%d: ", bad[i].line);
		ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0,
			      "%s -> '%s', want line %d", bad[i].text, err.msg, bad[i].line);
		ck_assert_msg(strstr(err.msg, bad[i].says), "%s -> '%s', want '%s'",
			      bad[i].text, err.msg, bad[i].says);
		/* the message is one line */
		ck_assert_ptr_null(strchr(err.msg, '\n'));
		ck_assert_uint_eq(c.ntargets, 0);
		ck_assert_ptr_null(c.targets);
	}
}
END_TEST

START_TEST(test_long_line_and_nul)
{
	size_t n = DAEMON_CONFIG_MAX_LINE + 10;
	char *text = malloc(n + 16);
	memcpy(text, "dir = /", 7);
	memset(text + 7, 'a', n - 7);
	text[n] = '\0';
	struct daemon_config c;
	lp_error err;
	ck_assert_int_ne(parse(text, &c, &err), LP_OK);
	ck_assert(strstr(err.msg, "test.conf:1: line longer"));
	free(text);
	static const char nul[] = "window = 5\n\0\n";
	ck_assert_int_ne(daemon_config_parse(nul, sizeof nul - 1, "n.conf", &c, &err), LP_OK);
	ck_assert(strstr(err.msg, "n.conf:2: a NUL byte"));
}
END_TEST

START_TEST(test_load)
{
	char dir[128], path[300];
	unit_tmpdir_make(dir, sizeof dir, "loupe-conf");
	snprintf(path, sizeof path, "%s/loupe.conf", dir);
	struct daemon_config c;
	lp_error err = { 0 };
	ck_assert_int_ne(daemon_config_load(path, &c, &err), LP_OK);
	ck_assert(strstr(err.msg, "cannot read config"));
	FILE *f = fopen(path, "w");
	fputs("window = 2s\n[target py]\nexe = python*\n", f);
	fclose(f);
	ck_assert_msg(daemon_config_load(path, &c, &err) == LP_OK, "%s", err.msg);
	ck_assert(c.window_s == 2);
	ck_assert_uint_eq(c.ntargets, 1);
	daemon_config_free(&c);
	ck_assert_int_ne(daemon_config_load(dir, &c, &err), LP_OK);
	ck_assert(strstr(err.msg, "not a regular file"));
	unit_tmpdir_remove(dir);
}
END_TEST

/* The HTTP endpoint's access keys (daemon_http checks the files at
 * start): token file, the open acknowledgement, TLS, unix:PATH. */
START_TEST(test_http_keys)
{
	struct daemon_config c;
	lp_error err;
	ck_assert_int_eq(parse("http = unix:/run/loupe/http.sock\nhttp_token_file = /etc/loupe/token\n"
			       "http_tls_cert = /etc/loupe/c.pem\nhttp_tls_key = /etc/loupe/k.pem\n",
			       &c, &err), LP_OK);
	ck_assert_str_eq(c.http, "unix:/run/loupe/http.sock");
	ck_assert_str_eq(c.http_token_file, "/etc/loupe/token");
	ck_assert_str_eq(c.http_tls_cert, "/etc/loupe/c.pem");
	ck_assert_str_eq(c.http_tls_key, "/etc/loupe/k.pem");
	ck_assert(!c.http_open);
	daemon_config_free(&c);
	ck_assert_int_eq(parse("http = 127.0.0.1:6060\nhttp_open = " DAEMON_HTTP_OPEN_ACK "\n", &c, &err), LP_OK);
	ck_assert(c.http_open);
	ck_assert_ptr_null(c.http_token_file);
	daemon_config_free(&c);
	static const char *const bad_http[][2] = {
		{ "http_open = yes\n", "http_open is 'yes-any-local-user-may-read-all-profiles' or no" },
		{ "http_open = true\n", "http_open is" },
		{ "http_token_file = token\n", "http_token_file must be an absolute path" },
		{ "http_tls_key = k.pem\n", "http_tls_key must be an absolute path" },
		{ "http = unix:relative\n", "invalid http" },
		{ "http = unix:\n", "invalid http" },
		{ "http_token_file = /a\nhttp_token_file = /b\n", "http_token_file" },
	};
	for (size_t i = 0; i < sizeof bad_http / sizeof *bad_http; i++) {
		ck_assert_msg(parse(bad_http[i][0], &c, &err) != LP_OK, "accepted: %s", bad_http[i][0]);
		ck_assert_msg(strstr(err.msg, bad_http[i][1]), "%s: %s", bad_http[i][0], err.msg);
	}
}
END_TEST

START_TEST(test_units)
{
	double d;
	uint64_t b;
	ck_assert(units_duration("90", &d) == 0 && d == 90);
	ck_assert(units_duration("1.5m", &d) == 0 && d == 90);
	ck_assert(units_duration("2h", &d) == 0 && d == 7200);
	ck_assert(units_duration("1d", &d) == 0 && d == 86400);
	ck_assert(units_duration("500ms", &d) == 0 && d == 0.5);
	ck_assert_int_ne(units_duration("5mm", &d), 0);
	ck_assert_int_ne(units_duration("", &d), 0);
	ck_assert_int_ne(units_duration("5 m", &d), 0);
	ck_assert_int_ne(units_duration("-5m", &d), 0);
	ck_assert_int_ne(units_duration("nan", &d), 0);
	ck_assert_int_ne(units_duration("inf", &d), 0);
	ck_assert(units_size("4096", &b) == 0 && b == 4096);
	ck_assert(units_size("512K", &b) == 0 && b == 512 * 1024);
	ck_assert(units_size("1.5G", &b) == 0 && b == 3ull << 29);
	ck_assert(units_size("2GiB", &b) == 0 && b == 2ull << 30);
	ck_assert(units_size("10B", &b) == 0 && b == 10);
	ck_assert_int_ne(units_size("M", &b), 0);
	ck_assert_int_ne(units_size("5X", &b), 0);
	ck_assert_int_ne(units_size("0", &b), 0);
	ck_assert_int_ne(units_size("1e30", &b), 0);
	char host[64];
	unsigned port;
	ck_assert(daemon_parse_listen("[::1]:80", host, sizeof host, &port) == 0 &&
		  strcmp(host, "::1") == 0 && port == 80);
	ck_assert(daemon_parse_listen("localhost:0", host, sizeof host, &port) == 0 &&
		  strcmp(host, "127.0.0.1") == 0 && port == 0);
	ck_assert_int_ne(daemon_parse_listen("::1:80", host, sizeof host, &port), 0);
	ck_assert_int_ne(daemon_parse_listen("1.2.3.4:", host, sizeof host, &port), 0);
}
END_TEST

/* A comment may follow a value or a section header after a blank; a '#'
 * inside a word or inside quotes is the value's. */
START_TEST(test_trailing_comments)
{
	static const char text[] =
		"dir = /srv/loupe   # recordings\n"
		"window = 2m\t; two minutes\n"
		"http = 127.0.0.1:6060       # /debug/pprof/profile and /metrics\n"
		"[target web]   # the web tier\n"
		"exe = python3*\n"
		"cmdline = a#b   # not the first '#'\n"
		"[target q]\n"
		"cmdline = \" x # y \"   # quoted\n";
	struct daemon_config c;
	lp_error err;
	ck_assert_msg(parse(text, &c, &err) == LP_OK, "%s", err.msg);
	ck_assert_str_eq(c.dir, "/srv/loupe");
	ck_assert(c.window_s == 120);
	ck_assert_str_eq(c.http, "127.0.0.1:6060");
	ck_assert_uint_eq(c.ntargets, 2);
	ck_assert_str_eq(c.targets[0].name, "web");
	ck_assert_str_eq(c.targets[0].cmdline, "a#b");
	ck_assert_str_eq(c.targets[1].cmdline, " x # y ");
	daemon_config_free(&c);

	ck_assert_int_eq(parse("dir = \"/a\" junk\n", &c, &err), LP_EINVAL);
	ck_assert_str_eq(err.msg, "test.conf:1: value of dir has ' junk' after its closing quote");
	ck_assert_int_eq(parse("dir =   # nothing but a comment\n", &c, &err), LP_EINVAL);
	ck_assert_str_eq(err.msg, "test.conf:1: dir needs a value");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_socket_and_quotas);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_long_line_and_nul);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_units);
	tcase_add_test(tc, test_http_keys);
	tcase_add_test(tc, test_trailing_comments);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
