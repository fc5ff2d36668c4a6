/* A live status line on stderr while a long command runs (record, trace):
 * one line redrawn a few times a second with what the command is doing, so
 * that a long recording visibly makes progress.  Shown only when stderr is
 * a terminal and the user did not ask for -q; otherwise nothing is started
 * and nothing is written.
 *
 * The command supplies the figures through a callback run on the status
 * line's own thread; it takes whatever lock guards them (the sampler's). */
#ifndef LOUPE_UI_STATUS_LINE_H
#define LOUPE_UI_STATUS_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct status_figures {
	uint64_t ticks;		/* sampling ticks taken */
	uint64_t missed;	/* deadlines missed */
	uint64_t samples;	/* thread samples taken */
	double rate_hz;		/* the rate asked for; 0: no steady rate
				 * (trace samples only busy loops), the
				 * rate and missed deadlines not shown */
	double duration_s;	/* 0: until Ctrl-C or the target exits */
	size_t threads;		/* threads now */
	size_t processes;	/* shown only when more than 1 */
	uint64_t output_bytes;
	bool output_in_memory;	/* the output is written at the end: the
				 * figure is the profile's memory */
	bool no_output;		/* nothing is written: no size shown */
	char extra[64];		/* the command's own figure ("3 stalls"), or
				 * empty */
};

typedef void (*status_fill_fn)(void *ctx, struct status_figures *f);

typedef struct status_line status_line;

/* Starts the line when stderr is a terminal and !quiet; *out is NULL (and
 * 0 returned) when it is not shown.  -1 when the thread cannot start (the
 * command goes on without a status line). */
int status_line_start(status_line **out, const char *label, bool quiet,
		      status_fill_fn fill, void *ctx);

/* Stops the thread and erases the line, so that what the command prints
 * next starts on a clean line.  NULL is fine. */
void status_line_stop(status_line *sl);

/* A message printed while the line shows goes between these two: hold
 * blanks the line (and keeps it from being drawn), release draws it again
 * below the message.  Without a line they only take a lock. */
void status_line_hold(void);
void status_line_release(void);

/* Formats one status line (without \r) into buf, at most width columns;
 * elapsed_ns since the start, rate the measured ticks per second (negative:
 * not known yet).  Exposed for tests. */
void status_line_format(char *buf, size_t len, size_t width, const char *label,
			const struct status_figures *f, uint64_t elapsed_ns,
			double rate);

/* "1.2 MiB": bytes in the shortest unit, 3 significant figures. */
void status_format_bytes(char *buf, size_t len, uint64_t bytes);

#endif
