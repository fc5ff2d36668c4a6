/* The ctl protocol and server: frames round-trip, the decoder survives
 * random and cut bytes, the server answers garbage with an error and goes
 * on serving, and the SO_PEERCRED rule refuses other users' processes. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_peer.h"
#include "ctl_proto.h"
#include "ctl_server.h"
#include "unit.h"

START_TEST(test_roundtrip)
{
	char *argv[] = { "snapshot", "1234", "--since", "", "10m" };
	uint8_t *b;
	size_t len;
	ck_assert_int_eq(ctl_encode_request(5, argv, &b, &len), LP_OK);
	struct ctl_frame f;
	lp_error err = { 0 };
	/* every prefix is "not yet", the whole frame decodes */
	for (size_t i = 1; i < len; i++)
		ck_assert_int_eq(ctl_decode(b, i, CTL_MAX_REQUEST, &f, &err), CTL_AGAIN);
	ck_assert_int_eq(ctl_decode(b, len, CTL_MAX_REQUEST, &f, &err), LP_OK);
	ck_assert_uint_eq(f.frame_len, len);
	ck_assert_int_eq(f.type, CTL_REQUEST);
	char **av;
	int ac;
	ck_assert_int_eq(ctl_parse_request(f.body, f.len, &av, &ac, &err), LP_OK);
	ck_assert_int_eq(ac, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_str_eq(av[i], argv[i]);
	ck_assert_ptr_null(av[5]);
	free(av);
	free(b);
	ck_assert_int_eq(ctl_encode_reply(CTL_REPLY_FILE, 0, "\0\1\2", 3, &b, &len), LP_OK);
	ck_assert_int_eq(ctl_decode(b, len, 100, &f, &err), LP_OK);
	ck_assert_int_eq(f.type, CTL_REPLY_FILE);
	ck_assert_uint_eq(ctl_reply_status(&f), 0);
	ck_assert_uint_eq(f.len, 7);
	ck_assert_int_eq(memcmp(f.body + 4, "\0\1\2", 3), 0);
	/* a reply bigger than the reader accepts is refused from its header */
	ck_assert_int_eq(ctl_decode(b, CTL_HEADER_LEN, 6, &f, &err), LP_EFORMAT);
	ck_assert(strstr(err.msg, "over the limit"));
	free(b);
}
END_TEST

START_TEST(test_bad_frames)
{
	struct ctl_frame f;
	lp_error err = { 0 };
	ck_assert_int_eq(ctl_decode((const uint8_t *)"GET / HTTP/1.1\r\n", 16, CTL_MAX_REQUEST, &f, &err), LP_EFORMAT);
	ck_assert(strstr(err.msg, "bad magic"));
	/* garbage is refused from its first byte */
	ck_assert_int_eq(ctl_decode((const uint8_t *)"X", 1, CTL_MAX_REQUEST, &f, &err), LP_EFORMAT);
	ck_assert_int_eq(ctl_decode((const uint8_t *)"LPCT\x09", 5, CTL_MAX_REQUEST, &f, &err), LP_EFORMAT);
	ck_assert(strstr(err.msg, "version 9"));
	ck_assert_int_eq(ctl_decode((const uint8_t *)"LPCT\x01\x07", 6, CTL_MAX_REQUEST, &f, &err), LP_EFORMAT);
	ck_assert(strstr(err.msg, "type 7"));
	ck_assert_int_eq(ctl_decode((const uint8_t *)"LPCT\x01\x01\x00\x01", 8, CTL_MAX_REQUEST, &f, &err), LP_EFORMAT);
	ck_assert_int_eq(ctl_decode((const uint8_t *)"LPCT\x01\x01\x00\x00\x7f\xff\xff\xff", 12,
				    CTL_MAX_REQUEST, &f, &err), LP_EFORMAT);
	ck_assert(strstr(err.msg, "over the limit"));
	char **av;
	int ac;
	ck_assert_int_eq(ctl_parse_request((const uint8_t *)"", 0, &av, &ac, &err), LP_EFORMAT);
	ck_assert_int_eq(ctl_parse_request((const uint8_t *)"status", 6, &av, &ac, &err), LP_EFORMAT);
	ck_assert(strstr(err.msg, "NUL"));
	ck_assert_int_eq(ctl_parse_request((const uint8_t *)"\0x\0", 3, &av, &ac, &err), LP_EFORMAT);
	ck_assert(strstr(err.msg, "empty command"));
	uint8_t many[200];
	memset(many, 0, sizeof many);
	for (int i = 0; i < 100; i++)
		many[2 * i] = 'a';
	ck_assert_int_eq(ctl_parse_request(many, sizeof many, &av, &ac, &err), LP_EFORMAT);
	ck_assert(strstr(err.msg, "100 arguments"));
	char *big[65];
	for (int i = 0; i < 65; i++)
		big[i] = "x";
	uint8_t *b;
	size_t len;
	ck_assert_int_eq(ctl_encode_request(65, big, &b, &len), LP_EINVAL);
}
END_TEST

