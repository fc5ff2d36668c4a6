/* Event-loop target in C using epoll directly: a timerfd fires every 10 ms
 * and handle_tick() returns at once, except every 100th tick (once a
 * second) when it calls slow_handler(), which spins for 60 ms and then
 * sleeps for 60 ms: a stall of about 120 ms in the loop thread, with a
 * nanosleep inside.  Prints "ready" once the loop runs, runs until killed.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static void spin_ms(unsigned ms)
{
	uint64_t end = now_ns() + ms * 1000000ull;
	while (now_ns() < end)
		sink++;
}

__attribute__((noinline)) void slow_handler(void)
{
	spin_ms(60);
	usleep(60000);
}

__attribute__((noinline)) void handle_tick(unsigned long n)
{
	if (n % 100 == 99)
		slow_handler();
	else
		sink += n;
}

int main(void)
{
	int ep = epoll_create1(0);
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (ep < 0 || tfd < 0) {
		perror("epoll_slow");
		return 1;
	}
	struct itimerspec its = { { 0, 10000000 }, { 0, 10000000 } };
	timerfd_settime(tfd, 0, &its, NULL);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = tfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	printf("ready\n");
	fflush(stdout);
	unsigned long ticks = 0;
	for (;;) {
		struct epoll_event out[4];
		int n = epoll_wait(ep, out, 4, -1);
		for (int i = 0; i < n; i++) {
			uint64_t expired;
			if (read(tfd, &expired, sizeof expired) == sizeof expired)
				handle_tick(ticks++);
		}
	}
}
