/* Interning and aggregation.  Every table is an open-addressing hash of
 * (hash, id) slots over a dense array, so ids are array indexes and a lookup
 * that hits (the steady state of a recording) touches no allocator. */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "error.h"
#include "pages.h"

#define SLOT_EMPTY UINT32_MAX
/* Strings are copied into blocks that never move, so profile_str pointers
 * stay valid while the profile grows. */
#define STR_BLOCK_SIZE (64u * 1024)

struct hslot {
	uint32_t hash;
	uint32_t id;
};

struct htab {
	struct hslot *slots;
	size_t cap;		/* power of two, or 0 */
	size_t count;
};

typedef bool (*eq_fn)(const void *ctx, uint32_t id, const void *key);

struct str_block {
	struct str_block *next;
	size_t used, cap;
	char data[];
};

struct meta {
	uint32_t key, value;	/* string ids */
};

struct profile {
	/* strings */
	struct str_block *blocks;
	size_t blocks_bytes;
	const char **str_ptr;
	uint32_t *str_len;
	size_t nstrs, str_cap;
	struct htab str_tab;

	/* frames */
	struct frame *frames;
	size_t nframes, frame_cap;
	struct htab frame_tab;

	/* stacks: ids in one arena, root first */
	uint32_t *stack_ids;
	size_t stack_ids_len, stack_ids_cap;
	uint64_t *stack_off;
	uint32_t *stack_len;
	size_t nstacks, stack_cap;
	struct htab stack_tab;

	/* aggregates */
	struct profile_agg *aggs;
	size_t naggs, agg_cap;
	struct htab agg_tab;
	/* sums over every aggregate: kept from wrapping, so that no sum of
	 * aggregates' counts does (a share is never above 100%) */
	uint64_t total_samples;
	uint64_t total_cpu_ns;

	/* timeline */
	bool keep_timeline;
	bool untimed;		/* something in the aggregates is not in it */
	struct sample *timeline;
	size_t ntimeline, timeline_cap;

	/* spans (tracer ticks and stalls) */
	struct profile_span *spans;
	size_t nspans, span_cap;

	/* threads */
	struct profile_thread *threads;
	size_t nthreads, thread_cap;
	struct htab thread_tab;

	struct meta *meta;
	size_t nmeta, meta_cap;

	uint64_t start_ns;
};

/* ---- hashing ---- */

/* The 64-bit finalizer of MurmurHash3 (public domain): good avalanche for
 * integer keys. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_add(uint64_t h, uint64_t v)
{
	return mix64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

/* FNV-1a over bytes, then mixed. */
static uint32_t hash_bytes(const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)mix64(h ^ len);
}

/* ---- growing arrays ---- */

/* Grows *ptr (of *cap elements of size elem) to hold need elements, doubling;
 * fails on overflow rather than wrapping. */
static int grow(void *ptrp, size_t *cap, size_t need, size_t elem)
{
	void **ptr = ptrp;
	if (need <= *cap)
		return LP_OK;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return LP_ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return LP_ENOMEM;
	void *n = realloc(*ptr, ncap * elem);
	if (!n)
		return LP_ENOMEM;
	*ptr = n;
	*cap = ncap;
	return LP_OK;
}

/* ---- hash table of ids ---- */

/* Returns the id stored under key, or SLOT_EMPTY with *slot at the free slot
 * where it belongs.  Load stays under 1/2, so the probe always ends. */
static uint32_t htab_find(const struct htab *t, uint32_t hash, eq_fn eq,
			  const void *ctx, const void *key, size_t *slot)
{
	if (!t->cap) {
		*slot = 0;
		return SLOT_EMPTY;
	}
	size_t mask = t->cap - 1;
	size_t i = hash & mask;
	for (;;) {
		const struct hslot *s = &t->slots[i];
		if (s->id == SLOT_EMPTY)
			break;
		if (s->hash == hash && eq(ctx, s->id, key))
			return s->id;
		i = (i + 1) & mask;
	}
	*slot = i;
	return SLOT_EMPTY;
}

