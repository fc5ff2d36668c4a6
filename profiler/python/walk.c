/* Sampling: every interpreter, every thread state, every frame, read from
 * the target through one mem_reader.  Speed comes from three things:
 *  - prefetch: the regions a sample read (runtime words, interpreter and
 *    thread states, frames, the frame data-stack chunk of 3.11+, code object
 *    headers) are read again at the start of the next sample in one
 *    vectored read, and the walk finds its structs in those copies; only
 *    what moved costs a read of its own;
 *  - a code-object cache by address (names, file, line table), checked at
 *    every use against the header copied in the same vectored read;
 *  - a small (lasti -> line) memo per code object.
 * Remote data can be anything: every loop is bounded (bounds.h), every
 * length checked, and a walk that does not end at the thread's base frame
 * is read again, then failed with its reason (py_thread.fail). */
#include "python/pyproc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "clock.h"
#include "error.h"
#include "pages.h"
#include "python/linetable.h"
#include "target.h"

static const char *const walk_fail_text[] = {
#define PY_WALK_TEXT(name, text) text,
	PY_WALK_FAILS(PY_WALK_TEXT)
#undef PY_WALK_TEXT
};

static const char *const walk_fail_name[] = {
#define PY_WALK_NAME(name, text) #name,
	PY_WALK_FAILS(PY_WALK_NAME)
#undef PY_WALK_NAME
};

const char *py_walk_fail_str(enum py_walk_fail f)
{
	return (unsigned)f < PY_WALK_NFAILS ? walk_fail_text[f] : "unknown";
}

const char *py_walk_fail_name(enum py_walk_fail f)
{
	return (unsigned)f < PY_WALK_NFAILS ? walk_fail_name[f] : "UNKNOWN";
}

/* ---- interned strings: valid until py_proc_free ---- */

struct py_strpool {
	char **v;
	size_t cap, n;
};

/* A hash of n bytes, a word at a time (names and paths: tens of bytes): the
 * string pool's and the code-object cache's one hash. */
static uint64_t hash_text(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	uint64_t w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 32);
}

static const char *intern(struct py_strpool *sp, const char *s, size_t len)
{
	if (sp->n * 2 >= sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 1024;
		char **v = calloc(cap, sizeof *v);
		if (!v)
			return NULL;
		for (size_t i = 0; i < sp->cap; i++) {
			if (!sp->v[i])
				continue;
			size_t j = hash_text((const uint8_t *)sp->v[i], strlen(sp->v[i])) &
				   (cap - 1);
			while (v[j])
				j = (j + 1) & (cap - 1);
			v[j] = sp->v[i];
		}
		free(sp->v);
		sp->v = v;
		sp->cap = cap;
	}
	size_t j = hash_text((const uint8_t *)s, len) & (sp->cap - 1);
	while (sp->v[j]) {
		if (strncmp(sp->v[j], s, len) == 0 && sp->v[j][len] == '\0')
			return sp->v[j];
		j = (j + 1) & (sp->cap - 1);
	}
	char *c = malloc(len + 1);
	if (!c)
		return NULL;
	memcpy(c, s, len);
	c[len] = '\0';
	sp->v[j] = c;
	sp->n++;
	return c;
}

static void strpool_free(struct py_strpool *sp)
{
	if (!sp)
		return;
	for (size_t i = 0; i < sp->cap; i++)
		free(sp->v[i]);
	free(sp->v);
	free(sp);
}

/* ---- arena of local copies, reset every sample ---- */

static void *arena_alloc(py_proc *py, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct py_arena_block *b = py->arena_cur, *last = NULL;
	for (; b; last = b, b = b->next) {
		if (b->cap - b->used >= n) {
			py->arena_cur = b;
			void *p = b->data + b->used;
			b->used += n;
			return p;
		}
	}
	for (last = py->arena; last && last->next; last = last->next)
		;
	/* Blocks are kept for the next samples: steady state allocates
	 * nothing.  A region larger than a block gets a block its size. */
	size_t cap = n > PY_ARENA_BLOCK ? n : PY_ARENA_BLOCK;
	struct py_arena_block *nb = pages_zalloc(sizeof *nb + cap);	/* pages.h */
	if (!nb)
		return NULL;
	nb->next = NULL;
	nb->cap = cap;
	nb->used = n;
	if (last)
		last->next = nb;
	else
		py->arena = nb;
	py->arena_cur = nb;
	return nb->data;
}

static void arena_reset(py_proc *py)
{
	for (struct py_arena_block *b = py->arena; b; b = b->next)
		b->used = 0;
	py->arena_cur = py->arena;
}

static void arena_free(py_proc *py)
{
	struct py_arena_block *b = py->arena;
	while (b) {
		struct py_arena_block *n = b->next;
		pages_free(b, sizeof *b + b->cap);
		b = n;
	}
	py->arena = py->arena_cur = NULL;
}

/* ---- remote reads through the prefetch slots ---- */

static void keep_next(py_proc *py, uint64_t addr, uint32_t len)
{
	struct py_slot s = { addr, len, false, false, NULL, 0 };
	if (py->keep != PY_KEEP_FULL_ONLY && py->nnext < PY_MAX_PREFETCH)
		py->next_slots[py->nnext++] = s;
	if (py->keep != PY_KEEP_NEXT && py->nfull < PY_MAX_PREFETCH)
		py->full_slots[py->nfull++] = s;
}

/* This sample's copy of [addr, addr + len), or NULL when none holds it.
 * keep: read it again at the start of the next sample. */
static const uint8_t *lookup(py_proc *py, uint64_t addr, size_t len,
			     bool keep)
{
	/* Slots below slot_floor are older copies than a re-read wants.
	 * The slots are in the order the last sample used them, so the
	 * search starts at the last slot found; the few slots found last
	 * are tried first: a walk comes back to its frames' chunk (3.11+)
	 * after each code object and its strings. */
	size_t lo = py->slot_floor, span = py->nslots - lo;
	size_t c = py->cursor > lo && py->cursor <= py->nslots ?
			   py->cursor - 1 : lo;
	for (size_t k = 0; k < PY_RECENT + span; k++) {
		size_t i;
		if (k < PY_RECENT) {
			i = py->recent[k];
			if (i < lo || i >= py->nslots)
				continue;
		} else {
			i = c + (k - PY_RECENT);
			if (i >= py->nslots)
				i -= span;
		}
		struct py_slot *s = &py->slots[i];
		if (!s->ok || addr < s->addr || addr - s->addr > s->len ||
		    len > s->len - (addr - s->addr) ||
		    (py->want_batch && s->batch != py->want_batch))
			continue;
		/* The recent slots, most recent first; one found among
		 * them leaves the cursor where the sequence of first uses
		 * is (the next code object's header follows the last
		 * string found). */
		size_t from = k < PY_RECENT ? k : PY_RECENT - 1;
		memmove(py->recent + 1, py->recent, from * sizeof *py->recent);
		py->recent[0] = i;
		if (k >= PY_RECENT)
			py->cursor = i + 1 < py->nslots ? i + 1 : lo;
		py->last_batch = s->batch;
		if (keep && !s->used) {
			s->used = true;
			keep_next(py, s->addr, s->len);
		}
		return s->data + (addr - s->addr);
	}
	return NULL;
}

/* A local copy of [addr, addr + len) of the target, or NULL when it cannot
 * be read.  keep: read it again at the start of the next sample. */
static const uint8_t *rget(py_proc *py, uint64_t addr, size_t len, bool keep)
{
	if (addr == 0 || len == 0 || len > PY_MAX_CHUNK_READ ||
	    addr + len < addr)
		return NULL;
	const uint8_t *have = lookup(py, addr, len, keep);
	if (have)
		return have;
	uint8_t *buf = arena_alloc(py, len);
	if (!buf)
		return NULL;
	int rc = mem_read(py->reader, addr, buf, len);
	if (rc != LP_OK) {
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			py->gone = rc;
		return NULL;
	}
	py->last_batch = ++py->batch;
	if (keep) {
		if (py->nslots < PY_SLOTS_CAP)
			py->slots[py->nslots++] = (struct py_slot){
				addr, (uint32_t)len, true, true, buf,
				py->batch };
		keep_next(py, addr, (uint32_t)len);
	}
	return buf;
}

static uint64_t u64at(const uint8_t *p, uint32_t off)
{
	return GET_MEMBER(uint64_t, p, off);
}

static int32_t i32at(const uint8_t *p, uint32_t off)
{
	return GET_MEMBER(int32_t, p, off);
}

/* Regions closer than this are read as one iovec: each iovec costs the
 * kernel a page-table walk and pin (mm/process_vm_access.c), about 0.35 us
 * here, more than copying the gap between two regions a page apart (two
 * 144-byte regions 3840 bytes apart: 1.56 us as two iovecs, 1.02 us as
 * one; 7680 apart, about even).  A gap under a page cannot hide an
 * unmapped page: it lies in the pages of the two readable regions it
 * joins. */
