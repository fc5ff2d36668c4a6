#include "top_trend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* A row's key: the model's (function frame, thread, process). */
struct slot {
	bool used;
	uint32_t frame;
	int32_t tid, pid;
	uint64_t last_own[TOP_NMETRICS];	/* at the last update */
	uint32_t cells[TOP_NMETRICS][TOP_TREND_SECS];
};

struct top_trend {
	struct slot *slots, *spare;	/* spare: for rebuilding */
	size_t nused;
	uint64_t totals[TOP_NMETRICS][TOP_TREND_SECS];
	uint64_t last_total[TOP_NMETRICS];
	uint64_t sec;		/* the second (of the monotonic clock) of
				 * cell head */
	unsigned head;		/* the current cell */
	bool started;
};

int top_trend_new(top_trend **out)
{
	top_trend *t = calloc(1, sizeof *t);
	if (!t)
		return LP_ENOMEM;
	t->slots = calloc(TOP_TREND_SLOTS, sizeof *t->slots);
	t->spare = calloc(TOP_TREND_SLOTS, sizeof *t->spare);
	if (!t->slots || !t->spare) {
		top_trend_free(t);
		return LP_ENOMEM;
	}
	*out = t;
	return LP_OK;
}

void top_trend_free(top_trend *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->spare);
	free(t);
}

void top_trend_reset(top_trend *t)
{
	memset(t->slots, 0, TOP_TREND_SLOTS * sizeof *t->slots);
	memset(t->totals, 0, sizeof t->totals);
	memset(t->last_total, 0, sizeof t->last_total);
	t->nused = 0;
	t->started = false;
}

/* A row dropped by compact (no sample for a minute) that comes back has
 * its count since the reset taken as new: rare (more than 3072 rows). */

static size_t hash(uint32_t frame, int32_t tid, int32_t pid)
{
	uint64_t h = (uint64_t)frame * 0x9e3779b97f4a7c15ull;
	h ^= (uint64_t)(uint32_t)tid * 0xc2b2ae3d27d4eb4full;
	h ^= (uint64_t)(uint32_t)pid * 0x165667b19e3779f9ull;
	return (size_t)(h >> 32) & (TOP_TREND_SLOTS - 1);
}

/* The slot of a key in table tab, or the free one where it would go;
 * NULL when the table is full. */
static struct slot *find(struct slot *tab, uint32_t frame, int32_t tid,
			 int32_t pid)
{
	size_t i = hash(frame, tid, pid);
	for (size_t k = 0; k < TOP_TREND_SLOTS; k++, i = (i + 1) & (TOP_TREND_SLOTS - 1)) {
		struct slot *s = &tab[i];
		if (!s->used || (s->frame == frame && s->tid == tid && s->pid == pid))
			return s;
	}
	return NULL;
}

static bool slot_empty(const struct slot *s)
{
	for (int k = 0; k < TOP_NMETRICS; k++)
		for (int c = 0; c < TOP_TREND_SECS; c++)
			if (s->cells[k][c])
				return false;
	return true;
}

/* Past three quarters full: keep only the rows with samples in the last
 * minute (into the spare table, then swapped). */
static void compact(top_trend *t)
{
	memset(t->spare, 0, TOP_TREND_SLOTS * sizeof *t->spare);
	size_t n = 0;
	for (size_t i = 0; i < TOP_TREND_SLOTS; i++) {
		const struct slot *s = &t->slots[i];
		if (!s->used || slot_empty(s))
			continue;
		struct slot *d = find(t->spare, s->frame, s->tid, s->pid);
		*d = *s;
		n++;
	}
	struct slot *x = t->slots;
	t->slots = t->spare;
	t->spare = x;
	t->nused = n;
}

/* Moves the head to second sec, clearing the cells it passes. */
static void advance(top_trend *t, uint64_t sec)
{
	uint64_t steps = sec - t->sec;
	if (steps > TOP_TREND_SECS)
		steps = TOP_TREND_SECS;
	for (uint64_t k = 0; k < steps; k++) {
		t->head = (t->head + 1) % TOP_TREND_SECS;
		for (int m = 0; m < TOP_NMETRICS; m++)
			t->totals[m][t->head] = 0;
		for (size_t i = 0; i < TOP_TREND_SLOTS; i++)
			if (t->slots[i].used)
				for (int m = 0; m < TOP_NMETRICS; m++)
					t->slots[i].cells[m][t->head] = 0;
	}
	t->sec = sec;
	if (steps && t->nused > TOP_TREND_SLOTS * 3 / 4)
		compact(t);
}

/* Sum of cells over the last `back` seconds ending `skip` seconds ago. */
static uint64_t sum_cells(const top_trend *t, const uint32_t *cells,
			  const uint64_t *totals, unsigned skip, unsigned back,
			  uint64_t *total)
{
	uint64_t s = 0, tot = 0;
	for (unsigned k = skip; k < skip + back && k < TOP_TREND_SECS; k++) {
		unsigned c = (t->head + TOP_TREND_SECS - k) % TOP_TREND_SECS;
		if (cells)
			s += cells[c];
		tot += totals[c];
	}
	*total = tot;
	return s;
}