static size_t htab_free_slot(const struct htab *t, uint32_t hash)
{
	size_t mask = t->cap - 1;
	size_t i = hash & mask;
	while (t->slots[i].id != SLOT_EMPTY)
		i = (i + 1) & mask;
	return i;
}

/* Inserts (hash, id) known to be absent; *slot is the slot htab_find gave,
 * or is recomputed when the table grows. */
static int htab_insert(struct htab *t, size_t slot, uint32_t hash, uint32_t id)
{
	if ((t->count + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(struct hslot))
			return LP_ENOMEM;
		struct hslot *ns = malloc(ncap * sizeof *ns);
		if (!ns)
			return LP_ENOMEM;
		for (size_t i = 0; i < ncap; i++)
			ns[i].id = SLOT_EMPTY;
		struct htab old = *t;
		t->slots = ns;
		t->cap = ncap;
		for (size_t i = 0; i < old.cap; i++) {
			if (old.slots[i].id == SLOT_EMPTY)
				continue;
			ns[htab_free_slot(t, old.slots[i].hash)] = old.slots[i];
		}
		free(old.slots);
		slot = htab_free_slot(t, hash);
	}
	t->slots[slot].hash = hash;
	t->slots[slot].id = id;
	t->count++;
	return LP_OK;
}

static void htab_clear(struct htab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		t->slots[i].id = SLOT_EMPTY;
	t->count = 0;
}

/* ---- strings ---- */

struct str_key {
	const char *s;
	size_t len;
};

static bool str_eq(const void *ctx, uint32_t id, const void *key)
{
	const profile *p = ctx;
	const struct str_key *k = key;
	return p->str_len[id] == k->len && memcmp(p->str_ptr[id], k->s, k->len) == 0;
}

static char *str_store(profile *p, const char *s, size_t len)
{
	struct str_block *b = p->blocks;
	if (!b || b->cap - b->used < len + 1) {
		size_t cap = STR_BLOCK_SIZE;
		if (len + 1 > cap / 4)
			cap = len + 1;	/* a big string gets a block of its own */
		b = pages_zalloc(sizeof *b + cap);	/* filled as used: pages.h */
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		if (len + 1 > STR_BLOCK_SIZE / 4 && p->blocks) {
			/* keep the current small block in front for reuse */
			b->next = p->blocks->next;
			p->blocks->next = b;
		} else {
			b->next = p->blocks;
			p->blocks = b;
		}
		p->blocks_bytes += sizeof *b + cap;
	}
	char *d = b->data + b->used;
	memcpy(d, s, len);
	d[len] = '\0';
	b->used += len + 1;
	return d;
}

uint32_t profile_intern_str(profile *p, const char *s, size_t len)
{
	if (len > MAX_INTERN_STR_LEN || (len && !s))
		return PROFILE_NOID;
	if (!len)
		s = "";
	struct str_key k = { s, len };
	uint32_t h = hash_bytes(s, len);
	size_t slot;
	uint32_t id = htab_find(&p->str_tab, h, str_eq, p, &k, &slot);
	if (id != SLOT_EMPTY)
		return id;
	if (p->nstrs >= PROFILE_NOID - 1)
		return PROFILE_NOID;
	size_t ocap = p->str_cap;
	if (grow(&p->str_ptr, &p->str_cap, p->nstrs + 1, sizeof *p->str_ptr))
		return PROFILE_NOID;
	if (p->str_cap != ocap || !p->str_len) {
		void *nl = realloc(p->str_len, p->str_cap * sizeof *p->str_len);
		if (!nl) {
			p->str_cap = ocap;	/* str_len keeps the old size */
			return PROFILE_NOID;
		}
		p->str_len = nl;
	}
	char *d = str_store(p, s, len);
	if (!d)
		return PROFILE_NOID;
	id = (uint32_t)p->nstrs;
	if (htab_insert(&p->str_tab, slot, h, id))
		return PROFILE_NOID;	/* the copy stays in the block, unused */
	p->str_ptr[id] = d;
	p->str_len[id] = (uint32_t)len;
	p->nstrs++;
	return id;
}