#define PY_MERGE_GAP 4095
/* Largest merged read. */
#define PY_MERGE_MAX (64u * 1024)

/* Up to 3.10: a thread state's or a frame object's copy, read in the
 * order listed (read_slots). */
static bool listed_in_order(const py_proc *py, const struct py_slot *s)
{
	return s->len && (s->len == py->L.fr_size || s->len == py->L.ts_size);
}

static int by_addr(const void *a, const void *b, void *slots)
{
	const struct py_slot *v = slots;
	uint64_t x = v[*(const uint32_t *)a].addr;
	uint64_t y = v[*(const uint32_t *)b].addr;
	return x < y ? -1 : x > y;
}

/* Reads slots [from, nslots) in one vectored read; regions close in the
 * target (frames allocated together, fields of one struct) share one
 * iovec.  A failed read drops those slots: they are read on demand.
 *
 * The kernel copies the iovecs one after another while the target runs.
 * Up to 3.10 every frame is an object of its own, and a warm sample lists
 * a thread's frames after its thread state, each after its callee (the
 * walk's order): they are copied in that order, never by address.  Copied
 * by address, a caller's copy could be older than its callee's: the caller
 * had returned and its object been reused by another call before the
 * callee was copied (on 3.8 under load, <churn-a>'s function joined to a
 * frame of <churn-b> under parent_b, which never runs it).  Copied after
 * its callee, a caller was alive then and its caller (a frame holds its
 * f_back), and one reused since then counts one reference (walk_once). */
static int read_slots(py_proc *py, size_t from)
{
	size_t n = py->nslots - from, niov = 0;
	if (n == 0)
		return LP_OK;
	if (n > MAX_IOV) {
		n = MAX_IOV;	/* the rest is read on demand */
		py->nslots = from + n;
	}
	/* A warm sample asks for the regions of the last one, in the same
	 * order: their order by address is the one sorted then. */
	bool same = from == 0 && n == py->sorted_n;
	for (size_t i = 0; same && i < n; i++)
		same = py->sorted_addr[i] == py->slots[i].addr &&
		       py->sorted_len[i] == py->slots[i].len;
	if (!same) {
		for (uint32_t i = 0; i < n; i++)
			py->order[i] = (uint32_t)(from + i);
		qsort_r(py->order, n, sizeof *py->order, by_addr, py->slots);
		py->sorted_n = 0;
		if (from == 0) {
			for (size_t i = 0; i < n; i++) {
				py->sorted_addr[i] = py->slots[i].addr;
				py->sorted_len[i] = py->slots[i].len;
			}
			memcpy(py->sorted, py->order, n * sizeof *py->order);
			py->sorted_n = n;
		}
	} else {
		memcpy(py->order, py->sorted, n * sizeof *py->order);
	}
	/* A region listed twice (kept by the last sample and by the last
	 * full walk) is one slot: a second copy would be found, and kept
	 * again, by every other lookup. */
	for (size_t i = 1; i < n; i++) {
		struct py_slot *a = &py->slots[py->order[i - 1]];
		struct py_slot *b = &py->slots[py->order[i]];
		if (a->addr == b->addr && a->len == b->len)
			a->len = 0;	/* matches no lookup */
	}
	/* the thread states and frames first, as listed, then the rest
	 * (code objects, strings) by address */
	size_t nlisted = 0;
	if (py->L.frames == PY_FRAMES_OBJECT) {
		size_t nrest = 0;
		for (size_t i = 0; i < n; i++)
			if (!listed_in_order(py, &py->slots[py->order[i]]))
				py->order[nrest++] = py->order[i];
		nlisted = n - nrest;
		memmove(py->order + nlisted, py->order, nrest * sizeof *py->order);
		for (size_t i = 0, k = 0; i < n; i++)
			if (listed_in_order(py, &py->slots[from + i]))
				py->order[k++] = (uint32_t)(from + i);
	}
	for (size_t i = 0; i < n;) {
		const struct py_slot *first = &py->slots[py->order[i]];
		uint64_t start = first->addr, end = start + first->len;
		size_t j = i + 1;
		for (; j < n; j++) {
			const struct py_slot *s = &py->slots[py->order[j]];
			uint64_t e = s->addr + s->len;
			if (s->len == 0)
				continue;	/* a second copy: read by none */
			if (s->addr > end + PY_MERGE_GAP ||
			    (j < nlisted && s->addr < end) ||
			    (i < nlisted) != (j < nlisted) ||
			    (e > end ? e : end) - start > PY_MERGE_MAX)
				break;
			if (e > end)
				end = e;
		}
		uint8_t *buf = arena_alloc(py, (size_t)(end - start));
		if (!buf) {
			py->nslots = from;
			return LP_OK;
		}
		for (size_t k = i; k < j; k++) {
			struct py_slot *s = &py->slots[py->order[k]];
			s->data = s->len ? buf + (s->addr - start) : NULL;
		}
		py->iov[niov++] = (struct remote_iov){ start, buf,
						       (size_t)(end - start) };
		i = j;
	}
	int rc = mem_readv(py->reader, py->iov, niov);
	if (rc == LP_ENOPROC || rc == LP_EPERM)
		return rc;
	/* Which iov failed is not known: forget them all, read on demand. */
	bool ok = rc == LP_OK;
	py->batch++;
	for (size_t i = from; i < py->nslots; i++) {
		py->slots[i].ok = ok;
		py->slots[i].used = false;
		py->slots[i].batch = py->batch;
	}
	if (!ok)
		py->nslots = from;
	return LP_OK;
}

/* Adds the regions of the last full walk to this sample's copies. */
static void add_full_slots(py_proc *py)
{
	for (size_t i = 0; i < py->nfull && py->nslots < PY_SLOTS_CAP;
	     i++)
		py->slots[py->nslots++] = py->full_slots[i];
}

/* Reads last sample's regions again, in one vectored read.  with_full:
 * also those of the last full walk, which is due. */
static int prefetch(py_proc *py, bool with_full)
{
	struct py_slot *t = py->slots;
	py->slots = py->next_slots;
	py->next_slots = t;
	py->nslots = py->nnext;
	py->nnext = 0;
	if (with_full)
		add_full_slots(py);
	py->cursor = 0;
	arena_reset(py);
	return read_slots(py, 0);
}

/* ---- strings ---- */

static size_t utf8_put(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c >= 0xd800 && c < 0xe000)
		c = 0xfffd;	/* lone surrogate: not encodable */
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	if (c > 0x10ffff)
		c = 0xfffd;
	if (c < 0x10000)
		return utf8_put(o, c);
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Decodes a str (2.7) or a compact unicode object (3.x, the only kind code
 * objects hold: Objects/unicodeobject.c interns them compact) to an
 * interned UTF-8 string, or NULL. */
