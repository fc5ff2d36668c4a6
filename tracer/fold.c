#include "fold.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "error.h"

/* Deepest path followed: the sampler's merged stacks are at most
 * 2 * MAX_STACK_DEPTH frames. */
#define FOLD_MAX_DEPTH (2 * MAX_STACK_DEPTH)

/* Two frames are the same function when all but the line agree: the hot
 * function of a CPU-bound stall runs on many lines. */
static bool same_function(const struct frame *a, const struct frame *b)
{
	return a->kind == b->kind && a->func == b->func && a->file == b->file &&
	       a->module == b->module && (a->func || a->offset == b->offset);
}

static const struct frame *frame_at(const profile *p, uint32_t stack,
				    size_t depth, uint32_t *id)
{
	size_t n;
	const uint32_t *ids = profile_stack(p, stack, &n);
	if (!ids || depth >= n)
		return NULL;
	*id = ids[depth];
	return profile_frame(p, ids[depth]);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void append_frame(const profile *p, uint32_t id, char *buf, size_t len,
			 size_t *used)
{
	const struct frame *f = profile_frame(p, id);
	const char *func = f && f->func ? profile_str(p, f->func) : NULL;
	const char *file = f && f->file ? profile_str(p, f->file) : NULL;
	int k;
	if (!func)
		k = snprintf(buf + *used, len - *used, "%s", "[unknown]");
	else if (f->kind == FRAME_TASK)
		k = snprintf(buf + *used, len - *used, "task %s", func);
	else if (file && *file && f->line > 0)
		k = snprintf(buf + *used, len - *used, "%s (%s:%d)", func,
			     base_name(file), (int)f->line);
	else
		k = snprintf(buf + *used, len - *used, "%s", func);
	if (k > 0)
		*used += (size_t)k < len - *used ? (size_t)k : len - *used - 1;
}

/* Distinct root functions counted when none has half of the samples. */
#define FOLD_ROOT_CANDIDATES 64

/* The root function most samples marked in in[] start with (a plurality:
 * a stall split over several tasks, whose roots differ), its frame id and
 * count; NULL when no sample has a frame. */
static const struct frame *plural_root(const profile *p, const uint32_t *stacks,
				       size_t n, const bool *in, uint32_t *cid,
				       uint64_t *count)
{
	const struct frame *f[FOLD_ROOT_CANDIDATES];
	uint32_t ids[FOLD_ROOT_CANDIDATES];
	uint64_t c[FOLD_ROOT_CANDIDATES];
	size_t k = 0, best = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t id;
		const struct frame *fr = in[i] ? frame_at(p, stacks[i], 0, &id) : NULL;
		if (!fr)
			continue;
		size_t j = 0;
		while (j < k && !same_function(fr, f[j]))
			j++;
		if (j == k) {
			if (k == FOLD_ROOT_CANDIDATES)
				continue;
			f[k] = fr, ids[k] = id, c[k++] = 0;
		}
		c[j]++;
	}
	for (size_t j = 1; j < k; j++)
		if (c[j] > c[best])
			best = j;
	if (!k)
		return NULL;
	*cid = ids[best];
	*count = c[best];
	return f[best];
}

/* The deepest chain shared by half of the samples marked in in[], into
 * path[]; leaves in[] marking the samples that run through all of it.  At
 * the root, the function most of them start with when none has half: a
 * stall always has the path that held the loop most. */