uint32_t profile_intern_cstr(profile *p, const char *s)
{
	return profile_intern_str(p, s ? s : "", s ? strlen(s) : 0);
}

/* ---- frames ---- */

static bool frame_eq(const void *ctx, uint32_t id, const void *key)
{
	const profile *p = ctx;
	const struct frame *a = &p->frames[id], *b = key;
	return a->kind == b->kind && a->func == b->func && a->file == b->file &&
	       a->module == b->module && a->line == b->line &&
	       a->offset == b->offset;
}

static uint32_t frame_hash(const struct frame *f)
{
	uint64_t h = f->kind;
	h = hash_add(h, f->func);
	h = hash_add(h, f->file);
	h = hash_add(h, f->module);
	h = hash_add(h, (uint32_t)f->line);
	h = hash_add(h, f->offset);
	return (uint32_t)h;
}

uint32_t profile_intern_frame(profile *p, const struct frame *f)
{
	if (!f || f->kind >= FRAME_KIND_COUNT || f->func >= p->nstrs ||
	    f->file >= p->nstrs || f->module >= p->nstrs)
		return PROFILE_NOID;
	/* copy field by field: padding bytes of *f are not part of the key */
	struct frame k = { f->kind, f->func, f->file, f->module, f->line,
			   f->offset };
	uint32_t h = frame_hash(&k);
	size_t slot;
	uint32_t id = htab_find(&p->frame_tab, h, frame_eq, p, &k, &slot);
	if (id != SLOT_EMPTY)
		return id;
	if (p->nframes >= PROFILE_NOID - 1)
		return PROFILE_NOID;
	if (grow(&p->frames, &p->frame_cap, p->nframes + 1, sizeof *p->frames))
		return PROFILE_NOID;
	id = (uint32_t)p->nframes;
	if (htab_insert(&p->frame_tab, slot, h, id))
		return PROFILE_NOID;
	p->frames[id] = k;
	p->nframes++;
	return id;
}

/* ---- stacks ---- */

struct stack_key {
	const uint32_t *ids;
	size_t n;
};

static bool stack_eq(const void *ctx, uint32_t id, const void *key)
{
	const profile *p = ctx;
	const struct stack_key *k = key;
	return p->stack_len[id] == k->n &&
	       (k->n == 0 || memcmp(p->stack_ids + p->stack_off[id], k->ids,
				    k->n * sizeof *k->ids) == 0);
}

uint32_t profile_intern_stack(profile *p, const uint32_t *frames, size_t n)
{
	if (n > MAX_INTERN_STACK_LEN || (n && !frames))
		return PROFILE_NOID;
	uint64_t h = 0x5bd1e995u;
	for (size_t i = 0; i < n; i++) {
		if (frames[i] >= p->nframes)
			return PROFILE_NOID;
		h = hash_add(h, frames[i]);
	}
	h = hash_add(h, n);
	struct stack_key k = { frames, n };
	size_t slot;
	uint32_t id = htab_find(&p->stack_tab, (uint32_t)h, stack_eq, p, &k,
				&slot);
	if (id != SLOT_EMPTY)
		return id;
	if (p->nstacks >= PROFILE_NOID - 1)
		return PROFILE_NOID;
	if (p->stack_ids_len > SIZE_MAX - n ||
	    grow(&p->stack_ids, &p->stack_ids_cap, p->stack_ids_len + n,
		 sizeof *p->stack_ids))
		return PROFILE_NOID;
	size_t ocap = p->stack_cap;
	if (grow(&p->stack_off, &p->stack_cap, p->nstacks + 1,
		 sizeof *p->stack_off))
		return PROFILE_NOID;
	if (p->stack_cap != ocap || !p->stack_len) {
		void *nl = realloc(p->stack_len,
				   p->stack_cap * sizeof *p->stack_len);
		if (!nl) {
			p->stack_cap = ocap;
			return PROFILE_NOID;
		}
		p->stack_len = nl;
	}
	id = (uint32_t)p->nstacks;
	if (htab_insert(&p->stack_tab, slot, (uint32_t)h, id))
		return PROFILE_NOID;
	if (n)
		memcpy(p->stack_ids + p->stack_ids_len, frames, n * sizeof *frames);
	p->stack_off[id] = p->stack_ids_len;
	p->stack_len[id] = (uint32_t)n;
	p->stack_ids_len += n;
	p->nstacks++;
	return id;
}