static const char *read_string(py_proc *py, uint64_t obj)
{
	const struct py_layout *L = &py->L;
	char out[MAX_STRING_LEN * 4 + 1];
	size_t n = 0;
	if (L->py2_strings) {
		const uint8_t *h = rget(py, obj, L->bytes_data, false);
		if (!h)
			return NULL;
		int64_t len = GET_MEMBER(int64_t, h, L->bytes_len);
		if (len < 0)
			return NULL;
		if (len > MAX_STRING_LEN)
			len = MAX_STRING_LEN;
		if (len == 0)
			return intern(py->strings, "", 0);
		const uint8_t *d = rget(py, obj + L->bytes_data, (size_t)len,
					false);
		if (!d)
			return NULL;
		for (n = 0; n < (size_t)len && d[n]; n++)
			out[n] = (char)d[n];
		return intern(py->strings, out, n);
	}
	const uint8_t *h = rget(py, obj, L->uni_ascii_size, false);
	if (!h)
		return NULL;
	uint32_t state = GET_MEMBER(uint32_t, h, L->uni_state);
	int64_t len = GET_MEMBER(int64_t, h, L->uni_len);
	unsigned kind = (state >> L->uni_kind_shift) & 7;
	bool compact = (state >> L->uni_compact_bit) & 1;
	bool ascii = (state >> L->uni_ascii_bit) & 1;
	if (!compact || len < 0 || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	if (len > MAX_STRING_LEN / kind)
		len = MAX_STRING_LEN / kind;
	if (len == 0)
		return intern(py->strings, "", 0);
	uint64_t data = obj + (ascii ? L->uni_ascii_size : L->uni_compact_size);
	const uint8_t *d = rget(py, data, (size_t)len * kind, false);
	if (!d)
		return NULL;
	for (int64_t i = 0; i < len; i++) {
		uint32_t c;
		if (kind == 1)
			c = d[i];
		else if (kind == 2)
			c = GET_MEMBER(uint16_t, d, (size_t)i * 2);
		else
			c = GET_MEMBER(uint32_t, d, (size_t)i * 4);
		if (c == 0)
			break;
		n += utf8_put(out + n, c);
	}
	return intern(py->strings, out, n);
}

/* Where a str's text lies: the size of the object and text read as one
 * region (text capped at MAX_STRING_LEN bytes), from a copy of its header;
 * 0 when it is not a str loupe reads. */
static size_t str_region(const struct py_layout *L, const uint8_t *h,
			 size_t *off, unsigned *unit)
{
	int64_t len;
	*unit = 1;
	if (L->py2_strings) {
		len = GET_MEMBER(int64_t, h, L->bytes_len);
		*off = L->bytes_data;
	} else {
		uint32_t state = GET_MEMBER(uint32_t, h, L->uni_state);
		len = GET_MEMBER(int64_t, h, L->uni_len);
		*unit = (state >> L->uni_kind_shift) & 7;
		if (!((state >> L->uni_compact_bit) & 1) ||
		    (*unit != 1 && *unit != 2 && *unit != 4))
			return 0;
		*off = (state >> L->uni_ascii_bit) & 1 ? L->uni_ascii_size :
							 L->uni_compact_size;
	}
	if (len < 0 || (uint64_t)len > PY_MAX_CHUNK_READ)
		return 0;
	size_t n = (size_t)len * *unit;
	return *off + (n > MAX_STRING_LEN ? MAX_STRING_LEN : n);
}

/* What a str (a bytes-like str on 2.7) holds: its text up to
 * MAX_STRING_LEN bytes and its kind, hashed; 0 when it cannot be read.
 * The object and its text are one region, kept for the next sample, so a
 * warm check is one lookup in the prefetch copies (*size: that region's
 * size the last time, 0 if unknown).  A string checked once in a sample
 * (the file of many frames) is not hashed again.  *batch: the latest read
 * that copied what was used. */
static uint64_t str_ident(py_proc *py, uint64_t obj, uint32_t *size,
			  uint32_t *batch, uint32_t *oldest)
{
	const struct py_layout *L = &py->L;
	struct py_str_memo *m = &py->str_memo[(obj >> 4) % PY_STR_MEMO];
	if (m->obj == obj && m->nsample == py->nsample && !py->slot_floor &&
	    (!py->want_batch || m->batch == py->want_batch)) {
		if (m->batch > *batch)
			*batch = m->batch;
		if (m->batch < *oldest)
			*oldest = m->batch;
		*size = m->size;
		return m->ident;
	}
	size_t hdr = L->py2_strings ? L->bytes_data : L->uni_ascii_size;
	size_t off, whole = 0;
	unsigned unit;
	const uint8_t *d = NULL;
	if (*size >= hdr && (d = rget(py, obj, *size, true)))
		whole = str_region(L, d, &off, &unit);
	if (!d || whole != *size) {
		/* First sight, or another string there now. */
		const uint8_t *h = rget(py, obj, hdr, false);
		if (!h || !(whole = str_region(L, h, &off, &unit)) ||
		    !(d = rget(py, obj, whole, true)))
			return 0;
	}
	if (py->last_batch > *batch)
		*batch = py->last_batch;
	if (py->last_batch < *oldest)
		*oldest = py->last_batch;
	*size = (uint32_t)whole;
	uint64_t ident = hash_text(d + off, whole - off) ^ unit;
	*m = (struct py_str_memo){ obj, py->nsample, ident, (uint32_t)whole,
				   py->last_batch };
	return ident ? ident : 1;
}

/* ---- code objects ---- */

static struct py_code *code_slot(py_proc *py, uint64_t addr, bool *found)
{
	size_t h = (size_t)(((addr >> 4) * 0x9e3779b97f4a7c15ull) >> 52);
	struct py_code *victim = NULL;
	for (size_t k = 0; k < PY_CODE_CACHE_PROBE; k++) {
		struct py_code *c =
			&py->codes[(h + k) & (PY_CODE_CACHE_SIZE - 1)];
		if (c->addr == addr) {
			*found = true;
			return c;
		}
		if (!victim || (victim->addr && (!c->addr ||
				c->last_used < victim->last_used)))
			victim = c;
	}
	*found = false;
	return victim;
}

static void code_clear(py_proc *py, struct py_code *c)
{
	size_t i = (size_t)(c - py->codes);
	py->code_tables[i / 64] &= ~(1ull << (i % 64));
	free(c->table);
	memset(c, 0, sizeof *c);
}

/* Fills c from the code object at addr whose header copy is cp. */
static int code_fill(py_proc *py, struct py_code *c, uint64_t addr,
		     const uint8_t *cp)
{
	const struct py_layout *L = &py->L;
	code_clear(py, c);
	uint64_t name = u64at(cp, L->co_name);
	uint64_t qual = L->co_qualname ? u64at(cp, L->co_qualname) : 0;
	uint64_t file = u64at(cp, L->co_filename);
	uint64_t tab = u64at(cp, L->co_linetable);
	const char *func = read_string(py, qual ? qual : name);
	const char *fname = read_string(py, file);
	if (!func || !fname)
		return LP_EFAULT;
	/* The line table is a bytes object (str in 2.7): same header. */
	uint8_t *copy = NULL;
	uint32_t tlen = 0;
	const uint8_t *h = rget(py, tab, L->bytes_data, false);
	if (h) {
		int64_t len = GET_MEMBER(int64_t, h, L->bytes_len);
		if (len > 0 && len <= MAX_LINETABLE_LEN) {
			const uint8_t *d = rget(py, tab + L->bytes_data,
						(size_t)len, false);
			if (d && (copy = malloc((size_t)len))) {
				memcpy(copy, d, (size_t)len);
				tlen = (uint32_t)len;
			}
		}
	}
	c->addr = addr;
	c->name_obj = name;
	c->qualname_obj = qual;
	c->file_obj = file;
	c->table_obj = tab;
	c->firstlineno = i32at(cp, L->co_firstlineno);
	c->func = func;
	c->file = fname;
	c->table = copy;
	c->table_len = tlen;
	if (copy) {
		size_t i = (size_t)(c - py->codes);
		py->code_tables[i / 64] |= 1ull << (i % 64);
	}
	return LP_OK;
}

static int32_t code_line(py_proc *py, struct py_code *c, int64_t lasti)
{
	if (lasti < 0 || lasti > (int64_t)UINT32_MAX)
		return c->firstlineno;
	uint32_t b = (uint32_t)lasti;
	for (unsigned i = 0; i < c->memo_n; i++)
		if (c->memo_lasti[i] == b)
			return c->memo_line[i];
	int line;
	if (!c->table)
		line = c->firstlineno;
	else if (py->L.linetable == PY_LT_LNOTAB && py->L.major == 2)
		/* 2.7's line increments are unsigned (lnotab_notes.txt). */
		line = py_line_lnotab_unsigned(c->table, c->table_len,
					       c->firstlineno, b);
	else if (py->L.linetable == PY_LT_LNOTAB)
		line = py_line_lnotab(c->table, c->table_len, c->firstlineno, b);
	else if (py->L.linetable == PY_LT_310)
		line = py_line_linetable310(c->table, c->table_len,
					    c->firstlineno, b);
	else
		line = py_line_location(c->table, c->table_len,
					c->firstlineno, b);
	unsigned k = c->memo_next++ % PY_LINE_MEMO;
	c->memo_lasti[k] = b;
	c->memo_line[k] = line;
	if (c->memo_n < PY_LINE_MEMO)
		c->memo_n++;
	return line;
}

/* The same addresses are not the same objects: a code object made where
 * a freed one was, from source of the same shape, often gets its name and
 * file strings where the old ones were too (exec of generated code).  So
 * the text of both is compared as well, unless the object is known to be
 * the one checked: 3.12/3.13 number each code object made (co_version, in
 * the header), 3.14+ count those freed (the count is copied in the same
 * vectored read as the header, before it: a code object replaced between
 * the two copies is caught one sample late).  The line table is named by
 * address.  Refills c when the object at its address is another. */
static int code_check_text(py_proc *py, struct py_code *c, bool found,
			   uint64_t code, const uint8_t *cp, uint32_t *batch,
			   uint32_t *oldest)
{
	const struct py_layout *L = &py->L;
	uint64_t qual = L->co_qualname ? u64at(cp, L->co_qualname) : 0;
	bool same_addrs = found && c->name_obj == u64at(cp, L->co_name) &&
			  c->file_obj == u64at(cp, L->co_filename) &&
			  c->table_obj == u64at(cp, L->co_linetable) &&
			  c->qualname_obj == qual &&
			  c->firstlineno == i32at(cp, L->co_firstlineno);
	uint32_t version = L->co_version ?
				   (uint32_t)i32at(cp, L->co_version) : 0;
	if (same_addrs && ((version && version == c->version) ||
			   (py->code_gen_ok &&
			    c->gen_interp == py->code_gen_interp &&
			    c->gen == py->code_gen)))
		return LP_OK;
	uint32_t nsize = found ? c->name_size : 0;
	uint32_t fsize = found ? c->file_size : 0;
	uint64_t ident = str_ident(py, qual ? qual : u64at(cp, L->co_name),
				   &nsize, batch, oldest);
	uint64_t fident = str_ident(py, u64at(cp, L->co_filename), &fsize,
				    batch, oldest);
	if (!ident || !fident)
		return LP_EFAULT;
	ident = ident * 31 + fident;
	if (!same_addrs || c->ident != ident) {
		int rc = code_fill(py, c, code, cp);
		if (rc != LP_OK) {
			code_clear(py, c);
			return rc;
		}
		c->ident = ident;
	}
	c->name_size = nsize;
	c->file_size = fsize;
	c->gen_interp = py->code_gen_ok ? py->code_gen_interp : 0;
	c->gen = py->code_gen;
	c->version = version;
	return LP_OK;
}

/* The bytes a frame of the code object whose header is cp takes on a
 * thread's data stack (3.11+), 0 when the layout does not say or the
 * header is not sane. */
static uint32_t frame_bytes(const struct py_layout *L, const uint8_t *cp)
{
	int64_t words;
	if (L->co_framesize)
		words = i32at(cp, L->co_framesize);
	else if (L->co_stacksize && L->co_nlocalsplus)
		words = (int64_t)i32at(cp, L->co_stacksize) +
			i32at(cp, L->co_nlocalsplus) + L->fr_size / 8;
	else
		return 0;
	return words > 0 && words < (1 << 24) ? (uint32_t)words * 8 : 0;
}

/* Checks the code object at code against a copy of its header; up to
 * 3.10 (fbatch set, the read that copied the frame) the copies of that
 * read only. */
static int check_code(py_proc *py, struct py_code *c, bool found,
		      uint64_t code, uint32_t fbatch)
{
	const struct py_layout *L = &py->L;
	uint32_t want = py->want_batch;
	py->want_batch = fbatch;
	int rc = LP_EFAULT;
	const uint8_t *cp = rget(py, code, L->co_size, true);
	if (!cp)
		goto out;
	uint32_t batch = py->last_batch, oldest = py->last_batch;
	rc = LP_EFORMAT;
	if (py->code_type && u64at(cp, L->ob_type) != py->code_type)
		goto out;
	rc = code_check_text(py, c, found, code, cp, &batch, &oldest);
	if (rc != LP_OK)
		goto out;
	/* Frames that run one code object at once share it: one check per
	 * sample (a re-read checks again). */
	c->checked = py->nsample;
	c->checked_batch = batch;
	c->oldest_batch = oldest;
	c->frame_bytes = frame_bytes(L, cp);
out:
	py->want_batch = want;
	return rc;
}

/* Resolves one frame's code object and instruction to a py_frame.  fbatch:
 * up to 3.10, the read that copied the frame, whose code object's header
 * and strings must come from that read too (walk_once); else 0. */
static int resolve(py_proc *py, uint64_t code, const uint8_t *fp,
		   uint32_t fbatch, struct py_frame *out)
{
	const struct py_layout *L = &py->L;
	if (code == 0)
		return LP_EFAULT;	/* 0 also marks a free cache slot */
	bool found;
	struct py_code *c = code_slot(py, code, &found);
	/* The header is checked on every use: an entry keyed by address
	 * names a frame only while the object there is still a code object
	 * with the same name, file, line table and first line (a freed code
	 * object's address is soon another's).  The header is kept in the
	 * prefetch read, so this costs no call of its own. */
	if (!found || c->checked != py->nsample || py->slot_floor ||
	    (fbatch && (c->oldest_batch != fbatch ||
			c->checked_batch != fbatch))) {
		int rc = check_code(py, c, found, code, fbatch);
		if (rc != LP_OK)
			return rc;
	}
	py->code_batch = c->checked_batch;
	py->code_oldest = c->oldest_batch;
	py->code_entry = c;
	py->code_frame_bytes = c->frame_bytes;
	c->last_used = py->nsample;

	int64_t lasti;
	if (L->lasti == PY_LASTI_BYTES) {
		lasti = i32at(fp, L->fr_lasti);
	} else if (L->lasti == PY_LASTI_UNITS) {
		lasti = (int64_t)i32at(fp, L->fr_lasti) * 2;
	} else {
		uint64_t ip = u64at(fp, L->fr_lasti);
		uint64_t start = code + L->co_code_adaptive;
		lasti = ip >= start && ip - start < (1u << 28) ?
				(int64_t)(ip - start) : -1;
	}
	out->func = c->func;
	out->file = c->file;
	out->line = code_line(py, c, lasti);
	out->code_addr = code;
	out->addr = 0;
	out->entry = false;
	out->cstack = 0;
	return LP_OK;
}

/* ---- threads ---- */

static struct py_frame *frame_slot(py_proc *py, size_t i)
{
	if (i >= py->frames_cap) {
		/* a mapping of its own (pages.h): a shallow stack touches
		 * its first page only */
		size_t cap = py->frames_cap ? py->frames_cap * 2 :
			     (128 * 1024) / sizeof *py->frames;
		while (cap <= i)
			cap *= 2;
		struct py_frame *f = pages_resize(py->frames, py->frames_cap * sizeof *f,
						  cap * sizeof *f);
		if (!f)
			return NULL;
		py->frames = f;
		py->frames_cap = cap;
	}
	return &py->frames[i];
}

/* Where the e-th frame from the leaf is kept in a thread's part of
 * py->frames: the first PY_KEEP_LEAF frames in order, the marker slot, then
 * a ring of the PY_KEEP_ROOT frames nearest the root seen so far. */
#define PY_KEEP_LEAF (MAX_STACK_DEPTH / 2)
#define PY_KEEP_ROOT (MAX_STACK_DEPTH - PY_KEEP_LEAF - 1)
static size_t keep_slot(size_t e)
{
	return e <= PY_KEEP_LEAF ? e :
	       PY_KEEP_LEAF + 1 + (e - PY_KEEP_LEAF - 1) % PY_KEEP_ROOT;
}

static void reverse_frames(struct py_frame *f, size_t n)
{
	for (size_t i = 0; i + 1 < n - i; i++) {
		struct py_frame t = f[i];
		f[i] = f[n - 1 - i];
		f[n - 1 - i] = t;
	}
}

/* A stack of more than MAX_STACK_DEPTH frames: the ring of root frames is
 * put in order (rotated in place) and the slot between the halves names
 * what was left out. */
static void close_deep(py_proc *py, struct py_frame *f, size_t emitted)
{
	struct py_frame *ring = f + PY_KEEP_LEAF + 1;
	size_t start = keep_slot(emitted - PY_KEEP_ROOT) - (PY_KEEP_LEAF + 1);
	if (start) {
		reverse_frames(ring, start);
		reverse_frames(ring + start, PY_KEEP_ROOT - start);
		reverse_frames(ring, PY_KEEP_ROOT);
	}
	size_t omitted = emitted - (MAX_STACK_DEPTH - 1);
	if (omitted != py->omitted_n || !py->omitted_name) {
		/* Formatted once per depth seen, not per sample. */
		char buf[64];
		snprintf(buf, sizeof buf, "[%zu frames omitted]", omitted);
		py->omitted_name = intern(py->strings, buf, strlen(buf));
		py->omitted_n = omitted;
	}
	f[PY_KEEP_LEAF] = (struct py_frame){ .func = py->omitted_name };
}

/* Whether callee, a frame on the thread's data stack, sits where the frame
 * of its caller (just resolved: py->code_frame_bytes) ends.  A call pushes
 * its frame at the stack's top, which is the end of the frame that made it
 * (Include/internal/pycore_frame.h _PyFrame_PushUnchecked; a call from C,
 * as exec, too: the caller is the top frame).  A copy of a frame popped
 * during the read does not: its caller's place holds another function's
 * frame, of another size (a stack that never was).  A process where the
 * sizes do not hold (a layout inferred for an unknown version) soon stops
 * being checked. */
static bool next_to_caller(py_proc *py, uint64_t callee, uint64_t caller)
{
	uint32_t fb = py->code_frame_bytes;
	if (!fb || (py->adjacent_bad > 32 &&
		    py->adjacent_bad > py->adjacent_ok))
		return true;
	if (callee - caller == fb) {
		py->adjacent_ok++;
		return true;
	}
	py->adjacent_bad++;
	return false;
}

/* The code object a frame's copy runs (3.14+ tag the reference). */
static uint64_t frame_code(const struct py_layout *L, const uint8_t *fp)
{
	uint64_t code = u64at(fp, L->fr_code);
	return L->tagged_code ? code & ~(uint64_t)3 : code;
}

/* Whether a frame is the leaf's, popped while the read copied it: 3.14+
 * clear a frame's code as they pop it (Python/ceval.c clear_thread_frame),
 * and leave its link to its caller, which is then the thread's leaf.  A
 * fast recursion lost one sample in six to such a frame. */
static bool popped_leaf(const struct py_layout *L, uint64_t code,
			size_t emitted)
{
	return !code && !emitted && L->frames != PY_FRAMES_OBJECT;
}

/* Adds the regions that name a code object to the next read: its header,
 * its name and its file.  The caller leaves room for three slots. */
static void add_code_regions(py_proc *py, const struct py_code *c)
{
	uint64_t name = c->qualname_obj ? c->qualname_obj : c->name_obj;
	const struct py_slot want[3] = {
		{ c->addr, py->L.co_size, false, false, NULL, 0 },
		{ name, c->name_size, false, false, NULL, 0 },
		{ c->file_obj, c->file_size, false, false, NULL, 0 },
	};
	for (size_t i = 0; i < 3; i++)
		if (want[i].addr && want[i].len)
			py->slots[py->nslots++] = want[i];
}

/* Up to 3.10 a frame is an object of its own, and what names it must be
 * copied by the read that copied it (walk_once): a frame that is not in
 * this sample's copies yet is read with the header and strings of the
 * code object guessed to be its (its callee's: a recursion; the last
 * sample's leaf's), after it in one vectored read.  A guess that is wrong
 * costs nothing more than the read of the frame alone; the frame's own
 * code object is then read later, and the walk read again (walk_thread). */
static void read_frame_with(py_proc *py, uint64_t frame,
			    const struct py_code *c)
{
	size_t from = py->nslots;
	if (!c || !c->addr || from + 4 > PY_SLOTS_CAP)
		return;
	py->slots[py->nslots++] = (struct py_slot){ frame, py->L.fr_size,
						    false, false, NULL, 0 };
	add_code_regions(py, c);
	int rc = read_slots(py, from);
	if (rc == LP_ENOPROC || rc == LP_EPERM)
		py->gone = rc;
}

/* One walk of a thread's frames, leaf first, into py->frames from first.
 * The three exits: the depth bound, a cycle (Brent), the base frame; only
 * the last one is a whole stack. */
static enum py_walk_fail walk_once(py_proc *py, const uint8_t *tp,
				   struct py_thread *th, size_t first)
{
	const struct py_layout *L = &py->L;
	uint64_t frame = u64at(tp, L->ts_frame);
	size_t emitted = 0;
	th->nframes = 0;
	th->truncated = false;
	/* The thread state and the frames near the leaf must come from one
	 * read: a frame read later than its caller (it moved since the last
	 * sample) can belong to a call made after the caller's copy was
	 * taken, and the chain still looks whole.  b0 is the read that
	 * copied the thread state (tp is a slot's copy, see full_walk). */
	rget(py, th->tstate, L->ts_size, false);
	uint32_t b0 = py->last_batch;
	bool mixed = false;
	bool objects = L->frames == PY_FRAMES_OBJECT;
	if (L->frames == PY_FRAMES_CFRAME && frame) {
		/* 3.11/3.12: the _PyCFrame lives on the C stack of the eval
		 * loop (Include/cpython/pystate.h). */
		const uint8_t *cf = rget(py, frame + L->cframe_current, 8, true);
		if (!cf)
			return PY_WALK_UNREADABLE;
		mixed |= py->last_batch != b0;
		frame = u64at(cf, 0);
	}
	if (!frame)
		return PY_WALK_OK;	/* no Python code running on this thread */
	/* the part of the current chunk copied: its frames sit next to
	 * their callers' */
	uint64_t chunk_lo = 0, chunk_hi = 0;
	if (L->frames != PY_FRAMES_OBJECT) {
		/* Frames of 3.11+ live in the thread's data-stack chunks
		 * (Python/pystate.c push_chunk): copy the current chunk up to
		 * the page end past the leaf frame, one region for every
		 * frame in it. */
		uint64_t chunk = u64at(tp, L->ts_chunk);
		if (chunk && frame > chunk &&
		    frame - chunk < PY_MAX_CHUNK_READ - 4096) {
			uint64_t end = (frame + L->fr_size + 4095) & ~4095ull;
			if (rget(py, chunk, end - chunk, true)) {
				mixed |= py->last_batch != b0;
				chunk_lo = chunk;
				chunk_hi = end;
			}
		}
	}
	if (!frame_slot(py, first + MAX_STACK_DEPTH))
		return PY_WALK_UNREADABLE;
	struct py_frame *out = py->frames + first;
	uint64_t tortoise = frame, power = 1, lam = 0;
	uint64_t callee = 0;	/* the last Python frame, in the chunk */
	enum py_walk_fail fail = PY_WALK_TOO_DEEP;
	const struct py_code *named = py->leaf_code;	/* the last frame's */
	bool late = false;	/* a frame named by a later read's copies */
	for (size_t depth = 0; depth < MAX_PY_WALK_DEPTH; depth++) {
		const uint8_t *fp = NULL;
		bool near = objects && depth < PY_WALK_ONE_READ;
		if (near && !(fp = lookup(py, frame, L->fr_size, true))) {
			/* the code object last seen running there, else
			 * the callee's */
			const struct py_frame_code *m =
				&py->frame_codes[(frame >> 4) % PY_FRAME_CODES];
			read_frame_with(py, frame, m->frame == frame &&
					m->code->addr ? m->code : named);
		}
		if (!fp)
			fp = rget(py, frame, L->fr_size, true);
		if (!fp) {
			fail = PY_WALK_UNREADABLE;
			break;
		}
		uint32_t fbatch = py->last_batch;
		if (depth < PY_WALK_ONE_READ)
			mixed |= fbatch != b0;
		uint64_t back = u64at(fp, L->fr_back);
		uint64_t code = frame_code(L, fp);
		bool shim = false;
		if (L->frames == PY_FRAMES_OBJECT) {
			/* A frame on a thread's stack is referenced by the
			 * call that runs it, and a caller by its callee's
			 * f_back too (Objects/frameobject.c): a count of 0 is
			 * a frame freed under the read (<= 3.10 keep freed
			 * frames on a free list linked by f_back, which then
			 * ends early), a caller's count of 1 a frame object
			 * reused for another call since its callee was copied
			 * (a stack that never was). */
			int64_t refs = GET_MEMBER(int64_t, fp, 0);
			if (refs <= 0 || (depth > 0 && refs < 2)) {
				fail = PY_WALK_TORN;
				break;
			}
		} else {
			shim = (int)fp[L->fr_owner] >= L->owner_first_skip;
		}
		if (shim) {
			/* A C-stack shim (3.12+): the Python frame above it
			 * is the first of one eval-loop call.  Only the first
			 * shim below a frame is its call's: 3.15 ends every
			 * chain with the thread state's own base frame, owned
			 * by the interpreter too but not on the C stack. */
			if (emitted && !out[keep_slot(emitted - 1)].entry) {
				struct py_frame *f = &out[keep_slot(emitted - 1)];
				f->entry = true;
				f->cstack = frame;
			}
		} else if (popped_leaf(L, code, emitted)) {
			/* its caller is the leaf */
		} else {
			struct py_frame *f = &out[keep_slot(emitted)];
			int rc = resolve(py, code, fp, near ? fbatch : 0, f);
			if (rc != LP_OK) {
				/* Not a code object where the frame says: the
				 * frame was reused under the read. */
				fail = rc == LP_EFORMAT ? PY_WALK_TORN :
							  PY_WALK_UNREADABLE;
				break;
			}
			if (objects) {
				/* Named by copies of a later read than the
				 * frame's: its code object may be one made
				 * where the frame's was, freed since (a
				 * frame of <churn-b>'s module named after
				 * <churn-a>'s function, test_truth_stacks
				 * CodeChurn on 3.8). */
				named = py->code_entry;
				if (!emitted)
					py->leaf_code = named;
				py->frame_codes[(frame >> 4) %
						PY_FRAME_CODES] =
					(struct py_frame_code){ frame, named };
				/* the walk goes on: its regions are what a
				 * re-read needs */
				late |= near && (py->code_batch != fbatch ||
						 py->code_oldest != fbatch);
			}
			/* The header that named it too: a code object read
			 * later than its frame may be one made since. */
			if (depth < PY_WALK_ONE_READ)
				mixed |= py->code_batch != b0;
			bool in_chunk = frame > chunk_lo && frame < chunk_hi;
			if (callee && in_chunk &&
			    !next_to_caller(py, callee, frame)) {
				fail = PY_WALK_TORN;
				break;
			}
			callee = in_chunk ? frame : 0;
			f->addr = frame;
			if (L->entry == PY_ENTRY_ALL)
				f->entry = true;
			else if (L->entry == PY_ENTRY_FLAG)
				f->entry = fp[L->fr_is_entry] != 0;
			emitted++;
		}
		if (back == 0) {
			/* The base frame: 3.12+ end at a shim (the first
			 * eval-loop call's, or 3.14's tstate->base_frame),
			 * 3.11 at the first call's entry frame
			 * (Include/internal/pycore_frame.h).  A Python frame
			 * without a caller there is one popped under the
			 * read. */
			bool base = L->entry == PY_ENTRY_SHIM ? shim :
				    L->entry == PY_ENTRY_FLAG ?
					    emitted &&
					    out[keep_slot(emitted - 1)].entry :
					    emitted > 0;
			if (!base) {
				fail = PY_WALK_TORN;
				break;
			}
			if (L->entry == PY_ENTRY_SHIM && emitted)
				out[keep_slot(emitted - 1)].entry = true;
			fail = PY_WALK_OK;
			break;
		}
		if (back == tortoise) {
			fail = PY_WALK_TORN;	/* a cycle: frames reused */
			break;
		}
		if (++lam == power) {
			tortoise = back;
			power *= 2;
			lam = 0;
		}
		frame = back;
	}
	/* Up to 3.10 every frame is an object of its own, reached by a read
	 * of its own: "one read" cannot hold for a stack that moved, and a
	 * fast recursion would fail almost every sample.  There a frame freed
	 * under the read shows as a count of 0 or a chain that does not end
	 * at NULL (above), which is what makes such a stack torn; and a frame
	 * near the leaf named by another read's copies than its own (late). */
	if (fail == PY_WALK_OK && ((mixed && !objects) || late))
		fail = PY_WALK_TORN;
	if (emitted > MAX_STACK_DEPTH && fail == PY_WALK_OK) {
		/* Whole, root and leaf kept: not truncated. */
		close_deep(py, out, emitted);
		emitted = MAX_STACK_DEPTH;
	} else if (emitted > MAX_STACK_DEPTH) {
		emitted = PY_KEEP_LEAF + 1;	/* the part still in order */
	}
	th->nframes = emitted;
	th->truncated = fail != PY_WALK_OK;
	return fail;
}

/* Up to 3.10: the header and strings of the code objects that named a
 * torn walk's frames, to its re-read (walk_thread): one checked earlier in
 * the sample was not kept again by the walk. */
static void add_code_slots(py_proc *py, const struct py_frame *f, size_t n)
{
	/* each code object once: a deep recursion runs one */
	uint64_t added[64];
	size_t nadded = 0;
	for (size_t i = 0; i < n && i < MAX_STACK_DEPTH; i++) {
		bool found, again = false;
		for (size_t k = 0; k < nadded && !again; k++)
			again = added[k] == f[i].code_addr;
		if (again || nadded == sizeof added / sizeof *added)
			continue;
		struct py_code *c = code_slot(py, f[i].code_addr, &found);
		if (!found || py->nslots + 3 > PY_SLOTS_CAP)
			continue;
		added[nadded++] = c->addr;
		add_code_regions(py, c);
	}
}

/* Walks one thread's frames, appending to py->frames from *used.  A walk
 * that does not reach the base frame is torn (the thread ran on while it
 * was read, or freed a frame it had just read): the thread state and every
 * region that walk touched are read again at once, in one vectored read,
 * and walked again from those copies alone, MAX_PY_WALK_RETRIES times at
 * most (MAX_PY_OBJ_WALK_RETRIES up to 3.10).  CPython's own reader
 * (Modules/_remote_debugging) checks the same end. */
static void walk_thread(py_proc *py, const uint8_t *tp, struct py_thread *th,
			size_t *used)
{
	const struct py_layout *L = &py->L;
	size_t nnext0 = py->nnext, nfull0 = py->nfull, nslots0 = py->nslots;
	enum py_walk_fail fail = walk_once(py, tp, th, *used);
	unsigned retries = L->frames == PY_FRAMES_OBJECT ?
				   MAX_PY_OBJ_WALK_RETRIES : MAX_PY_WALK_RETRIES;
	for (unsigned k = 0; fail != PY_WALK_OK && k < retries &&
			     !py->gone; k++) {
		py->walk_retries++;
		/* The regions the failed walk kept, as this sample's fresh
		 * copies, with the thread state first.  They take the place
		 * of the single reads that walk added (read again here), so
		 * that the slots do not run out however often it retries. */
		py->nslots = nslots0;
		py->cursor = 0;
		size_t from = py->nslots;
		const struct py_slot *kept = py->keep == PY_KEEP_FULL_ONLY ?
			py->full_slots + nfull0 : py->next_slots + nnext0;
		size_t nkept = py->keep == PY_KEEP_FULL_ONLY ?
			py->nfull - nfull0 : py->nnext - nnext0;
		if (py->nslots < PY_SLOTS_CAP)
			py->slots[py->nslots++] = (struct py_slot){
				th->tstate, L->ts_size, false, false, NULL, 0 };
		for (size_t i = 0; i < nkept &&
				   py->nslots < PY_SLOTS_CAP; i++)
			py->slots[py->nslots++] = kept[i];
		if (L->frames == PY_FRAMES_OBJECT)
			add_code_slots(py, py->frames + *used, th->nframes);
		py->nnext = nnext0;
		py->nfull = nfull0;
		int rc = read_slots(py, from);
		if (rc != LP_OK) {
			py->gone = rc;
			break;
		}
		py->slot_floor = from;
		const uint8_t *fresh = rget(py, th->tstate, L->ts_size, false);
		if (!fresh) {
			py->slot_floor = 0;
			break;
		}
		fail = walk_once(py, fresh, th, *used);
		py->slot_floor = 0;
	}
	th->fail = (uint8_t)fail;
	if (fail != PY_WALK_OK)
		py->walk_failed++;
	*used += th->nframes;
}

/* glibc's struct pthread (nptl/descr.h) holds the kernel tid at a fixed
 * offset (0x2d0 on x86-64 glibc 2.36).  Rather than trust a constant, find
 * it once: the offset at which every thread's struct holds one of the
 * process's tids, all different. */
#define PTHREAD_SCAN 2048
static void find_tid_offset(py_proc *py, const uint64_t *pth, size_t n)
{
	size_t nt = target_nthreads(py->target);
	if (!nt || !n)
		return;
	uint8_t *bufs = arena_alloc(py, PTHREAD_SCAN * (n < 8 ? n : 8));
	if (!bufs)
		return;
	size_t m = 0;
	for (size_t i = 0; i < n && m < 8; i++)
		if (pth[i] && mem_read(py->reader, pth[i],
				       bufs + m * PTHREAD_SCAN,
				       PTHREAD_SCAN) == LP_OK)
			m++;
	if (!m)
		return;
	int best = -1;
	for (int off = 0; off + 4 <= PTHREAD_SCAN && best < 0; off += 4) {
		bool all = true;
		for (size_t i = 0; i < m && all; i++) {
			int32_t v = GET_MEMBER(int32_t, bufs + i * PTHREAD_SCAN,
					       off);
			bool hit = false;
			for (size_t k = 0; k < nt && !hit; k++) {
				struct target_thread *tt =
					target_thread_at(py->target, k);
				hit = tt && v > 0 && tt->nstid == v;
			}
			for (size_t j = 0; j < i && hit; j++)
				hit = GET_MEMBER(int32_t, bufs + j * PTHREAD_SCAN,
						 off) != v;
			all = hit;
		}
		if (all)
			best = off;
	}
	py->pthread_tid_off = best;
}

/* OS thread ids for versions without native_thread_id (<= 3.10): the tid
 * word of every thread's struct pthread, kept in the prefetch read. */
static void resolve_tids(py_proc *py, size_t n)
{
	if (!py->target || !n)
		return;
	if (py->pthread_tid_off < 0 && py->nsample >= py->tid_retry &&
	    py->tid_tries < 8) {
		/* A failed search (threads not listed yet) is retried, less
		 * and less often, then given up: tids stay 0. */
		py->tid_retry = py->nsample + (64ull << py->tid_tries++);
		find_tid_offset(py, py->pthread_ids, n);
	}
	if (py->pthread_tid_off < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!py->pthread_ids[i])
			continue;
		const uint8_t *p = rget(py, py->pthread_ids[i] +
					(uint64_t)py->pthread_tid_off, 4, true);
		int32_t tid = p ? i32at(p, 0) : 0;
		if (tid > 0)
			py->threads[i].tid = tid;
	}
}