/* Random bytes, and random damage to a good frame: the decoder never reads
 * past what it was given (ASan watches) and never claims a frame longer
 * than the input. */
START_TEST(test_fuzz)
{
	srand(12345);
	char *argv[] = { "dump", "42", "--tasks" };
	uint8_t *good;
	size_t glen;
	ck_assert_int_eq(ctl_encode_request(3, argv, &good, &glen), LP_OK);
	for (int round = 0; round < 200000; round++) {
		size_t len = (size_t)(rand() % 48);
		uint8_t *buf = malloc(len ? len : 1);
		if (round & 1) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rand();
			if (len >= 4 && rand() % 2)
				memcpy(buf, CTL_MAGIC, 4);
			if (len >= 8 && rand() % 2)
				buf[4] = CTL_VERSION, buf[5] = 1, buf[6] = buf[7] = 0;
		} else {
			if (len > glen)
				len = glen;
			memcpy(buf, good, len);
			if (len)
				buf[rand() % len] = (uint8_t)rand();
		}
		struct ctl_frame f;
		lp_error err;
		int rc = ctl_decode(buf, len, CTL_MAX_REQUEST, &f, &err);
		ck_assert(rc == LP_OK || rc == CTL_AGAIN || rc == LP_EFORMAT);
		if (rc == LP_OK) {
			ck_assert_uint_le(f.frame_len, len);
			char **av;
			int ac;
			if (ctl_parse_request(f.body, f.len, &av, &ac, &err) == LP_OK) {
				ck_assert_int_ge(ac, 1);
				ck_assert_int_le(ac, CTL_MAX_ARGS);
				free(av);
			}
		}
		free(buf);
	}
	free(good);
}
END_TEST

static uint64_t deferred;	/* the ticket of the latest "later" */

/* The server under test: "echo ARGS" answers its arguments, "whoami" the
 * peer's uid, "file" three bytes, "later MS" nothing yet (deferred, for
 * at most MS), anything else an error. */
static void handler(void *ctx, const struct ctl_peer *peer,
		    const struct ctl_request *req, struct ctl_reply *r)
{
	(void)ctx;
	if (strcmp(req->argv[0], "echo") == 0) {
		char buf[256] = "";
		for (int i = 1; i < req->argc; i++)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i > 1 ? " " : "", req->argv[i]);
		ctl_reply_text(r, 0, "%s", buf);
	} else if (strcmp(req->argv[0], "whoami") == 0) {
		ctl_reply_text(r, 0, "uid %u pid %d", (unsigned)peer->uid, (int)peer->pid);
	} else if (strcmp(req->argv[0], "later") == 0 && req->argc == 2) {
		ctl_reply_text(r, 0, "dropped by the defer");
		deferred = ctl_reply_defer(r, (unsigned)atoi(req->argv[1]));
	} else if (strcmp(req->argv[0], "file") == 0) {
		uint8_t *d = malloc(3);
		memcpy(d, "abc", 3);
		ctl_reply_file(r, d, 3);
	} else {
		ctl_reply_text(r, 2, "unknown command '%s'", req->argv[0]);
	}
}