/* ---- aggregates ---- */

struct agg_key {
	uint32_t stack;
	int32_t pid, tid;
	uint32_t task;
};

static bool agg_eq(const void *ctx, uint32_t id, const void *key)
{
	const profile *p = ctx;
	const struct profile_agg *a = &p->aggs[id];
	const struct agg_key *k = key;
	return a->stack == k->stack && a->pid == k->pid && a->tid == k->tid &&
	       a->task == k->task;
}

static uint32_t agg_hash(const struct agg_key *k)
{
	uint64_t h = hash_add(k->stack, (uint32_t)k->pid);
	h = hash_add(h, (uint32_t)k->tid);
	return (uint32_t)hash_add(h, k->task);
}

/* The aggregate of key k, created when new; NULL on failure. */
static struct profile_agg *agg_get(profile *p, const struct agg_key *k)
{
	uint32_t h = agg_hash(k);
	size_t slot;
	uint32_t id = htab_find(&p->agg_tab, h, agg_eq, p, k, &slot);
	if (id != SLOT_EMPTY)
		return &p->aggs[id];
	if (p->naggs >= PROFILE_NOID - 1)
		return NULL;
	if (grow(&p->aggs, &p->agg_cap, p->naggs + 1, sizeof *p->aggs))
		return NULL;
	id = (uint32_t)p->naggs;
	if (htab_insert(&p->agg_tab, slot, h, id))
		return NULL;
	struct profile_agg *a = &p->aggs[id];
	memset(a, 0, sizeof *a);
	a->stack = k->stack;
	a->pid = k->pid;
	a->tid = k->tid;
	a->task = k->task;
	p->naggs++;
	return a;
}

int profile_add_sample(profile *p, const struct sample *s)
{
	if (s->stack >= p->nstacks || s->task >= p->nstrs)
		return LP_EINVAL;
	uint64_t w = s->weight ? s->weight : 1;
	if (w > UINT64_MAX - p->total_samples ||
	    s->cpu_ns > UINT64_MAX - p->total_cpu_ns)
		return LP_EINVAL;
	if (p->keep_timeline) {
		if (grow(&p->timeline, &p->timeline_cap, p->ntimeline + 1,
			 sizeof *p->timeline))
			return LP_ENOMEM;
	}
	struct agg_key k = { s->stack, s->pid, s->tid, s->task };
	struct profile_agg *a = agg_get(p, &k);
	if (!a)
		return LP_ENOMEM;
	a->samples += w;
	if (s->flags & SAMPLE_ON_CPU)
		a->cpu_samples += s->cpu_weight ? s->cpu_weight : w;
	if (s->flags & SAMPLE_GIL)
		a->gil_samples += w;
	if (s->flags & SAMPLE_IDLE)
		a->idle_samples += w;
	a->cpu_ns += s->cpu_ns;
	p->total_samples += w;
	p->total_cpu_ns += s->cpu_ns;
	if (p->keep_timeline)
		p->timeline[p->ntimeline++] = *s;
	else
		p->untimed = true;
	return LP_OK;
}