static struct py_thread *thread_slot(py_proc *py, size_t i)
{
	if (i >= py->threads_cap) {
		size_t cap = py->threads_cap ? py->threads_cap * 2 : 16;
		struct py_thread *t = realloc(py->threads, cap * sizeof *t);
		uint64_t *p = realloc(py->pthread_ids, cap * sizeof *p);
		if (t)
			py->threads = t;
		if (p)
			py->pthread_ids = p;
		if (!t || !p)
			return NULL;
		py->threads_cap = cap;
	}
	return &py->threads[i];
}

/* The GIL's last_holder, locked and switch_number follow each other in
 * struct _gil_runtime_state from 3.7 to 3.14 (Include/internal/
 * pycore_gil.h): one copy of them from the holder word.  switch_number
 * counts the times a thread other than last_holder took the GIL. */
struct gil_view {
	uint64_t holder, sw;
	bool locked, have_sw;
};

static bool read_gil(py_proc *py, uint64_t holder_addr, uint32_t locked_rel,
		     struct gil_view *g)
{
	*g = (struct gil_view){ 0 };
	bool consecutive = locked_rel == 8;
	const uint8_t *p = rget(py, holder_addr, consecutive ? 24 : locked_rel + 4,
				true);
	if (!p)
		return false;
	g->holder = u64at(p, 0);
	g->locked = i32at(p, locked_rel) != 0;
	if (consecutive) {
		g->sw = u64at(p, 16);
		g->have_sw = true;
	}
	return true;
}