struct fixture {
	char dir[128], path[160];
	ctl_server *srv;
};

static void fixture_up(struct fixture *fx)
{
	unit_tmpdir_make(fx->dir, sizeof fx->dir, "loupe-ctl");
	snprintf(fx->path, sizeof fx->path, "%s/run/ctl.sock", fx->dir);
	lp_error err = { 0 };
	ck_assert_msg(ctl_server_new(&fx->srv, fx->path, 0600, (gid_t)-1, handler, NULL, &err) == LP_OK, "%s", err.msg);
}

static void fixture_down(struct fixture *fx)
{
	ctl_server_free(fx->srv);
	ck_assert_int_ne(access(fx->path, F_OK), 0);	/* removed */
	unit_tmpdir_remove(fx->dir);
}

static int client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

/* Runs the server until the client fd has a whole reply (or EOF), within
 * timeout_ms; returns the bytes read (reply frame) in buf. */
static size_t pump(ctl_server *srv, int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	size_t n = 0;
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		struct pollfd fds[1 + CTL_MAX_CLIENTS];
		size_t nf = ctl_server_pollfds(srv, fds, 1 + CTL_MAX_CLIENTS);
		int t = ctl_server_timeout_ms(srv);
		poll(fds, nf, t < 0 || t > 10 ? 10 : t);
		ctl_server_handle(srv, fds, nf);
		for (;;) {
			ssize_t r = recv(fd, buf + n, cap - n, MSG_DONTWAIT);
			if (r > 0) {
				n += (size_t)r;
				continue;
			}
			if (r == 0)
				return n;
			break;
		}
		struct ctl_frame f;
		lp_error err;
		if (n && ctl_decode(buf, n, cap, &f, &err) == LP_OK)
			return n;
	}
	return n;
}

/* The reply's status and text (NUL-terminated in buf). */
static uint32_t reply(uint8_t *buf, size_t n, const char **text, enum ctl_type *type)
{
	struct ctl_frame f;
	lp_error err = { 0 };
	ck_assert_msg(ctl_decode(buf, n, 4096, &f, &err) == LP_OK, "no whole reply (%zu bytes): %s", n, err.msg);
	((uint8_t *)f.body)[f.len] = 0;
	*text = (const char *)f.body + 4;
	*type = f.type;
	return ctl_reply_status(&f);
}

static void send_all(int fd, const void *b, size_t len)
{
	ck_assert_int_eq(send(fd, b, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void request(int fd, int argc, char **argv)
{
	uint8_t *b;
	size_t len;
	ck_assert_int_eq(ctl_encode_request(argc, argv, &b, &len), LP_OK);
	send_all(fd, b, len);
	free(b);
}

START_TEST(test_server)
{
	struct fixture fx;
	fixture_up(&fx);
	struct stat st;
	ck_assert_int_eq(stat(fx.path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	uint8_t buf[4096];
	const char *text;
	enum ctl_type type;

	int fd = client(fx.path);
	char *echo[] = { "echo", "a", "b c" };
	request(fd, 3, echo);
	size_t n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 0);
	ck_assert_int_eq(type, CTL_REPLY_TEXT);
	ck_assert_str_eq(text, "a b c");
	close(fd);

	fd = client(fx.path);
	char *who[] = { "whoami" };
	request(fd, 1, who);
	n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	reply(buf, n, &text, &type);
	char want[64];
	snprintf(want, sizeof want, "uid %u pid %d", (unsigned)getuid(), (int)getpid());
	ck_assert_str_eq(text, want);
	close(fd);

	fd = client(fx.path);
	char *file[] = { "file" };
	request(fd, 1, file);
	n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 0);
	ck_assert_int_eq(type, CTL_REPLY_FILE);
	ck_assert_int_eq(memcmp(text, "abc", 3), 0);
	close(fd);

	/* garbage: an error reply */
	fd = client(fx.path);
	send_all(fd, "GET / HTTP/1.0\r\n\r\n", 18);
	n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 2);
	ck_assert_int_eq(type, CTL_REPLY_ERROR);
	ck_assert(strstr(text, "bad magic"));
	close(fd);

	/* truncated: the header promises 100 bytes, 3 come, then EOF */
	fd = client(fx.path);
	send_all(fd, "LPCT\x01\x01\x00\x00\x00\x00\x00\x64st\0", 15);
	shutdown(fd, SHUT_WR);
	n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 2);
	ck_assert(strstr(text, "truncated ctl request"));
	close(fd);

	/* oversized: refused from the header, before any body */
	fd = client(fx.path);
	send_all(fd, "LPCT\x01\x01\x00\x00\x00\x10\x00\x00", 12);
	n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 2);
	ck_assert(strstr(text, "over the limit"));
	close(fd);

	/* a client that connects and leaves, then a good one still served */
	close(client(fx.path));
	fd = client(fx.path);
	request(fd, 3, echo);
	n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 0);
	close(fd);

	char *bad[] = { "nonesuch" };
	fd = client(fx.path);
	request(fd, 1, bad);
	n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 2);
	ck_assert_str_eq(text, "unknown command 'nonesuch'");
	close(fd);
	fixture_down(&fx);
}
END_TEST

