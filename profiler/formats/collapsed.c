/* Brendan Gregg's folded stacks (the input of flamegraph.pl and of
 * speedscope's importer): one line per distinct stack, frames root first
 * joined by ';', a space, the count.
 *
 * Choices, so that output is stable and parseable:
 * - ';' inside a frame's text becomes ':', a newline or CR a space, since
 *   ';' separates frames and a line is one stack; any other control
 *   character (ESC, DEL, the C1 range in UTF-8) becomes '?', so that the
 *   file printed on a terminal acts on nothing;
 * - stacks whose text is the same (e.g. frames differing only by line when
 *   lines are dropped) are merged into one line;
 * - aggregates that weigh 0 under the mode are left out;
 * - the empty stack (id 0: a sample with no frame at all) is written as the
 *   frame "<no stack>", so that its samples still count in the total;
 * - with opts.threads, each stack gets a root frame "thread TID (name)";
 * - a recording of a process tree gets a root "process PID (comm)" above
 *   it (output_process_roots), unless opts.merge_processes;
 * - lines are sorted bytewise (strcmp), so the same profile gives the same
 *   file. */
#include "formats/formats.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NO_STACK "<no stack>"

struct buf {
	char *s;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return LP_OK;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + more + 1) {
		if (ncap > SIZE_MAX / 2)
			return LP_ENOMEM;
		ncap *= 2;
	}
	char *n = realloc(b->s, ncap);
	if (!n)
		return LP_ENOMEM;
	b->s = n;
	b->cap = ncap;
	return LP_OK;
}

/* Appends text with the separators of the format replaced. */
static int buf_add_frame(struct buf *b, const char *text, size_t len)
{
	if (buf_reserve(b, len + 1))
		return LP_ENOMEM;
	if (b->len)
		b->s[b->len++] = ';';
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if ((unsigned char)c == 0xc2 && i + 1 < len &&
		    (unsigned char)text[i + 1] >= 0x80 &&
		    (unsigned char)text[i + 1] < 0xa0) {
			/* a C1 control in UTF-8 (U+009B is CSI) */
			b->s[b->len++] = '?';
			i++;
			continue;
		}
		if (c == ';')
			c = ':';
		else if (((unsigned char)c < 0x20 && c != '\n' && c != '\r') ||
			 c == 0x7f)
			c = '?';
		else if (c == '\n' || c == '\r')
			c = ' ';
		b->s[b->len++] = c;
	}
	b->s[b->len] = '\0';
	return LP_OK;
}

struct line {
	const char *text;
	uint64_t weight;
};

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text,
		      ((const struct line *)b)->text);
}

/* The text of frame id, interned in texts and cached per frame id. */
static uint32_t frame_text(const profile *p, profile *texts, uint32_t *cache,
			   uint32_t id, bool lines)
{
	if (cache[id] != PROFILE_NOID)
		return cache[id];
	char small[512];
	char *tmp = small;
	size_t len = sizeof small;
	const struct frame *f = profile_frame(p, id);
	/* demangled C++ names run to kilobytes: size the buffer to fit */
	size_t need = profile_str_len(p, f->func) + profile_str_len(p, f->file) +
		      profile_str_len(p, f->module) + 64;
	if (need > len) {
		tmp = malloc(need);
		if (!tmp)
			return PROFILE_NOID;
		len = need;
	}
	format_frame(p, id, lines, tmp, len);
	cache[id] = profile_intern_cstr(texts, tmp);
	if (tmp != small)
		free(tmp);
	return cache[id];
}

int collapsed_write(const profile *p, FILE *fp, const struct output_opts *o)
{
	int rc = LP_ENOMEM;
	profile *texts = profile_new();	/* frame texts */
	profile *lines = profile_new();	/* folded lines */
	size_t nf = profile_nframes(p);
	uint32_t *cache = malloc((nf ? nf : 1) * sizeof *cache);
	uint64_t *weights = NULL;
	size_t wcap = 0;
	struct line *out = NULL;
	struct buf b = { 0 };

	if (!texts || !lines || !cache)
		goto out;
	for (size_t i = 0; i < nf; i++)
		cache[i] = PROFILE_NOID;

	bool procs = output_process_roots(p, o);
	size_t naggs;
	const struct profile_agg *aggs = profile_aggs(p, &naggs);
	for (size_t i = 0; i < naggs; i++) {
		const struct profile_agg *a = &aggs[i];
		uint64_t w = output_weight(a, o);
		if (!w)
			continue;
		b.len = 0;
		if (buf_reserve(&b, 0))
			goto out;
		b.s[0] = '\0';
		if (procs) {
			char tmp[64 + 1024];
			format_process(p, a->pid, tmp, sizeof tmp);
			if (buf_add_frame(&b, tmp, strlen(tmp)))
				goto out;
		}
		if (o->threads) {
			char tmp[64 + 1024];
			uint32_t name = profile_thread_name(p, a->pid, a->tid);
			if (name)
				snprintf(tmp, sizeof tmp, "thread %" PRId32 " (%s)",
					 a->tid, profile_str(p, name));
			else
				snprintf(tmp, sizeof tmp, "thread %" PRId32,
					 a->tid);
			if (buf_add_frame(&b, tmp, strlen(tmp)))
				goto out;
		}
		size_t n;
		const uint32_t *ids = profile_stack(p, a->stack, &n);
		if (!n && buf_add_frame(&b, NO_STACK, strlen(NO_STACK)))
			goto out;
		for (size_t j = 0; j < n; j++) {
			uint32_t t = frame_text(p, texts, cache, ids[j],
						o->lines);
			if (t == PROFILE_NOID ||
			    buf_add_frame(&b, profile_str(texts, t),
					  profile_str_len(texts, t)))
				goto out;
		}
		uint32_t id = profile_intern_str(lines, b.s, b.len);
		if (id == PROFILE_NOID)
			goto out;
		if (id >= wcap) {
			size_t ncap = wcap ? wcap * 2 : 256;
			while (ncap <= id)
				ncap *= 2;
			uint64_t *nw = realloc(weights, ncap * sizeof *nw);
			if (!nw)
				goto out;
			memset(nw + wcap, 0, (ncap - wcap) * sizeof *nw);
			weights = nw;
			wcap = ncap;
		}
		weights[id] += w;
	}

	size_t nl = profile_nstrs(lines), k = 0;
	out = malloc(nl * sizeof *out);
	if (!out)
		goto out;
	for (uint32_t id = 1; id < nl; id++) {
		if (id < wcap && weights[id])
			out[k++] = (struct line){ profile_str(lines, id),
						  weights[id] };
	}
	if (k > 1)
		qsort(out, k, sizeof *out, line_cmp);
	for (size_t i = 0; i < k; i++)
		fprintf(fp, "%s %" PRIu64 "\n", out[i].text, out[i].weight);
	rc = ferror(fp) ? LP_EIO : LP_OK;
out:
	free(b.s);
	free(out);
	free(weights);
	free(cache);
	profile_free(lines);
	profile_free(texts);
	return rc;
}