int profile_add_agg(profile *p, const struct profile_agg *in)
{
	if (in->stack >= p->nstacks || in->task >= p->nstrs)
		return LP_EINVAL;
	/* the kinds of samples are among the samples, but for CPU samples,
	 * which weigh the CPU time a thread used and so can outnumber them
	 * (a late tick); and the totals stay below 2^64 (a hostile
	 * recording's AGG records can say anything) */
	if (in->cpu_samples > PROFILE_MAX_AGG_CPU || in->gil_samples > in->samples ||
	    in->idle_samples > in->samples ||
	    in->samples > UINT64_MAX - p->total_samples ||
	    in->cpu_ns > UINT64_MAX - p->total_cpu_ns)
		return LP_EINVAL;
	struct agg_key k = { in->stack, in->pid, in->tid, in->task };
	struct profile_agg *a = agg_get(p, &k);
	if (!a)
		return LP_ENOMEM;
	p->untimed = true;
	a->samples += in->samples;
	a->cpu_samples += in->cpu_samples;
	a->gil_samples += in->gil_samples;
	a->idle_samples += in->idle_samples;
	a->cpu_ns += in->cpu_ns;
	p->total_samples += in->samples;
	p->total_cpu_ns += in->cpu_ns;
	return LP_OK;
}

int profile_add_span(profile *p, const struct profile_span *sp)
{
	if (sp->cat >= p->nstrs || sp->name >= p->nstrs || sp->detail >= p->nstrs)
		return LP_EINVAL;
	if (grow(&p->spans, &p->span_cap, p->nspans + 1, sizeof *p->spans))
		return LP_ENOMEM;
	p->spans[p->nspans++] = *sp;
	return LP_OK;
}

const struct profile_span *profile_spans(const profile *p, size_t *n)
{
	*n = p->nspans;
	return p->spans;
}

void profile_reset_samples(profile *p)
{
	p->nspans = 0;
	p->naggs = 0;
	htab_clear(&p->agg_tab);
	p->ntimeline = 0;
	p->untimed = false;
	p->total_samples = 0;
	p->total_cpu_ns = 0;
}

/* ---- threads and metadata ---- */

struct thread_key {
	int32_t pid, tid;
};

static bool thread_eq(const void *ctx, uint32_t id, const void *key)
{
	const profile *p = ctx;
	const struct thread_key *k = key;
	return p->threads[id].pid == k->pid && p->threads[id].tid == k->tid;
}

static uint32_t thread_hash(int32_t pid, int32_t tid)
{
	return (uint32_t)hash_add((uint32_t)pid, (uint32_t)tid);
}

int profile_set_thread(profile *p, int32_t pid, int32_t tid, const char *name)
{
	uint32_t nid = profile_intern_cstr(p, name);
	if (nid == PROFILE_NOID)
		return LP_ENOMEM;
	struct thread_key k = { pid, tid };
	uint32_t h = thread_hash(pid, tid);
	size_t slot;
	uint32_t id = htab_find(&p->thread_tab, h, thread_eq, p, &k, &slot);
	if (id != SLOT_EMPTY) {
		p->threads[id].name = nid;
		return LP_OK;
	}
	if (p->nthreads >= PROFILE_NOID - 1)
		return LP_ENOMEM;
	if (grow(&p->threads, &p->thread_cap, p->nthreads + 1,
		 sizeof *p->threads))
		return LP_ENOMEM;
	id = (uint32_t)p->nthreads;
	if (htab_insert(&p->thread_tab, slot, h, id))
		return LP_ENOMEM;
	p->threads[id] = (struct profile_thread){ pid, tid, nid };
	p->nthreads++;
	return LP_OK;
}

uint32_t profile_thread_name(const profile *p, int32_t pid, int32_t tid)
{
	struct thread_key k = { pid, tid };
	size_t slot;
	uint32_t id = htab_find(&p->thread_tab, thread_hash(pid, tid),
				thread_eq, p, &k, &slot);
	return id == SLOT_EMPTY ? 0 : p->threads[id].name;
}