/* A silent client is answered at its deadline; meanwhile others are
 * served; clients beyond CTL_MAX_CLIENTS are told the daemon is busy. */
START_TEST(test_server_stall_and_busy)
{
	struct fixture fx;
	fixture_up(&fx);
	uint8_t buf[4096];
	const char *text;
	enum ctl_type type;
	int silent = client(fx.path);
	send_all(silent, "LPCT", 4);
	int fd = client(fx.path);
	char *echo[] = { "echo", "x" };
	request(fd, 2, echo);
	size_t n = pump(fx.srv, fd, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 0);
	close(fd);
	n = pump(fx.srv, silent, buf, sizeof buf - 1, CTL_REQUEST_DEADLINE_MS + 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 2);
	ck_assert(strstr(text, "timed out"));
	close(silent);

	int fds[CTL_MAX_CLIENTS + 1];
	for (int i = 0; i <= CTL_MAX_CLIENTS; i++) {
		fds[i] = client(fx.path);
		send_all(fds[i], "LP", 2);
		struct pollfd p[1 + CTL_MAX_CLIENTS];
		size_t np = ctl_server_pollfds(fx.srv, p, 1 + CTL_MAX_CLIENTS);
		poll(p, np, 100);
		ctl_server_handle(fx.srv, p, np);
	}
	n = pump(fx.srv, fds[CTL_MAX_CLIENTS], buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 1);
	ck_assert(strstr(text, "busy"));
	for (int i = 0; i <= CTL_MAX_CLIENTS; i++)
		close(fds[i]);
	fixture_down(&fx);
}
END_TEST

/* A deferred reply: the client waits while others are served, gets the
 * answer when it is completed, or an error at its deadline; one that
 * leaves is no longer waited for (its answer is dropped); one that only
 * shut its writing side still gets it. */
