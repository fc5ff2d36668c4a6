/* The status line's thread wakes every UPDATE_NS, asks the command for its
 * figures and rewrites the line in place with a carriage return.  It never
 * wraps (cut to the terminal's width) because a wrapped line cannot be
 * redrawn with \r, and it uses no escape sequences, so any terminal,
 * TERM=dumb included, shows it right: a shorter line is padded with spaces
 * over the longer one it replaces. */
#include "status_line.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* A few times a second: often enough to look alive, rarely enough to cost
 * nothing (one lock of the sampler, one write). */
#define UPDATE_NS 250000000ull
/* The measured rate is over the last RATE_WINDOW updates (2 s), so that it
 * shows a slowdown now rather than averaged over an hour. */
#define RATE_WINDOW 8
#define LINE_MAX_BYTES 512

struct status_line {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	const char *label;
	status_fill_fn fill;
	void *ctx;
	size_t shown;		/* columns of the line on screen */
	char text[LINE_MAX_BYTES];	/* what it shows, to redraw after a
					 * message */
};

/* Everything the line and loupe's messages write to stderr goes out under
 * this lock, and a message first blanks the line (then it is redrawn
 * below the message): there is one stderr, hence one lock and one line
 * for the process. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct status_line *on_screen;

static void write_all(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a terminal gone away: nothing to tell */
		s += w;
		n -= (size_t)w;
	}
}

static size_t term_width(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col;
	return 80;
}

void status_format_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v,
			 unit[u]);
}

/* Appends to buf (at *n) when it fits; a part that does not fit is left
 * out whole, never cut in the middle. */
static void part(char *buf, size_t len, size_t width, size_t *n,
		 const char *text)
{
	size_t sep = *n ? 3 : 0;
	size_t t = strlen(text);
	if (*n + sep + t > width || *n + sep + t >= len)
		return;
	if (sep) {
		memcpy(buf + *n, " | ", 3);
		*n += 3;
	}
	memcpy(buf + *n, text, t + 1);
	*n += t;
}

void status_line_format(char *buf, size_t len, size_t width, const char *label,
			const struct status_figures *f, uint64_t elapsed_ns,
			double rate)
{
	char t[96];
	size_t n = 0;
	if (len)
		buf[0] = '\0';
	uint64_t s = elapsed_ns / 1000000000ull;
	if (f->duration_s > 0)
		snprintf(t, sizeof t, "%s %02llu:%02llu of %.0f s", label,
			 (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60), f->duration_s);
	else
		snprintf(t, sizeof t, "%s %02llu:%02llu", label,
			 (unsigned long long)(s / 60), (unsigned long long)(s % 60));
	part(buf, len, width, &n, t);
	snprintf(t, sizeof t, "%llu samples", (unsigned long long)f->samples);
	part(buf, len, width, &n, t);
	if (f->rate_hz > 0) {
		if (rate >= 0)
			snprintf(t, sizeof t, "%.1f/%g Hz", rate, f->rate_hz);
		else
			snprintf(t, sizeof t, "-/%g Hz", f->rate_hz);
		part(buf, len, width, &n, t);
		snprintf(t, sizeof t, "%llu missed", (unsigned long long)f->missed);
		part(buf, len, width, &n, t);
	}
	if (f->processes > 1)
		snprintf(t, sizeof t, "%zu threads in %zu processes",
			 f->threads, f->processes);
	else
		snprintf(t, sizeof t, "%zu thread%s", f->threads,
			 f->threads == 1 ? "" : "s");
	part(buf, len, width, &n, t);
	if (!f->no_output) {
		char b[32];
		status_format_bytes(b, sizeof b, f->output_bytes);
		snprintf(t, sizeof t, f->output_in_memory ? "%s in memory" : "%s written", b);
		part(buf, len, width, &n, t);
	}
	if (f->extra[0])
		part(buf, len, width, &n, f->extra);
	part(buf, len, width, &n, "Ctrl-C to stop");
}

/* Under out_lock. */
static void erase(struct status_line *sl)
{
	if (!sl->shown)
		return;
	char out[LINE_MAX_BYTES + 2];
	size_t n = 0;
	out[n++] = '\r';
	memset(out + n, ' ', sl->shown);
	n += sl->shown;
	out[n++] = '\r';
	write_all(out, n);
	sl->shown = 0;
}