/* Remote address of the holder word of the GIL of the interpreter at
 * interp (3.12+) or of the runtime (3.7-3.11); 0 when there is none. */
static uint64_t gil_holder_addr(py_proc *py, uint64_t interp, uint32_t *rel)
{
	const struct py_layout *L = &py->L;
	if (L->gil == PY_GIL_RUNTIME && py->runtime) {
		*rel = L->rt_gil_locked - L->rt_gil_holder;
		return L->rt_gil_locked > L->rt_gil_holder ?
			       py->runtime + L->rt_gil_holder : 0;
	}
	if (L->gil == PY_GIL_INTERP_PTR && interp) {
		const uint8_t *gp = rget(py, interp + L->is_gil_ptr, 8, true);
		uint64_t gil = gp ? u64at(gp, 0) : 0;
		*rel = L->gil_locked - L->gil_holder;
		return gil && L->gil_locked > L->gil_holder ?
			       gil + L->gil_holder : 0;
	}
	return 0;
}

/* 3.14+: this interpreter's count of code objects freed, for resolve. */
static void read_code_gen(py_proc *py, uint64_t interp)
{
	py->code_gen_ok = false;
	if (!py->L.is_code_gen || !interp)
		return;
	const uint8_t *p = rget(py, interp + py->L.is_code_gen, 8, true);
	if (!p)
		return;
	py->code_gen = u64at(p, 0);
	py->code_gen_interp = interp;
	py->code_gen_ok = true;
}

