/* A bounded loopback HTTP load: CONNS keep-alive connections, each sending
 * "GET /" again as soon as the previous answer is in, for SECONDS; prints
 * "requests N seconds S" on stdout.  One thread and epoll, so that on a
 * small box the server, not the client, is what runs out of CPU.
 *   loupe-http-load PORT CONNS SECONDS
 * Answers are framed by their Content-Length (aiohttp always sends one). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define BUF 8192

struct conn {
	int fd;
	char buf[BUF];
	size_t have;
};

static const char request[] =
	"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Length of one complete answer at the start of buf, or 0. */
static size_t complete(const char *buf, size_t n)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4);
	if (!end)
		return 0;
	size_t head = (size_t)(end - buf) + 4, body = 0;
	for (const char *p = buf; p < end; p++) {
		if ((p == buf || p[-1] == '\n') &&
		    strncasecmp(p, "Content-Length:", 15) == 0) {
			body = (size_t)strtoul(p + 15, NULL, 10);
			break;
		}
	}
	return head + body <= n ? head + body : 0;
}

static int send_request(int fd)
{
	return write(fd, request, sizeof request - 1) == (ssize_t)(sizeof request - 1) ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: loupe-http-load PORT CONNS SECONDS\n");
		return 2;
	}
	int port = atoi(argv[1]), nconn = atoi(argv[2]);
	double seconds = atof(argv[3]);
	if (port <= 0 || nconn <= 0 || nconn > MAX_CONNS || !(seconds > 0)) {
		fprintf(stderr, "loupe-http-load: bad arguments\n");
		return 2;
	}
	static struct conn conns[MAX_CONNS];
	int ep = epoll_create1(0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < nconn; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			perror("loupe-http-load: connect");
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		conns[i].fd = fd;
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		if (send_request(fd) != 0) {
			perror("loupe-http-load: write");
			return 1;
		}
	}
	unsigned long long done = 0;
	double start = now_s(), end = start + seconds;
	while (now_s() < end) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 100);
		for (int k = 0; k < n; k++) {
			struct conn *c = &conns[evs[k].data.u32];
			ssize_t r = read(c->fd, c->buf + c->have, BUF - c->have);
			if (r <= 0) {
				fprintf(stderr, "loupe-http-load: connection closed\n");
				return 1;
			}
			c->have += (size_t)r;
			size_t len;
			while ((len = complete(c->buf, c->have)) > 0) {
				memmove(c->buf, c->buf + len, c->have - len);
				c->have -= len;
				done++;
				if (send_request(c->fd) != 0)
					return 1;
			}
			if (c->have == BUF) {
				fprintf(stderr, "loupe-http-load: answer too long\n");
				return 1;
			}
		}
	}
	printf("requests %llu seconds %.3f\n", done, now_s() - start);
	return 0;
}