int profile_set_meta(profile *p, const char *key, const char *value)
{
	uint32_t k = profile_intern_cstr(p, key);
	uint32_t v = profile_intern_cstr(p, value);
	if (k == PROFILE_NOID || v == PROFILE_NOID)
		return LP_ENOMEM;
	for (size_t i = 0; i < p->nmeta; i++) {
		if (p->meta[i].key == k) {
			p->meta[i].value = v;
			return LP_OK;
		}
	}
	if (p->nmeta >= MAX_META)
		return LP_EINVAL;
	if (grow(&p->meta, &p->meta_cap, p->nmeta + 1, sizeof *p->meta))
		return LP_ENOMEM;
	p->meta[p->nmeta++] = (struct meta){ k, v };
	return LP_OK;
}

const char *profile_meta(const profile *p, const char *key)
{
	for (size_t i = 0; i < p->nmeta; i++) {
		if (strcmp(p->str_ptr[p->meta[i].key], key) == 0)
			return p->str_ptr[p->meta[i].value];
	}
	return NULL;
}

size_t profile_nmeta(const profile *p)
{
	return p->nmeta;
}

void profile_meta_at(const profile *p, size_t i, const char **key,
		     const char **value)
{
	*key = i < p->nmeta ? p->str_ptr[p->meta[i].key] : NULL;
	*value = i < p->nmeta ? p->str_ptr[p->meta[i].value] : NULL;
}

void profile_meta_ids(const profile *p, size_t i, uint32_t *key,
		      uint32_t *value)
{
	*key = i < p->nmeta ? p->meta[i].key : 0;
	*value = i < p->nmeta ? p->meta[i].value : 0;
}

void profile_set_start_ns(profile *p, uint64_t unix_ns)
{
	p->start_ns = unix_ns;
}

uint64_t profile_start_ns(const profile *p)
{
	return p->start_ns;
}

/* ---- life cycle ---- */

/* id 0 of each table: the empty string, the "none" frame (all zero) and
 * the empty stack */
static int intern_zeros(profile *p)
{
	struct frame none = { 0 };
	/* stack_ids is never NULL, even while every stack is empty, so that
	 * profile_stack's pointer is never NULL + 0 (undefined) */
	if (profile_intern_str(p, "", 0) != 0 ||
	    profile_intern_frame(p, &none) != 0 ||
	    profile_intern_stack(p, NULL, 0) != 0 ||
	    grow(&p->stack_ids, &p->stack_ids_cap, 1, sizeof *p->stack_ids))
		return LP_ENOMEM;
	return LP_OK;
}

profile *profile_new(void)
{
	profile *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (intern_zeros(p) != LP_OK) {
		profile_free(p);
		return NULL;
	}
	return p;
}

int profile_clear(profile *p)
{
	/* the current block of small strings stays, emptied; the rest go */
	struct str_block *keep = NULL;
	while (p->blocks) {
		struct str_block *b = p->blocks;
		p->blocks = b->next;
		if (!keep && b->cap == STR_BLOCK_SIZE)
			keep = b;
		else
			pages_free(b, sizeof *b + b->cap);
	}
	p->blocks = keep;
	p->blocks_bytes = 0;
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
		p->blocks_bytes = sizeof *keep + keep->cap;
	}
	p->nstrs = 0;
	htab_clear(&p->str_tab);
	p->nframes = 0;
	htab_clear(&p->frame_tab);
	p->stack_ids_len = 0;
	p->nstacks = 0;
	htab_clear(&p->stack_tab);
	p->naggs = 0;
	htab_clear(&p->agg_tab);
	p->total_samples = p->total_cpu_ns = 0;
	p->keep_timeline = p->untimed = false;
	p->ntimeline = 0;
	p->nspans = 0;
	p->nthreads = 0;
	htab_clear(&p->thread_tab);
	p->nmeta = 0;
	p->start_ns = 0;
	return intern_zeros(p);
}

