/* loupe top's trends: for every row, its samples per second over the last
 * minute (a ring of TOP_TREND_SECS counts per metric), drawn as a
 * sparkline, and the change of its share over the last 10 s (key x sorts
 * by it) so that a function that just became hot rises to the top.
 *
 * The table of rows is allocated once, at a fixed size: nothing is
 * allocated per refresh.  Rows beyond it have no trend.  Pure, no ncurses
 * (check_top_trend). */
#ifndef LOUPE_UI_TOP_TREND_H
#define LOUPE_UI_TOP_TREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "top_model.h"

#define TOP_TREND_SECS 60	/* the ring: one count per second */
#define TOP_TREND_RECENT 10	/* "change over the last 10 s" */
#define TOP_TREND_SLOTS 4096	/* rows followed at once (power of 2) */

typedef struct top_trend top_trend;

int top_trend_new(top_trend **out);	/* LP_OK or LP_ENOMEM */
void top_trend_free(top_trend *t);
/* Forgets every row (counts reset, another aggregation). */
void top_trend_reset(top_trend *t);

/* After top_model_compute: adds what each row (and the totals) gained
 * since the last call to the second now_ns falls in, sets each row's
 * trend_slot and change[].  The first call after top_trend_new or a
 * reset takes the counts so far as a baseline (in no second); after it a
 * row met for the first time has all its samples in the current second. */
void top_trend_update(top_trend *t, struct top_model *m, uint64_t now_ns);

/* The row's share of the metric over the last TOP_TREND_SECS seconds as
 * chars cells (each the mean of TOP_TREND_SECS / chars seconds, oldest
 * left), scaled to the row's largest cell: block elements (U+2581..2588)
 * when utf8, else "_.:-=+*#".  A cell without samples is a space.
 * Returns the length in bytes. */
size_t top_trend_spark(const top_trend *t, const struct top_row *r,
		       int metric, int chars, bool utf8, char *buf,
		       size_t len);

/* The change as text, "+12.3" (percentage points), in buf. */
void top_trend_change_text(const struct top_row *r, int metric, char *buf,
			   size_t len);

#endif