START_TEST(test_server_deferred)
{
	struct fixture fx;
	fixture_up(&fx);
	uint8_t buf[4096];
	const char *text;
	enum ctl_type type;
	char *later[] = { "later", "5000" }, *echo[] = { "echo", "x" };

	int a = client(fx.path);
	request(a, 2, later);
	ck_assert_uint_eq(pump(fx.srv, a, buf, sizeof buf - 1, 200), 0);
	uint64_t ta = deferred;
	ck_assert_uint_ne(ta, 0);
	ck_assert(ctl_server_waiting(fx.srv, ta));
	/* the others are served meanwhile */
	int b = client(fx.path);
	request(b, 2, echo);
	size_t n = pump(fx.srv, b, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 0);
	ck_assert_str_eq(text, "x");
	close(b);
	ck_assert(ctl_server_waiting(fx.srv, ta));
	struct ctl_reply r = { 0 };
	ctl_reply_text(&r, 0, "done after %d", 42);
	ck_assert_int_eq(ctl_server_complete(fx.srv, ta, &r), LP_OK);
	ck_assert(!ctl_server_waiting(fx.srv, ta));
	n = pump(fx.srv, a, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 0);
	ck_assert_str_eq(text, "done after 42");
	close(a);
	/* once only */
	ctl_reply_text(&r, 0, "again");
	ck_assert_int_eq(ctl_server_complete(fx.srv, ta, &r), LP_ENOTFOUND);
	ck_assert_ptr_null(r.data);

	/* a client that leaves: not waited for, its answer dropped */
	int c = client(fx.path);
	request(c, 2, later);
	pump(fx.srv, c, buf, sizeof buf - 1, 100);
	uint64_t tc = deferred;
	ck_assert_uint_ne(tc, ta);
	ck_assert(ctl_server_waiting(fx.srv, tc));
	close(c);
	b = client(fx.path);	/* pumps the server until the hang-up is seen */
	request(b, 2, echo);
	pump(fx.srv, b, buf, sizeof buf - 1, 2000);
	close(b);
	ck_assert(!ctl_server_waiting(fx.srv, tc));
	ctl_reply_text(&r, 0, "nobody reads this");
	ck_assert_int_eq(ctl_server_complete(fx.srv, tc, &r), LP_ENOTFOUND);

	/* shut its writing side only: still waiting, still answered */
	int e = client(fx.path);
	request(e, 2, later);
	shutdown(e, SHUT_WR);
	ck_assert_uint_eq(pump(fx.srv, e, buf, sizeof buf - 1, 200), 0);
	ck_assert(ctl_server_waiting(fx.srv, deferred));
	ctl_reply_text(&r, 0, "half");
	ck_assert_int_eq(ctl_server_complete(fx.srv, deferred, &r), LP_OK);
	n = pump(fx.srv, e, buf, sizeof buf - 1, 2000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 0);
	ck_assert_str_eq(text, "half");
	close(e);

	/* never completed: an error at its deadline */
	char *soon[] = { "later", "300" };
	int f = client(fx.path);
	request(f, 2, soon);
	n = pump(fx.srv, f, buf, sizeof buf - 1, 3000);
	ck_assert_uint_eq(reply(buf, n, &text, &type), 1);
	ck_assert_int_eq(type, CTL_REPLY_ERROR);
	ck_assert(strstr(text, "did not finish"));
	ck_assert(!ctl_server_waiting(fx.srv, deferred));
	close(f);

	/* a deferred client still there when the server is freed */
	int g = client(fx.path);
	request(g, 2, later);
	pump(fx.srv, g, buf, sizeof buf - 1, 100);
	ck_assert(ctl_server_waiting(fx.srv, deferred));
	fixture_down(&fx);
	close(g);
}
END_TEST

