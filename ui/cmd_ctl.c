/* loupe ctl: send one command to a running daemon, print its answer. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "ctl_proto.h"
#include "daemon_config.h"
#include "formats/formats.h"
#include "options.h"
#include "units.h"

/* How long the daemon has to answer, beyond a command's own duration. */
#define CTL_CLIENT_TIMEOUT_S 30

static const char usage[] =
	"usage: loupe ctl [--socket PATH | --config FILE] COMMAND [ARGS...]\n"
	"\n"
	"Sends COMMAND to a running 'loupe daemon' over its control socket and\n"
	"prints the answer (or writes it to the -o FILE a command takes).\n"
	"\n"
	"  -s, --socket PATH    the daemon's control socket\n"
	"                       (default: the socket the config file names)\n"
	"  -c, --config FILE    the daemon's configuration, for its socket\n"
	"                       (default: " DAEMON_DEFAULT_CONFIG " when it can be\n"
	"                       read, else the socket " DAEMON_DEFAULT_SOCKET ")\n"
	"\n"
	"Commands (what the daemon answers to is listed by its 'help'):\n"
	"  status               targets, their rates and samples, the daemon's\n"
	"                       own CPU and memory, disk used\n"
	"  add PID              profile a process\n"
	"  add --match KEY=VALUE...\n"
	"                       profile the processes a [target] section with\n"
	"                       these keys would match (loupe.conf(5)), yours only\n"
	"                       unless you are root\n"
	"  remove PID|NAME      stop profiling a process, or a section added by\n"
	"                       add --match (the windows are kept)\n"
	"  snapshot PID -o FILE [--follow]\n"
	"                       a profile of its recent windows, any format;\n"
	"                       FILE as loupe record -o takes it (--follow: may\n"
	"                       be a symbolic link)\n"
	"  dump PID             its stacks now\n"
	"  trace PID [-d S] [--threshold T]\n"
	"                       loupe trace's event-loop summary of the process\n"
	"                       over S seconds (default 10, at most 300)\n"
	"  reload               read the config file again\n"
	"  stop                 finalize every window and exit\n"
	"\n"
	"Exit status: 0 done, 1 failed (or no daemon), 2 usage error.\n";