void profile_free(profile *p)
{
	if (!p)
		return;
	while (p->blocks) {
		struct str_block *b = p->blocks;
		p->blocks = b->next;
		pages_free(b, sizeof *b + b->cap);
	}
	free(p->str_ptr);
	free(p->str_len);
	free(p->str_tab.slots);
	free(p->frames);
	free(p->frame_tab.slots);
	free(p->stack_ids);
	free(p->stack_off);
	free(p->stack_len);
	free(p->stack_tab.slots);
	free(p->aggs);
	free(p->agg_tab.slots);
	free(p->timeline);
	free(p->spans);
	free(p->threads);
	free(p->thread_tab.slots);
	free(p->meta);
	free(p);
}

void profile_keep_timeline(profile *p, bool keep)
{
	p->keep_timeline = keep;
}

/* ---- read access ---- */

size_t profile_nstrs(const profile *p)
{
	return p->nstrs;
}

size_t profile_nframes(const profile *p)
{
	return p->nframes;
}

size_t profile_nstacks(const profile *p)
{
	return p->nstacks;
}

const char *profile_str(const profile *p, uint32_t id)
{
	return id < p->nstrs ? p->str_ptr[id] : NULL;
}

size_t profile_str_len(const profile *p, uint32_t id)
{
	return id < p->nstrs ? p->str_len[id] : 0;
}

const struct frame *profile_frame(const profile *p, uint32_t id)
{
	return id < p->nframes ? &p->frames[id] : NULL;
}

const uint32_t *profile_stack(const profile *p, uint32_t id, size_t *n)
{
	if (id >= p->nstacks) {
		*n = 0;
		return NULL;
	}
	*n = p->stack_len[id];
	return p->stack_ids + p->stack_off[id];
}

const struct profile_agg *profile_aggs(const profile *p, size_t *n)
{
	*n = p->naggs;
	return p->aggs;
}

const struct profile_thread *profile_threads(const profile *p, size_t *n)
{
	*n = p->nthreads;
	return p->threads;
}

const struct sample *profile_timeline(const profile *p, size_t *n)
{
	*n = p->ntimeline;
	return p->timeline;
}

bool profile_timeline_whole(const profile *p)
{
	return p->ntimeline && !p->untimed;
}

struct profile_agg profile_agg_sum(const profile *p)
{
	struct profile_agg sum = { 0 };
	size_t n;
	const struct profile_agg *a = profile_aggs(p, &n);
	for (size_t i = 0; i < n; i++) {
		sum.samples += a[i].samples;
		sum.cpu_samples += a[i].cpu_samples;
		sum.gil_samples += a[i].gil_samples;
		sum.idle_samples += a[i].idle_samples;
		sum.cpu_ns += a[i].cpu_ns;
	}
	return sum;
}

uint64_t profile_total_samples(const profile *p)
{
	return p->total_samples;
}

size_t profile_memory(const profile *p)
{
	return sizeof *p + p->blocks_bytes +
	       p->str_cap * (sizeof *p->str_ptr + sizeof *p->str_len) +
	       p->str_tab.cap * sizeof(struct hslot) +
	       p->frame_cap * sizeof *p->frames +
	       p->frame_tab.cap * sizeof(struct hslot) +
	       p->stack_ids_cap * sizeof *p->stack_ids +
	       p->stack_cap * (sizeof *p->stack_off + sizeof *p->stack_len) +
	       p->stack_tab.cap * sizeof(struct hslot) +
	       p->agg_cap * sizeof *p->aggs +
	       p->agg_tab.cap * sizeof(struct hslot) +
	       p->timeline_cap * sizeof *p->timeline +
	       p->span_cap * sizeof *p->spans +
	       p->thread_cap * sizeof *p->threads +
	       p->thread_tab.cap * sizeof(struct hslot) +
	       p->meta_cap * sizeof *p->meta;
}

/* ---- per-function figures ---- */