START_TEST(test_socket_in_use)
{
	struct fixture fx;
	fixture_up(&fx);
	ctl_server *second;
	lp_error err = { 0 };
	ck_assert_int_ne(ctl_server_new(&second, fx.path, 0600, (gid_t)-1, handler, NULL, &err), LP_OK);
	ck_assert(strstr(err.msg, "already listens"));
	/* a stale socket (its daemon died) is replaced */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	char stale[160];
	snprintf(stale, sizeof stale, "%s/stale.sock", fx.dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	ck_assert_uint_lt(strlen(stale), sizeof sa.sun_path);
	memcpy(sa.sun_path, stale, strlen(stale) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	ck_assert_int_eq(ctl_server_new(&second, stale, 0600, (gid_t)-1, handler, NULL, &err), LP_OK);
	ctl_server_free(second);
	/* not a socket */
	char notsock[160];
	snprintf(notsock, sizeof notsock, "%s/file", fx.dir);
	close(open(notsock, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_ne(ctl_server_new(&second, notsock, 0600, (gid_t)-1, handler, NULL, &err), LP_OK);
	ck_assert(strstr(err.msg, "not a socket"));
	fixture_down(&fx);
}
END_TEST

/* A child that becomes user nobody, dumpable or not, and waits. */
static pid_t nobody_child(int dumpable, int *release)
{
	int p[2], ready[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[1]);
		close(ready[0]);
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(1);
		/* explicitly: whether changing uid cleared it depends on
		 * fs.suid_dumpable */
		prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0);
		char c = 1;
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*release = p[1];
	return pid;
}

START_TEST(test_peer_rule)
{
	char why[256];
	struct ctl_peer root = { .pid = getpid(), .uid = 0, .gid = 0 };
	struct ctl_peer other = { .pid = -1, .uid = 4321, .gid = 4321 };
	ck_assert_int_eq(ctl_peer_may_act(&root, getpid(), why, sizeof why), 0);
	ck_assert_int_eq(ctl_peer_may_act(&root, 0x3ffffff, why, sizeof why), LP_ENOPROC);
	ck_assert_str_eq(why, "no process 67108863");
	if (getuid() != 0) {
		unit_skip("another user's process: needs root to make one");
	}
	ck_assert_int_eq(ctl_peer_may_act(&other, getpid(), why, sizeof why), LP_EPERM);
	ck_assert_msg(strstr(why, "permission denied: process") && strstr(why, "runs as user 0, you are user 4321"), "%s", why);
	int rel1, rel2;
	pid_t dumpable = nobody_child(1, &rel1);
	pid_t locked = nobody_child(0, &rel2);
	struct ctl_peer nobody = { .pid = -1, .uid = 65534, .gid = 65534 };
	int rc = ctl_peer_may_act(&nobody, dumpable, why, sizeof why);
	ck_assert_msg(rc == 0, "%s", why);
	rc = ctl_peer_may_act(&nobody, locked, why, sizeof why);
	ck_assert_int_eq(rc, LP_EPERM);
	ck_assert_msg(strstr(why, "not dumpable"), "%s", why);
	struct ctl_peer nobody_other_group = { .pid = -1, .uid = 65534, .gid = 100 };
	ck_assert_int_eq(ctl_peer_may_act(&nobody_other_group, dumpable, why, sizeof why), LP_EPERM);
	ck_assert_msg(strstr(why, "group 65534"), "%s", why);
	/* root may do anything */
	ck_assert_int_eq(ctl_peer_may_act(&root, locked, why, sizeof why), 0);
	close(rel1);
	close(rel2);
	waitpid(dumpable, NULL, 0);
	waitpid(locked, NULL, 0);
}
END_TEST

/* Root is uid 0 and nothing else: a peer whose PID is a process with
 * every capability (this test, as root) is still its uid.  The start
 * time given is the checked process's (/proc/PID/stat field 22). */
START_TEST(test_peer_root_is_uid_0)
{
	struct ctl_peer me_as_user = { .pid = getpid(), .uid = 4321, .gid = 4321 };
	struct ctl_peer root = { .pid = -1, .uid = 0, .gid = 0 };
	ck_assert(!ctl_peer_privileged(&me_as_user));
	ck_assert(ctl_peer_privileged(&root));
	char why[256], stat[1024];
	uint64_t st = 0;
	ck_assert_int_eq(ctl_peer_check(&root, getpid(), &st, why, sizeof why), 0);
	FILE *f = fopen("/proc/self/stat", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(stat, sizeof stat, f));
	fclose(f);
	const char *p = strrchr(stat, ')') + 2;
	unsigned long long want = 0;
	for (int field = 3; field < 22; field++)
		p = strchr(p, ' ') + 1;
	ck_assert_int_eq(sscanf(p, "%llu", &want), 1);
	ck_assert_uint_eq(st, want);
	/* a reaped process: no process, whatever its PID names later */
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	ck_assert_int_eq(ctl_peer_check(&root, c, &st, why, sizeof why), LP_ENOPROC);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("ctl");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_bad_frames);
	tcase_add_test(tc, test_fuzz);
	tcase_add_test(tc, test_server);
	tcase_add_test(tc, test_server_stall_and_busy);
	tcase_add_test(tc, test_peer_root_is_uid_0);
	tcase_add_test(tc, test_server_deferred);
	tcase_add_test(tc, test_socket_in_use);
	tcase_add_test(tc, test_peer_rule);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