/* Under out_lock. */
static void draw(struct status_line *sl, const char *text)
{
	char out[LINE_MAX_BYTES * 2 + 2];
	size_t t = strlen(text), n = 0;
	if (text != sl->text)
		snprintf(sl->text, sizeof sl->text, "%s", text);
	out[n++] = '\r';
	memcpy(out + n, text, t);
	n += t;
	/* blank what is left of a longer previous line, then come back */
	if (sl->shown > t) {
		size_t pad = sl->shown - t;
		memset(out + n, ' ', pad);
		n += pad;
		out[n++] = '\r';
		memcpy(out + n, text, t);
		n += t;
	}
	write_all(out, n);
	sl->shown = t;
}

static void *run(void *arg)
{
	struct status_line *sl = arg;
	uint64_t start = clock_mono_ns();
	uint64_t when[RATE_WINDOW + 1], ticks[RATE_WINDOW + 1];
	size_t seen = 0;
	char line[LINE_MAX_BYTES];
	pthread_mutex_lock(&sl->lock);
	while (!sl->stop) {
		pthread_mutex_unlock(&sl->lock);
		struct status_figures f;
		memset(&f, 0, sizeof f);
		sl->fill(sl->ctx, &f);
		uint64_t now = clock_mono_ns();
		/* ring of the last RATE_WINDOW + 1 (time, ticks) pairs */
		size_t i = seen % (RATE_WINDOW + 1);
		when[i] = now;
		ticks[i] = f.ticks;
		seen++;
		double rate = -1;
		if (seen > 1) {
			size_t old = seen > RATE_WINDOW + 1 ? seen % (RATE_WINDOW + 1) : 0;
			uint64_t dt = now - when[old];
			if (dt > 0)
				rate = (double)(f.ticks - ticks[old]) * 1e9 / (double)dt;
		}
		size_t width = term_width() - 1;
		if (width >= sizeof line)
			width = sizeof line - 1;
		status_line_format(line, sizeof line, width, sl->label, &f,
				   now - start, rate);
		pthread_mutex_lock(&out_lock);
		draw(sl, line);
		pthread_mutex_unlock(&out_lock);

		pthread_mutex_lock(&sl->lock);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wake = (uint64_t)ts.tv_sec * 1000000000ull +
				(uint64_t)ts.tv_nsec + UPDATE_NS;
		ts.tv_sec = (time_t)(wake / 1000000000ull);
		ts.tv_nsec = (long)(wake % 1000000000ull);
		while (!sl->stop &&
		       pthread_cond_timedwait(&sl->wake, &sl->lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&sl->lock);
	return NULL;
}

int status_line_start(status_line **out, const char *label, bool quiet,
		      status_fill_fn fill, void *ctx)
{
	*out = NULL;
	if (quiet || !isatty(STDERR_FILENO))
		return 0;
	struct status_line *sl = calloc(1, sizeof *sl);
	if (!sl)
		return -1;
	sl->label = label;
	sl->fill = fill;
	sl->ctx = ctx;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sl->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&sl->lock, NULL);
	/* The thread is born with the stop signals blocked, so that Ctrl-C
	 * reaches the sampling thread and cuts its sleep short at once. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(&sl->thread, NULL, run, sl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&sl->wake);
		pthread_mutex_destroy(&sl->lock);
		free(sl);
		return -1;
	}
	pthread_mutex_lock(&out_lock);
	on_screen = sl;
	pthread_mutex_unlock(&out_lock);
	*out = sl;
	return 0;
}

void status_line_hold(void)
{
	pthread_mutex_lock(&out_lock);
	if (on_screen)
		erase(on_screen);
}

void status_line_release(void)
{
	if (on_screen && on_screen->text[0])
		draw(on_screen, on_screen->text);
	pthread_mutex_unlock(&out_lock);
}

void status_line_stop(status_line *sl)
{
	if (!sl)
		return;
	pthread_mutex_lock(&sl->lock);
	sl->stop = true;
	pthread_cond_signal(&sl->wake);
	pthread_mutex_unlock(&sl->lock);
	pthread_join(sl->thread, NULL);
	pthread_mutex_lock(&out_lock);
	erase(sl);
	if (on_screen == sl)
		on_screen = NULL;
	pthread_mutex_unlock(&out_lock);
	pthread_cond_destroy(&sl->wake);
	pthread_mutex_destroy(&sl->lock);
	free(sl);
}
