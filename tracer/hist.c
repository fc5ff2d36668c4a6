#include "hist.h"

#include <math.h>

static unsigned bucket_of(uint64_t ns)
{
	if (ns < 1)
		return 0;
	double b = log2((double)ns) * HIST_SUB;
	if (b >= HIST_BUCKETS - 1)
		return HIST_BUCKETS - 1;
	return (unsigned)b;
}

void hist_add(struct hist *h, uint64_t ns)
{
	unsigned b = bucket_of(ns);
	if (h->b[b] < UINT32_MAX)
		h->b[b]++;
	h->n++;
	h->sum += ns;
	if (ns > h->max)
		h->max = ns;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		total += h->b[i];
	if (!total)
		return 0;
	/* the rank of the quantile, 1-based, nearest-rank method */
	uint64_t rank = (uint64_t)ceil(q * (double)total);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = (uint64_t)exp2(((double)i + 0.5) / HIST_SUB);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}