/* Every interpreter, every thread state, every frame. */
static int full_walk(py_proc *py, size_t *nth_out, struct gil_view *gv,
		     uint64_t *gil_addr)
{
	const struct py_layout *L = &py->L;
	size_t nth = 0, used = 0;
	struct gil_view g = { 0 };
	*gil_addr = 0;
	py->nfull = 0;
	py->keep = PY_KEEP_BOTH;
	if (L->gil == PY_GIL_TSTATE_CURRENT && py->tstate_current_addr) {
		/* 2.7/3.6: PyEval_SaveThread swaps the current thread state
		 * to NULL before releasing the GIL (Python/ceval.c). */
		const uint8_t *p = rget(py, py->tstate_current_addr, 8, true);
		if (p) {
			g.holder = u64at(p, 0);
			g.locked = g.holder != 0;
		}
	} else if (L->gil == PY_GIL_RUNTIME) {
		uint32_t rel = 0;
		uint64_t a = gil_holder_addr(py, 0, &rel);
		if (a && read_gil(py, a, rel, &g))
			*gil_addr = a;
	}

	const uint8_t *hp = rget(py, py->interp_head_addr, 8, true);
	uint64_t interp = hp ? u64at(hp, 0) : 0;
	uint64_t seen_interp = interp;
	/* The interpreter fields we read are far apart from 3.13 (next and
	 * threads.head sit ~7 KiB in): copy their span, and the GIL pointer
	 * on its own. */
	uint32_t lo = L->is_next < L->is_tstate_head ? L->is_next :
						       L->is_tstate_head;
	uint32_t hi = (L->is_next > L->is_tstate_head ? L->is_next :
							L->is_tstate_head) + 8;
	size_t ni = 0;
	for (; interp && ni < MAX_INTERPRETERS; ni++) {
		const uint8_t *ip = rget(py, interp + lo, hi - lo, true);
		if (!ip)
			break;
		read_code_gen(py, interp);
		if (L->gil == PY_GIL_INTERP_PTR) {
			uint32_t rel = 0;
			uint64_t a = gil_holder_addr(py, interp, &rel);
			g = (struct gil_view){ 0 };
			*gil_addr = a && read_gil(py, a, rel, &g) ? a : 0;
		}
		uint64_t ts = u64at(ip, L->is_tstate_head - lo);
		uint64_t tortoise = ts, power = 1, lam = 0;
		for (size_t nt = 0; ts && nt < MAX_THREADS; nt++) {
			const uint8_t *tp = rget(py, ts, L->ts_size, true);
			if (!tp)
				break;
			struct py_thread *th = thread_slot(py, nth);
			if (!th)
				break;
			th->tstate = ts;
			th->tid = L->ts_native_tid ?
				(pid_t)u64at(tp, L->ts_native_tid) : 0;
			py->pthread_ids[nth] = L->ts_native_tid ? 0 :
				u64at(tp, L->ts_thread_id);
			th->gil = g.locked && g.holder == ts;
			/* Unless the GIL changes hands between samples, the
			 * next one reads only the holder's thread again. */
			py->keep = py->contended || !g.have_sw ||
						   ts == g.holder ?
					   PY_KEEP_BOTH : PY_KEEP_FULL_ONLY;
			walk_thread(py, tp, th, &used);
			py->keep = PY_KEEP_BOTH;
			nth++;
			uint64_t next = u64at(tp, L->ts_next);
			if (next == tortoise)
				break;
			if (++lam == power) {
				tortoise = next;
				power *= 2;
				lam = 0;
			}
			ts = next;
		}
		interp = u64at(ip, L->is_next - lo);
		if (interp == seen_interp)
			break;
	}
	if (py->gone)
		return py->gone;
	if (!L->ts_native_tid)
		resolve_tids(py, nth);
	/* Light samples need one GIL that every thread lives under. */
	if (ni != 1 || !g.have_sw)
		*gil_addr = 0;
	*gv = g;
	*nth_out = nth;
	return LP_OK;
}

