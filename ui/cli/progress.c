/* Drawn like the status line: \r and padding, no escape sequences, cut to
 * the terminal's width so that it never wraps. */
#include "progress.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "status_line.h"

/* Inputs this large show the bar from the start (a 1-hour, 8-thread
 * recording at 100 Hz is about 50 MiB and reads in half a second); smaller
 * ones only once reading them has taken SHOW_AFTER_NS (a slow disk), so a
 * quick report shows nothing. */
#define BIG_BYTES (16ull << 20)
#define SHOW_AFTER_NS 500000000ull
/* Redraw at most this often. */
#define REDRAW_NS 100000000ull
#define BAR_MAX 40
#define LINE_BYTES 512

static void put(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

uint64_t progress_file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
}

void progress_init(struct progress *pg, const char *label, uint64_t total,
		   bool quiet)
{
	memset(pg, 0, sizeof *pg);
	pg->label = label;
	pg->total = total;
	pg->start_ns = clock_mono_ns();
	pg->on = !quiet && total > 0 && isatty(STDERR_FILENO);
}

void progress_format(char *buf, size_t len, size_t width, const char *label,
		     uint64_t done, uint64_t total)
{
	if (done > total)
		done = total;
	double frac = total ? (double)done / (double)total : 1.0;
	char d[32], t[32];
	status_format_bytes(d, sizeof d, done);
	status_format_bytes(t, sizeof t, total);
	char tail[96];
	snprintf(tail, sizeof tail, " %3d%% %s of %s", (int)(frac * 100), d, t);
	/* label, space, [bar], tail: the bar takes what width leaves */
	size_t fixed = strlen(label) + 3 + strlen(tail);
	size_t bar = width > fixed ? width - fixed : 0;
	if (bar > BAR_MAX)
		bar = BAR_MAX;
	if (len == 0)
		return;
	if (bar < 5) {	/* too narrow for a bar: the figures alone */
		snprintf(buf, len, "%.*s", (int)(width < len ? width : len - 1), tail + 1);
		return;
	}
	char b[BAR_MAX + 1];
	size_t fill = (size_t)(frac * (double)bar);
	memset(b, '#', fill);
	memset(b + fill, '.', bar - fill);
	b[bar] = '\0';
	snprintf(buf, len, "%s [%s]%s", label, b, tail);
}

void progress_update(void *arg, uint64_t done, uint64_t total)
{
	struct progress *pg = arg;
	(void)total;
	if (!pg->on)
		return;
	uint64_t now = clock_mono_ns();
	if (pg->total < BIG_BYTES && now - pg->start_ns < SHOW_AFTER_NS)
		return;
	if (pg->shown && now - pg->drawn_ns < REDRAW_NS)
		return;
	pg->drawn_ns = now;
	struct winsize ws;
	size_t width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1
			       ? ws.ws_col - 1u : 79;
	char line[LINE_BYTES];
	if (width >= sizeof line)
		width = sizeof line - 1;
	progress_format(line, sizeof line, width, pg->label, pg->base + done,
			pg->total);
	char out[2 * LINE_BYTES + 2];
	size_t n = 0, t = strlen(line);
	out[n++] = '\r';
	memcpy(out + n, line, t);
	n += t;
	if (pg->shown > t) {
		memset(out + n, ' ', pg->shown - t);
		n += pg->shown - t;
		out[n++] = '\r';
		memcpy(out + n, line, t);
		n += t;
	}
	put(out, n);
	pg->shown = t;
}

void progress_next(struct progress *pg, uint64_t bytes)
{
	pg->base += bytes;
}

void progress_end(struct progress *pg)
{
	if (!pg->shown)
		return;
	char out[LINE_BYTES + 2];
	size_t n = 0;
	out[n++] = '\r';
	memset(out + n, ' ', pg->shown);
	n += pg->shown;
	out[n++] = '\r';
	put(out, n);
	pg->shown = 0;
}