static double now_s(void)
{
	return (double)clock_mono_ns() / 1e9;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		cli_error("socket path %s is too long", path);
		return -2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cli_error("cannot create a socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return fd;
	int e = errno;
	close(fd);
	if (e == ENOENT || e == ECONNREFUSED)
		cli_error("no daemon listening on %s: start 'loupe daemon', or give its socket with --socket", path);
	else if (e == EACCES || e == EPERM)
		cli_error("cannot connect to %s: permission denied (the socket's mode keeps your user out)", path);
	else
		cli_error("cannot connect to %s: %s", path, strerror(e));
	return -1;
}

static int send_all(int fd, const uint8_t *b, size_t len)
{
	while (len) {
		ssize_t w = send(fd, b, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads one reply frame into *buf (malloc'd) within timeout_s. */
static int read_reply(int fd, double timeout_s, uint8_t **buf, size_t *len,
		      struct ctl_frame *f)
{
	size_t cap = 65536, n = 0;
	uint8_t *b = malloc(cap);
	double deadline = now_s() + timeout_s;
	if (!b) {
		cli_error("out of memory");
		return 1;
	}
	for (;;) {
		lp_error err = { 0 };
		int rc = n ? ctl_decode(b, n, CTL_MAX_REPLY, f, &err) : CTL_AGAIN;
		if (rc == LP_OK)
			break;
		if (rc != CTL_AGAIN) {
			cli_error("bad reply from the daemon: %s", err.msg);
			free(b);
			return 1;
		}
		double left = deadline - now_s();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = left > 0 ? poll(&p, 1, (int)(left * 1000) + 1) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			cli_error("the daemon did not answer within %.0f s", timeout_s);
			free(b);
			return 1;
		}
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb) {
				cli_error("out of memory reading the reply");
				free(b);
				return 1;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, b + n, cap - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			cli_error("the daemon closed the connection before its answer was complete");
			free(b);
			return 1;
		}
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int write_output(const char *path, unsigned flags, const uint8_t *data,
			size_t len)
{
	if (!path) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
			cli_error("cannot write to stdout");
			return 1;
		}
		return 0;
	}
	atomic_file af;
	lp_error err = { 0 };
	if (atomic_file_open_flags(&af, path, flags, &err) != LP_OK) {
		cli_error("%s", err.msg);
		return 1;
	}
	if (fwrite(data, 1, len, af.fp) != len) {
		atomic_file_abort(&af);
		cli_error("cannot write %s: %s", path, strerror(errno));
		return 1;
	}
	if (atomic_file_commit(&af, &err) != LP_OK) {
		cli_error("%s", err.msg);
		return 1;
	}
	return 0;
}

/* The socket a daemon started with config listens on.  The default file
 * may be missing or root's alone: then the default socket, quietly; a file
 * the user named must be read. */
static int socket_from_config(const char *config, bool named, char *out,
			      size_t len)
{
	struct daemon_config c;
	lp_error err = { 0 };
	if (daemon_config_load(config, &c, &err) != LP_OK) {
		if (!named) {
			snprintf(out, len, "%s", DAEMON_DEFAULT_SOCKET);
			return 0;
		}
		cli_error("%s", err.msg);
		return 1;
	}
	int n = snprintf(out, len, "%s", c.socket);
	daemon_config_free(&c);
	if (n < 0 || (size_t)n >= len) {
		cli_error("%s: socket path too long", config);
		return 1;
	}
	return 0;
}

int cmd_ctl(int argc, char **argv)
{
	const char *sock = NULL, *output = NULL, *config = NULL;
	char sock_buf[PATH_MAX];
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (++i == argc) {
				cli_error("option %s needs a value (see 'loupe ctl --help')", a);
				return 2;
			}
			sock = argv[i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			sock = a + 9;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (++i == argc) {
				cli_error("option %s needs a value (see 'loupe ctl --help')", a);
				return 2;
			}
			config = argv[i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			config = a + 9;
		} else {
			cli_error("unknown option '%s' (see 'loupe ctl --help')", a);
			return 2;
		}
	}
	if (i == argc) {
		cli_error("no command: give one such as 'loupe ctl status' (see 'loupe ctl --help')");
		return 2;
	}
	if (sock && config) {
		cli_error("give either --socket or --config, not both (see 'loupe ctl --help')");
		return 2;
	}
	if (!sock) {
		if (socket_from_config(config ? config : DAEMON_DEFAULT_CONFIG,
				       config != NULL, sock_buf, sizeof sock_buf))
			return 1;
		sock = sock_buf;
	}
	/* The command's words; -o FILE stays here: the daemon is told the
	 * format (from FILE's extension) and sends the bytes back. */
	int nw = 0;
	char **words = calloc((size_t)(argc - i) + 3, sizeof *words);
	if (!words) {
		cli_error("out of memory");
		return 1;
	}
	double duration = 0;
	int format_given = 0;
	unsigned out_flags = 0;
	for (int k = i; k < argc; k++) {
		if ((strcmp(argv[k], "-o") == 0 || strcmp(argv[k], "--output") == 0) && k + 1 < argc) {
			output = argv[++k];
			continue;
		}
		/* the client writes FILE: the daemon is not told */
		if (strcmp(argv[k], "--follow") == 0) {
			out_flags |= OUTPUT_FOLLOW;
			continue;
		}
		if (strcmp(argv[k], "--format") == 0)
			format_given = 1;
		/* the reply comes after the command's duration (trace -d S) */
		if ((strcmp(argv[k], "-d") == 0 || strcmp(argv[k], "--duration") == 0) && k + 1 < argc &&
		    units_duration(argv[k + 1], &duration) != 0)
			duration = 0;	/* the daemon says what is wrong */
		words[nw++] = argv[k];
	}
	if (strcmp(words[0], "trace") == 0 && duration == 0)
		duration = CTL_TRACE_DEFAULT_S;
	if (output && !format_given) {
		enum output_format f = format_from_path(output);
		if (f == FORMAT_NONE) {
			cli_error("cannot tell the format of '%s' from its extension: give --format", output);
			free(words);
			return 2;
		}
		words[nw++] = "--format";
		words[nw++] = (char *)format_name(f);
	}
	uint8_t *req, *rep = NULL;
	size_t reqlen, replen;
	if (ctl_encode_request(nw, words, &req, &reqlen) != LP_OK) {
		cli_error("command too long: at most %d words and %u bytes", CTL_MAX_ARGS, CTL_MAX_REQUEST);
		free(words);
		return 2;
	}
	free(words);
	int status = 1;
	int fd = connect_to(sock);
	if (fd == -2) {
		free(req);
		return 2;
	}
	if (fd < 0) {
		free(req);
		return 1;
	}
	struct ctl_frame f;
	if (send_all(fd, req, reqlen) != 0) {
		/* a daemon that refuses the connection (busy) answers and
		 * closes before reading: its reply is still there to read */
		int e = errno;
		if (e != EPIPE && e != ECONNRESET) {
			cli_error("cannot send to the daemon at %s: %s", sock, strerror(e));
			goto out;
		}
		if (read_reply(fd, 1, &rep, &replen, &f))
			goto out;
	} else if (read_reply(fd, CTL_CLIENT_TIMEOUT_S + duration, &rep, &replen, &f)) {
		goto out;
	}
	uint32_t st = ctl_reply_status(&f);
	const uint8_t *data = f.len >= 4 ? f.body + 4 : f.body;
	size_t dlen = f.len >= 4 ? f.len - 4 : 0;
	if (f.type == CTL_REPLY_ERROR || st != 0) {
		/* one line, as every loupe error */
		fprintf(stderr, "loupe: %.*s\n", (int)dlen, (const char *)data);
		status = st == 2 ? 2 : 1;
	} else if (f.type == CTL_REPLY_FILE) {
		status = write_output(output, out_flags, data, dlen);
	} else if (f.type == CTL_REPLY_TEXT) {
		fwrite(data, 1, dlen, stdout);
		if (dlen && data[dlen - 1] != '\n')
			putchar('\n');
		status = fflush(stdout) == 0 ? 0 : 1;
	} else {
		cli_error("bad reply from the daemon (a request frame)");
	}
out:
	free(req);
	free(rep);
	close(fd);
	return status;
}