/* A Python thread's frames change only while it holds the GIL.  When the
 * GIL's switch count has not moved since the last sample, no thread but
 * its last holder took it in between: that one thread is walked again and
 * the others keep the frames they had, so a sample of a process with many
 * idle threads reads one thread state and one chunk, not all of them.  A
 * full walk runs at least every LIGHT_MAX_AGE_NS (threads that appeared
 * without running yet, a holder that exited) and whenever anything does
 * not match.  Not for 2.7/3.6 (no switch count within reach) nor for
 * several interpreters (one GIL each). */
#define LIGHT_MAX_AGE_NS 100000000ull

static uint64_t coarse_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);	/* vDSO, no syscall */
}

static bool light_walk(py_proc *py, uint64_t now, size_t *nth_out)
{
	if (!py->prev_gil_addr || !py->prev_n ||
	    now - py->full_ns > LIGHT_MAX_AGE_NS)
		return false;
	const struct py_layout *L = &py->L;
	uint32_t rel = L->gil == PY_GIL_RUNTIME ?
			       L->rt_gil_locked - L->rt_gil_holder :
			       L->gil_locked - L->gil_holder;
	struct gil_view g;
	if (!read_gil(py, py->prev_gil_addr, rel, &g) || !g.have_sw)
		return false;
	py->contended = g.sw != py->prev_switch || g.holder != py->prev_holder;
	if (py->contended)
		return false;
	/* One interpreter (light samples need one GIL): the last full
	 * walk's. */
	read_code_gen(py, py->code_gen_interp);
	size_t used = 0, n = py->prev_n;
	for (size_t i = 0; i < n; i++) {
		struct py_thread *th = thread_slot(py, i);
		if (!th)
			return false;
		const struct py_thread *pt = &py->prev_threads[i];
		*th = *pt;
		th->gil = g.locked && g.holder == pt->tstate;
		if (pt->tstate == g.holder) {
			const uint8_t *tp = rget(py, pt->tstate, L->ts_size, true);
			if (!tp)
				return false;
			walk_thread(py, tp, th, &used);
			continue;
		}
		size_t first = used;
		for (size_t k = 0; k < pt->nframes; k++) {
			struct py_frame *f = frame_slot(py, used);
			if (!f)
				return false;
			*f = py->prev_frames[(size_t)(pt->frames - py->prev_frames) + k];
			used++;
		}
		th->nframes = used - first;
	}
	if (py->gone)
		return false;
	*nth_out = n;
	return true;
}