static int64_t change_of(const top_trend *t, const struct slot *s, int m)
{
	uint64_t rt, pt;
	uint64_t r = sum_cells(t, s->cells[m], t->totals[m], 0,
			       TOP_TREND_RECENT, &rt);
	uint64_t p = sum_cells(t, s->cells[m], t->totals[m], TOP_TREND_RECENT,
			       TOP_TREND_SECS - TOP_TREND_RECENT, &pt);
	double now = rt ? (double)r / (double)rt : 0.0;
	double before = pt ? (double)p / (double)pt : 0.0;
	return (int64_t)((now - before) * 1e6);
}

static uint32_t add_u32(uint32_t a, uint64_t b)
{
	return b > UINT32_MAX - a ? UINT32_MAX : a + (uint32_t)b;
}

void top_trend_update(top_trend *t, struct top_model *m, uint64_t now_ns)
{
	uint64_t sec = now_ns / 1000000000ull;
	/* The first update since the start or a reset: the counts so far
	 * are a baseline, in no second.  After it a new row's samples all
	 * came since the last update (a row exists once it has some). */
	bool baseline = !t->started;
	if (!t->started) {
		t->sec = sec;
		t->head = 0;
		t->started = true;
	} else if (sec > t->sec) {
		advance(t, sec);
	}
	for (int k = 0; k < TOP_NMETRICS; k++) {
		uint64_t tot = m->totals[k];
		/* a reset brings the counts down: they start again from 0 */
		uint64_t d = tot >= t->last_total[k] ? tot - t->last_total[k] : tot;
		if (!baseline)
			t->totals[k][t->head] += d;
		t->last_total[k] = tot;
	}
	for (size_t i = 0; i < m->nrows; i++) {
		struct top_row *r = &m->rows[i];
		struct slot *s = find(t->slots, r->frame, r->tid, r->pid);
		r->trend_slot = -1;
		memset(r->change, 0, sizeof r->change);
		if (!s)
			continue;
		if (!s->used) {
			if (t->nused >= TOP_TREND_SLOTS - 1)
				continue;	/* keep a free slot: find ends */
			memset(s, 0, sizeof *s);
			s->used = true;
			s->frame = r->frame;
			s->tid = r->tid;
			s->pid = r->pid;
			if (baseline)
				memcpy(s->last_own, r->own, sizeof s->last_own);
			t->nused++;
		}
		for (int k = 0; k < TOP_NMETRICS; k++) {
			uint64_t own = r->own[k];
			uint64_t d = own >= s->last_own[k] ? own - s->last_own[k] : own;
			s->cells[k][t->head] = add_u32(s->cells[k][t->head], d);
			s->last_own[k] = own;
			r->change[k] = change_of(t, s, k);
		}
		r->trend_slot = (int32_t)(s - t->slots);
	}
}

size_t top_trend_spark(const top_trend *t, const struct top_row *r,
		       int metric, int chars, bool utf8, char *buf,
		       size_t len)
{
	static const char *const blocks[8] = {
		"\u2581", "\u2582", "\u2583", "\u2584",
		"\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = "_.:-=+*#";
	double share[TOP_TREND_SECS];
	size_t n = 0;
	if (!len)
		return 0;
	buf[0] = '\0';
	if (chars <= 0 || metric < 0 || metric >= TOP_NMETRICS)
		return 0;
	if (chars > TOP_TREND_SECS)
		chars = TOP_TREND_SECS;
	unsigned per = TOP_TREND_SECS / (unsigned)chars;
	const struct slot *s = r->trend_slot >= 0 && r->trend_slot < TOP_TREND_SLOTS ?
		&t->slots[r->trend_slot] : NULL;
	double max = 0;
	for (int c = 0; c < chars; c++) {
		/* cell c covers seconds back (chars-1-c)*per .. +per */
		uint64_t tot, v = 0;
		unsigned skip = (unsigned)(chars - 1 - c) * per;
		if (s)
			v = sum_cells(t, s->cells[metric], t->totals[metric], skip, per, &tot);
		else
			tot = 0;
		share[c] = tot ? (double)v / (double)tot : 0.0;
		if (share[c] > max)
			max = share[c];
	}
	for (int c = 0; c < chars && n + 4 < len; c++) {
		int lv = max > 0 ? (int)(share[c] / max * 7.0 + 0.5) : -1;
		if (share[c] <= 0)
			lv = -1;
		if (utf8) {
			const char *b = lv < 0 ? " " : blocks[lv];
			size_t bl = strlen(b);
			memcpy(buf + n, b, bl);
			n += bl;
		} else {
			buf[n++] = lv < 0 ? ' ' : ascii[lv];
		}
	}
	buf[n] = '\0';
	return n;
}

void top_trend_change_text(const struct top_row *r, int metric, char *buf,
			   size_t len)
{
	double pp = metric >= 0 && metric < TOP_NMETRICS ?
		(double)r->change[metric] / 1e4 : 0.0;
	if (pp > -0.05 && pp < 0.05)
		snprintf(buf, len, "0.0");
	else
		snprintf(buf, len, "%+.1f", pp);
}
