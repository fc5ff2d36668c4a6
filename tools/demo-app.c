/* The demo program of tools/demo: a loop that "handles requests", where
 * checksum_payload() is the hot spot a profiler should point at. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile uint32_t sink;

__attribute__((noinline)) static uint32_t checksum_payload(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (int round = 0; round < 64; round++)
		for (size_t i = 0; i < n; i++)
			h = (h ^ p[i]) * 16777619u;
	return h;
}

__attribute__((noinline)) static void parse_request(unsigned char *buf, size_t n, unsigned seq)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(seq * 31 + i);
}

__attribute__((noinline)) static void render_response(char *out, size_t n, uint32_t sum)
{
	for (int i = 0; i < 16; i++)
		snprintf(out, n, "ok %08x %d", sum, i);
}

__attribute__((noinline)) static void handle_request(unsigned seq)
{
	unsigned char buf[4096];
	char out[64];
	parse_request(buf, sizeof buf, seq);
	uint32_t sum = checksum_payload(buf, sizeof buf);
	render_response(out, sizeof out, sum);
	sink = sum;
}

int main(void)
{
	printf("demo-app %d handling requests\n", (int)getpid());
	fflush(stdout);
	for (unsigned seq = 0;; seq++) {
		handle_request(seq);
		if (seq % 64 == 0)
			usleep(1000);	/* some idle time, as a server has */
	}
}