/* Keeps this sample's threads and frames for the next light sample. */
static void keep_picture(py_proc *py, size_t nth, uint64_t gil_addr,
			 const struct gil_view *g)
{
	size_t nf = 0;
	for (size_t i = 0; i < nth; i++)
		nf += py->threads[i].nframes;
	py->prev_gil_addr = 0;
	if (nth > py->prev_cap) {
		struct py_thread *t = realloc(py->prev_threads, nth * sizeof *t);
		if (!t)
			return;
		py->prev_threads = t;
		py->prev_cap = nth;
	}
	if (nf > py->prev_frames_cap) {
		struct py_frame *f = realloc(py->prev_frames, nf * sizeof *f);
		if (!f)
			return;
		py->prev_frames = f;
		py->prev_frames_cap = nf;
	}
	if (nf)
		memcpy(py->prev_frames, py->frames, nf * sizeof *py->frames);
	for (size_t i = 0, off = 0; i < nth; i++) {
		py->prev_threads[i] = py->threads[i];
		/* NULL + 0 is undefined: no frames at all, no array */
		py->prev_threads[i].frames = py->prev_frames ?
						     py->prev_frames + off : NULL;
		off += py->threads[i].nframes;
	}
	py->prev_n = nth;
	py->prev_frames_n = nf;
	py->prev_gil_addr = gil_addr;
	py->prev_switch = g->sw;
	py->prev_holder = g->holder;
}

int py_proc_sample(py_proc *py, struct py_thread **threads, size_t *n)
{
	uint64_t calls0 = py->reader->calls;
	size_t nth = 0;
	py->nsample++;
	py->gone = 0;
	py->code_gen_ok = false;
	*threads = NULL;
	*n = 0;
	uint64_t now = coarse_ns();
	bool with_full = !py->prev_gil_addr || now - py->full_ns > LIGHT_MAX_AGE_NS;
	int rc = prefetch(py, with_full);
	if (rc != LP_OK)
		return rc;
	py->keep = PY_KEEP_NEXT;
	if (light_walk(py, now, &nth)) {
		py->light_samples++;
	} else {
		if (py->gone)
			return py->gone;
		/* Regions the light attempt kept are read again below. */
		py->nnext = 0;
		for (size_t i = 0; i < py->nslots; i++)
			py->slots[i].used = false;
		if (!with_full && py->contended) {
			/* The GIL changed hands: the other threads moved
			 * too; read them in one more call, not one each. */
			size_t from = py->nslots;
			uint32_t first = py->batch;
			add_full_slots(py);
			rc = read_slots(py, from);
			if (rc != LP_OK)
				return rc;
			/* Read right after the prefetch, before any walk:
			 * one read for the walks' consistency check. */
			for (size_t i = from; i < py->nslots; i++)
				py->slots[i].batch = first;
		}
		struct gil_view g;
		uint64_t gil_addr;
		rc = full_walk(py, &nth, &g, &gil_addr);
		py->keep = PY_KEEP_NEXT;
		if (rc != LP_OK) {
			py->prev_gil_addr = 0;
			return rc;
		}
		py->full_ns = now;
		py->prev_gil_addr = gil_addr;	/* for keep_picture below */
		py->prev_switch = g.sw;
		py->prev_holder = g.holder;
	}
	/* Frame pointers are set last: the frame array may have moved. */
	for (size_t i = 0, off = 0; i < nth; i++) {
		py->threads[i].frames = py->frames ? py->frames + off : NULL;
		off += py->threads[i].nframes;
	}
	struct gil_view keep = { .holder = py->prev_holder,
				 .sw = py->prev_switch };
	keep_picture(py, nth, py->prev_gil_addr, &keep);
	*threads = py->threads;
	*n = nth;
	py->last_reads = py->reader->calls - calls0;
	return LP_OK;
}

int py_proc_sample_gc(py_proc *py, bool *collecting)
{
	*collecting = false;
	if (!py->L.is_gc_collecting || !py->interp_head_addr)
		return LP_EUNSUPPORTED;
	const uint8_t *hp = rget(py, py->interp_head_addr, 8, true);
	uint64_t interp = hp ? u64at(hp, 0) : 0;
	if (!interp || interp + py->L.is_gc_collecting < interp)
		return py->gone ? py->gone : LP_EFAULT;
	/* an int (Include/internal/pycore_gc.h) */
	const uint8_t *p = rget(py, interp + py->L.is_gc_collecting, 4, true);
	if (!p)
		return py->gone ? py->gone : LP_EFAULT;
	*collecting = i32at(p, 0) != 0;
	return LP_OK;
}

int py_proc_kept_read(py_proc *py, uint64_t addr, void *out, size_t len)
{
	const uint8_t *p = rget(py, addr, len, true);
	if (!p)
		return py->gone ? py->gone : LP_EFAULT;
	memcpy(out, p, len);
	return LP_OK;
}

/* For the asyncio reader (asyncio.c): a str object's text, and a frame
 * resolved from a local copy of its header (a coroutine's own frame). */
const char *py_proc_str(py_proc *py, uint64_t obj)
{
	return read_string(py, obj);
}

const char *py_proc_intern(py_proc *py, const char *s)
{
	return intern(py->strings, s, strlen(s));
}

int py_proc_frame_from_copy(py_proc *py, const uint8_t *fp,
			    struct py_frame *out)
{
	return resolve(py, frame_code(&py->L, fp), fp, 0, out);
}

uint64_t py_proc_last_reads(const py_proc *py)
{
	return py->last_reads;
}

const char *py_proc_version(const py_proc *py)
{
	return py->version;
}

int py_proc_init(py_proc *py, mem_reader *reader, const struct py_layout *L)
{
	memset(py, 0, sizeof *py);
	py->reader = reader;
	py->L = *L;
	py->pthread_tid_off = -1;
	py->slots = calloc(PY_SLOTS_CAP, sizeof *py->slots);
	py->next_slots = calloc(PY_SLOTS_CAP, sizeof *py->next_slots);
	py->full_slots = calloc(PY_MAX_PREFETCH, sizeof *py->full_slots);
	py->iov = calloc(MAX_IOV, sizeof *py->iov);
	py->order = calloc(PY_SLOTS_CAP, sizeof *py->order);
	py->sorted = calloc(MAX_IOV, sizeof *py->sorted);
	py->sorted_addr = calloc(MAX_IOV, sizeof *py->sorted_addr);
	py->sorted_len = calloc(MAX_IOV, sizeof *py->sorted_len);
	/* hash-indexed, a few entries used: pages.h */
	py->codes = pages_zalloc(PY_CODE_CACHE_SIZE * sizeof *py->codes);
	py->strings = calloc(1, sizeof *py->strings);
	if (!py->slots || !py->next_slots || !py->full_slots || !py->iov || !py->codes ||
	    !py->strings || !py->order || !py->sorted || !py->sorted_addr ||
	    !py->sorted_len) {
		py_proc_fini(py);
		return LP_ENOMEM;
	}
	return LP_OK;
}

void py_proc_fini(py_proc *py)
{
	for (size_t w = 0; py->codes && w < PY_CODE_CACHE_SIZE / 64; w++)
		for (size_t k = 0; k < 64 && py->code_tables[w] >> k; k++)
			if ((py->code_tables[w] >> k) & 1)
				free(py->codes[w * 64 + k].table);
	pages_free(py->codes, PY_CODE_CACHE_SIZE * sizeof *py->codes);
	strpool_free(py->strings);
	arena_free(py);
	free(py->slots);
	free(py->next_slots);
	free(py->full_slots);
	free(py->iov);
	free(py->order);
	free(py->sorted);
	free(py->sorted_addr);
	free(py->sorted_len);
	free(py->threads);
	free(py->pthread_ids);
	pages_free(py->frames, py->frames_cap * sizeof *py->frames);
	free(py->prev_threads);
	free(py->prev_frames);
	memset(py, 0, sizeof *py);
}

/* For the asyncio reader: a compact str decoded from a local copy of its
 * first len bytes (header and data, read by the caller in the same batch
 * as what it checks them against), never through the sample's prefetch
 * (a copy read before the task that names it).  NULL when the copy is
 * too short or not a compact str (3.x only). */
const char *py_proc_str_from_copy(py_proc *py, const uint8_t *h, size_t len)
{
	const struct py_layout *L = &py->L;
	char out[MAX_STRING_LEN * 4 + 1];
	size_t n = 0;
	if (L->py2_strings || len < L->uni_compact_size)
		return NULL;
	uint32_t state = GET_MEMBER(uint32_t, h, L->uni_state);
	int64_t slen = GET_MEMBER(int64_t, h, L->uni_len);
	unsigned kind = (state >> L->uni_kind_shift) & 7;
	bool compact = (state >> L->uni_compact_bit) & 1;
	bool ascii = (state >> L->uni_ascii_bit) & 1;
	if (!compact || slen < 0 || (kind != 1 && kind != 2 && kind != 4) ||
	    (ascii && kind != 1))
		return NULL;
	size_t off = ascii ? L->uni_ascii_size : L->uni_compact_size;
	if ((uint64_t)slen > (len - off) / kind)
		return NULL;	/* longer than the copy: not a name */
	for (int64_t i = 0; i < slen; i++) {
		uint32_t c = kind == 1 ? h[off + (size_t)i] :
			     kind == 2 ? GET_MEMBER(uint16_t, h, off + 2 * (size_t)i) :
					 GET_MEMBER(uint32_t, h, off + 4 * (size_t)i);
		if (c == 0)
			return NULL;
		n += utf8_put(out + n, c);
	}
	return intern(py->strings, out, n);
}