static size_t majority_chain(const profile *p, const uint32_t *stacks,
			     size_t n, bool *in, uint32_t *path,
			     uint64_t *held)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += in[i];
	size_t depth = 0;
	*held = total;
	while (depth < FOLD_MAX_DEPTH) {
		/* The function most samples still in have at this depth
		 * (Boyer-Moore majority vote, then a count to confirm). */
		const struct frame *cand = NULL;
		uint32_t cand_id = 0, id;
		size_t votes = 0;
		for (size_t i = 0; i < n; i++) {
			const struct frame *f = in[i] ? frame_at(p, stacks[i], depth, &id) : NULL;
			if (!f)
				continue;
			if (votes == 0) {
				cand = f;
				cand_id = id;
				votes = 1;
			} else if (same_function(f, cand)) {
				votes++;
			} else {
				votes--;
			}
		}
		if (!cand)
			break;
		uint64_t c = 0;
		for (size_t i = 0; i < n; i++) {
			const struct frame *f = in[i] ? frame_at(p, stacks[i], depth, &id) : NULL;
			c += f && same_function(f, cand);
		}
		if (2 * c < total) {
			if (depth > 0 || !(cand = plural_root(p, stacks, n, in,
							       &cand_id, &c)))
				break;
			total = c;	/* deeper: half of those under it */
		}
		for (size_t i = 0; i < n; i++) {
			const struct frame *f = in[i] ? frame_at(p, stacks[i], depth, &id) : NULL;
			in[i] = f && same_function(f, cand);
		}
		path[depth++] = cand_id;
		*held = c;
	}
	return depth;
}

/* A native frame without a symbol, named "module+0xOFFSET" by the
 * sampler: it says nothing a reader can act on, and in a path of a few
 * frames it would push out the callers that do. */
static bool unnamed(const profile *p, uint32_t id)
{
	const struct frame *f = profile_frame(p, id);
	const char *func = f && f->func ? profile_str(p, f->func) : NULL;
	return f && f->kind == FRAME_NATIVE && (!func || strstr(func, "+0x"));
}

static uint32_t path_text(profile *p, const uint32_t *path, size_t depth)
{
	char buf[MAX_PATH_LEN * 2];
	size_t used = 0;
	buf[0] = 0;
	/* the last FOLD_PATH_FRAMES named frames */
	size_t from = depth, named = 0;
	while (from > 0 && named < FOLD_PATH_FRAMES)
		named += !unnamed(p, path[--from]);
	bool first = true;
	for (size_t d = from; d < depth && used + 8 < sizeof buf; d++) {
		if (unnamed(p, path[d]) && (named > 0 || d + 1 < depth))
			continue;	/* all unnamed: the leaf stays */
		if (!first)
			used += (size_t)snprintf(buf + used, sizeof buf - used, " → ");
		first = false;
		append_frame(p, path[d], buf, sizeof buf, &used);
	}
	return profile_intern_cstr(p, buf);
}

int fold_stall(profile *p, const uint32_t *stacks, size_t n,
	       struct fold_path out[FOLD_MAX_PATHS], size_t *nout)
{
	*nout = 0;
	if (n == 0)
		return LP_OK;
	bool *left = malloc(n * sizeof *left), *in = malloc(n * sizeof *in);
	uint32_t path[FOLD_MAX_DEPTH];
	int rc = LP_OK;
	if (!left || !in) {
		rc = LP_ENOMEM;
		goto out;
	}
	size_t nleft = n;
	for (size_t i = 0; i < n; i++)
		left[i] = true;
	while (*nout < FOLD_MAX_PATHS &&
	       (*nout == 0 || nleft * 100 >= (size_t)FOLD_MIN_SHARE * n)) {
		memcpy(in, left, n * sizeof *in);
		uint64_t held;
		size_t depth = majority_chain(p, stacks, n, in, path, &held);
		if (depth == 0 || (*nout > 0 && held * 100 < (uint64_t)FOLD_MIN_SHARE * n))
			break;
		uint32_t text = path_text(p, path, depth);
		if (text == PROFILE_NOID) {
			rc = LP_ENOMEM;
			goto out;
		}
		out[(*nout)++] = (struct fold_path){ text, held };
		for (size_t i = 0; i < n; i++) {
			if (in[i] && left[i]) {
				left[i] = false;
				nleft--;
			}
		}
	}
out:
	free(left);
	free(in);
	return rc;
}