/* With by_line false a function is (kind, func, file, module); the frame
 * table itself serves as key store: the first frame seen of a function
 * names it. */
struct func_ctx {
	const profile *p;
	const uint32_t *fn_frame;	/* function index -> frame id */
};

static bool func_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct func_ctx *c = ctx;
	const struct frame *a = &c->p->frames[c->fn_frame[id]], *b = key;
	return a->kind == b->kind && a->func == b->func && a->file == b->file &&
	       a->module == b->module && (a->func != 0 || a->offset == b->offset);
}

int profile_func_stats(const profile *p, bool by_line,
		       struct profile_func_stats **out, size_t *n)
{
	int rc = LP_ENOMEM;
	size_t nf = p->nframes;
	uint32_t *fn_of = malloc(nf * sizeof *fn_of);
	uint32_t *fn_frame = malloc(nf * sizeof *fn_frame);
	struct htab tab = { 0 };
	struct profile_func_stats *st = NULL;
	uint64_t *seen = NULL;
	size_t nfn = 0;

	*out = NULL;
	*n = 0;
	if (!fn_of || !fn_frame)
		goto out;
	struct func_ctx ctx = { p, fn_frame };
	for (size_t i = 0; i < nf; i++) {
		if (by_line) {
			fn_of[i] = (uint32_t)nfn;
			fn_frame[nfn++] = (uint32_t)i;
			continue;
		}
		const struct frame *f = &p->frames[i];
		uint64_t hh = hash_add(f->kind, f->func);
		hh = hash_add(hh, f->file);
		hh = hash_add(hh, f->module);
		/* native frames without a symbol stay apart by address */
		if (!f->func)
			hh = hash_add(hh, f->offset);
		uint32_t h = (uint32_t)hh;
		size_t slot;
		uint32_t id = htab_find(&tab, h, func_eq, &ctx, f, &slot);
		if (id == SLOT_EMPTY) {
			id = (uint32_t)nfn;
			if (htab_insert(&tab, slot, h, id))
				goto out;
			fn_frame[nfn++] = (uint32_t)i;
		}
		fn_of[i] = id;
	}
	st = calloc(nfn ? nfn : 1, sizeof *st);
	/* seen[fn] = 1 + index of the last aggregate that counted fn's total:
	 * a recursive function is counted once per stack */
	seen = calloc(nfn ? nfn : 1, sizeof *seen);
	if (!st || !seen)
		goto out;
	for (size_t i = 0; i < nfn; i++)
		st[i].frame = fn_frame[i];
	for (size_t ai = 0; ai < p->naggs; ai++) {
		const struct profile_agg *a = &p->aggs[ai];
		size_t len;
		const uint32_t *ids = profile_stack(p, a->stack, &len);
		for (size_t j = 0; j < len; j++) {
			if (ids[j] == 0)
				continue;	/* the "none" frame is no function */
			uint32_t fn = fn_of[ids[j]];
			if (seen[fn] == ai + 1)
				continue;
			seen[fn] = ai + 1;
			st[fn].total_samples += a->samples;
			st[fn].total_cpu_samples += a->cpu_samples;
			st[fn].total_cpu_ns += a->cpu_ns;
		}
		if (len && ids[len - 1] != 0) {
			uint32_t fn = fn_of[ids[len - 1]];
			st[fn].own_samples += a->samples;
			st[fn].own_cpu_samples += a->cpu_samples;
			st[fn].own_cpu_ns += a->cpu_ns;
		}
	}
	/* keep only functions that were seen */
	size_t k = 0;
	for (size_t i = 0; i < nfn; i++) {
		if (st[i].total_samples || st[i].total_cpu_ns)
			st[k++] = st[i];
	}
	*out = st;
	*n = k;
	st = NULL;
	rc = LP_OK;
out:
	free(st);
	free(seen);
	free(tab.slots);
	free(fn_frame);
	free(fn_of);
	return rc;
}
