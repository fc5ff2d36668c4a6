/* pymalloc's arenas and pools, for the heap census: where the arenas
 * vector is (the layout, obmalloc.c's symbols, or found by the shape of
 * the usedpools array where nothing names it), and the small objects the
 * GC does not track, counted from every used block of every pool.  Every
 * pool walked must name its arena and end where its size class says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"
#include "heap_int.h"

/* One entry of the arenas vector that has an arena. */
struct arena_ent {
	uint64_t base, carved;
	uint32_t idx;
};

static int by_base(const void *a, const void *b)
{
	const struct arena_ent *x = a, *y = b;
	if (x->base != y->base)
		return x->base < y->base ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The small objects the GC does not track (str, bytes, int, float...):
 * every used block of every pool of pymalloc's arenas (the vector's
 * pointer at arenas_at, its uint length at maxarenas_at), read an
 * arena's carved pools at a time.  A pool's free blocks (its freeblock
 * list, followed at most once per block) and the never-used ones (from
 * nextoffset) are skipped; a used block counts when it holds a plausible
 * reference count and a type that checks as a type without
 * Py_TPFLAGS_HAVE_GC.  Blocks that are not objects (buffers) are left. */
int heap_walk_arenas(struct census *ce, uint64_t arenas_at,
		       uint64_t maxarenas_at, struct py_heap_census *out)
{
	const struct py_layout *L = ce->L;
	uint64_t arenas;
	uint32_t maxarenas;
	if (mem_read_u64(ce->c.r, arenas_at, &arenas) ||
	    mem_read(ce->c.r, maxarenas_at, &maxarenas, 4))
		return LP_EFAULT;
	ce->c.reads += 2;
	if (!arenas || maxarenas > MAX_HEAP_ARENAS || !L->ao_size ||
	    L->ao_size > 256 || L->pool_size < 1024 ||
	    L->arena_size > MAX_HEAP_ARENA_BYTES ||
	    L->arena_size < L->pool_size || L->arena_size % L->pool_size)
		return LP_EFORMAT;
	size_t blen = L->arena_size > (size_t)ARENA_READ * L->ao_size ?
		      L->arena_size : (size_t)ARENA_READ * L->ao_size;
	uint8_t *buf = malloc(blen);
	uint8_t *freebm = malloc(L->pool_size >> L->align_shift);
	struct arena_ent *ents = NULL;
	size_t nent = 0, ent_cap = 0;
	int rc = LP_ENOMEM;
	if (!buf || !freebm)
		goto out;
	/* the vector first, ARENA_READ entries a read (through buf) */
	for (uint32_t a0 = 0; a0 < maxarenas; a0 += ARENA_READ) {
		uint32_t k = maxarenas - a0 < ARENA_READ ? maxarenas - a0
							 : ARENA_READ;
		rc = mem_read(ce->c.r, arenas + (uint64_t)a0 * L->ao_size, buf,
			      (size_t)k * L->ao_size);
		ce->c.reads++;
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			goto out;
		if (rc != LP_OK) {
			out->changed++;
			break;	/* the vector moved (grown): the rest unread */
		}
		for (uint32_t j = 0; j < k; j++) {
			const uint8_t *ao = buf + (size_t)j * L->ao_size;
			uint64_t base = u64(ao, L->ao_address);
			if (!base)
				continue;
			if (nent == ent_cap) {
				size_t nc = ent_cap ? ent_cap * 2 : 256;
				void *nb = realloc(ents, nc * sizeof *ents);
				if (!nb) {
					rc = LP_ENOMEM;
					goto out;
				}
				ents = nb;
				ent_cap = nc;
			}
			ents[nent].base = base;
			ents[nent].carved = u64(ao, L->ao_pool_address);
			ents[nent++].idx = a0 + j;
		}
	}
	/* by address: arenas that overlap (a vector that lies) are read
	 * once, the later ones counted as changed */
	if (nent)
		qsort(ents, nent, sizeof *ents, by_base);
	ce->arena_base = malloc((nent ? nent : 1) * sizeof(uint64_t));
	if (!ce->arena_base) {
		rc = LP_ENOMEM;
		goto out;
	}
	uint64_t end = 0;
	for (size_t e = 0; e < nent; e++) {
		uint32_t a = ents[e].idx;
		uint64_t base = ents[e].base, carved = ents[e].carved;
		if (base < end) {
			out->changed++;
			continue;
		}
		end = base + L->arena_size;
		ce->arena_base[ce->narenas++] = base;
		uint64_t first = (base + L->pool_size - 1) &
				 ~(uint64_t)(L->pool_size - 1);
		/* pools are carved whole from the first aligned one */
		if (carved <= first || carved > base + L->arena_size ||
		    (carved - first) % L->pool_size)
			continue;
		size_t len = (size_t)(carved - first);
		rc = mem_read(ce->c.r, first, buf, len);
		ce->c.reads++;
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			goto out;
		if (rc != LP_OK) {
			out->changed++;
			continue;
		}
		for (size_t off = 0; off + L->pool_size <= len;
		     off += L->pool_size) {
			const uint8_t *pool = buf + off;
			uint64_t paddr = first + off;
			uint32_t count = GET_MEMBER(uint32_t, pool, L->ph_count);
			uint32_t szidx = GET_MEMBER(uint32_t, pool, L->ph_szidx);
			uint32_t next = GET_MEMBER(uint32_t, pool,
						   L->ph_nextoffset);
			if (!count)
				continue;
			uint64_t size = (uint64_t)(szidx + 1) << L->align_shift;
			/* arenaindex and maxnextoffset are the uints before
			 * szidx and after nextoffset (struct pool_header):
			 * a pool that names another arena, or whose last
			 * offset is not the pool's end less a block, is no
			 * pool of this arena (or is being reset) */
			uint32_t aidx = GET_MEMBER(uint32_t, pool,
						   L->ph_szidx - 4);
			uint32_t maxnext = GET_MEMBER(uint32_t, pool,
						      L->ph_nextoffset + 4);
			if (size > 512 || next > L->pool_size ||
			    next < L->ph_overhead || aidx != a ||
			    maxnext + size != L->pool_size) {
				out->changed++;
				continue;
			}
			size_t nblocks = (next - L->ph_overhead) / size;
			memset(freebm, 0, nblocks);
			uint64_t fb = u64(pool, L->ph_freeblock);
			for (size_t k = 0; fb && k <= nblocks; k++) {
				if (fb < paddr + L->ph_overhead ||
				    fb >= paddr + next ||
				    (fb - paddr - L->ph_overhead) % size)
					break;	/* moving: the rest counted
						 * as used, checked below */
				size_t i = (fb - paddr - L->ph_overhead) / size;
				freebm[i] = 1;
				fb = u64(pool, (uint32_t)(fb - paddr));
			}
			for (size_t i = 0; i < nblocks; i++) {
				if (freebm[i])
					continue;
				const uint8_t *blk = pool + L->ph_overhead +
						     i * size;
				uint64_t refcnt = u64(blk, 0);
				uint64_t tp = u64(blk, L->ob_type);
				if (!refcnt || refcnt > (1ull << 32) ||
				    tp < 4096 || tp >= (1ull << 47) || (tp & 7))
					continue;
				int32_t ti = heap_type_of(ce, tp);
				if (ti == -2) {
					rc = ce->gone ? ce->gone : LP_ENOMEM;
					goto out;
				}
				if (ti < 0 || (ce->flags[ti] & TPF_HAVE_GC))
					continue;
				uint64_t sz = size;
				if (ce->item[ti] && size >= 24) {
					int64_t n = GET_MEMBER(int64_t, blk,
							       L->ob_size);
					/* 3.12+ ints: lv_tag, the digit count
					 * above 3 sign and flag bits
					 * (Include/cpython/longintrepr.h) */
					if (L->long_tagged &&
					    !strcmp(ce->types[ti].name, "int"))
						n = (int64_t)((uint64_t)n >> 3);
					if (n < 0)
						n = -n;
					if ((uint64_t)n < size)
						sz = ce->basic[ti] +
						     (uint64_t)n * ce->item[ti];
				} else if (strcmp(ce->types[ti].name, "str")) {
					sz = ce->basic[ti];
				} else if (L->uni_ascii_size &&
					   L->uni_state + 4 <= size &&
					   L->uni_len + 8 <= size) {
					/* its own length where its header
					 * reads as a compact str, else the
					 * block */
					uint64_t s = heap_str_size(L, blk);
					if (s)
						sz = s;
				}
				if (sz > size)
					sz = size;
				ce->types[ti].count++;
				ce->types[ti].bytes += sz;
				out->small_objects++;
			}
		}
	}
	ce->arena_size = L->arena_size;
	rc = LP_OK;
out:
	free(buf);
	free(freebm);
	free(ents);
	return rc;
}

/* pymalloc's structures where no layout or symbol names them: struct
 * pool_header and struct arena_object have kept one shape on 64-bit
 * builds (Include/internal/pycore_obmalloc.h; Objects/obmalloc.c before
 * 3.12): a pool's count, freeblock, nextpool, prevpool, then the uints
 * arenaindex, szidx, nextoffset, maxnextoffset; an arena's address,
 * pool_address, nfreepools, ntotalpools.  Size classes are 16 bytes
 * apart on 64-bit from 3.8 (ALIGNMENT_SHIFT 4), 32 of them, so the
 * usedpools array is 64 pointers.  Every use is checked against the
 * pools themselves. */
#define PH_NEXTPOOL 16
#define PH_PREVPOOL 24
#define PH_ARENAINDEX 32
#define PH_SZIDX 36
#define PH_NEXTOFFSET 40
#define PH_MAXNEXTOFFSET 44
#define PH_SIZE 48
#define AO_SIZE 48
#define AO_NTOTALPOOLS 20
#define NCLASSES 32u
#define USEDPOOLS_BYTES (2 * NCLASSES * 8)
/* pools whose headers the search checks */
#define MAX_SAMPLES (2 * NCLASSES)

struct pool_sample {
	uint64_t addr;
	uint32_t arenaindex;
};

/* Whether h, read at addr, is a used pool's header whose fields agree:
 * maxnextoffset is exactly POOL_SIZE - the block size (4 or 16 KiB
 * pools), nextoffset and freeblock on the block grid inside the pool,
 * a count the pool can hold.  *pool_size is set. */
static bool pool_ok(const uint8_t *h, uint64_t addr, uint32_t *pool_size)
{
	uint32_t count = GET_MEMBER(uint32_t, h, 0);
	uint64_t fb = u64(h, 8);
	uint32_t aidx = GET_MEMBER(uint32_t, h, PH_ARENAINDEX);
	uint32_t szidx = GET_MEMBER(uint32_t, h, PH_SZIDX);
	uint32_t next = GET_MEMBER(uint32_t, h, PH_NEXTOFFSET);
	uint32_t maxnext = GET_MEMBER(uint32_t, h, PH_MAXNEXTOFFSET);
	if (szidx >= NCLASSES || aidx >= MAX_HEAP_ARENAS)
		return false;
	uint32_t size = (szidx + 1) << 4;
	uint32_t ps = maxnext + size;
	if ((ps != 4096 && ps != 16384) || (addr & (ps - 1)) || !count ||
	    count > (ps - PH_SIZE) / size || next < PH_SIZE ||
	    next > maxnext + size || (next - PH_SIZE) % size)
		return false;
	if (fb && (fb < addr + PH_SIZE || fb >= addr + next ||
		   (fb - addr - PH_SIZE) % size))
		return false;
	*pool_size = ps;
	return true;
}

/* Whether the 64 words w, at addr u, have usedpools' shape: for each
 * size class, both entries point 2 words before the pair itself (no
 * used pool) or both at pool-aligned addresses (its first and last). */
static bool usedpools_shape(const uint8_t *w, uint64_t u)
{
	for (uint32_t i = 0; i < NCLASSES; i++) {
		uint64_t e0 = u64(w, 16 * i), e1 = u64(w, 16 * i + 8);
		uint64_t head = u + 16 * i - 16;
		if (e0 == head && e1 == head)
			continue;
		if (!e0 || !e1 || ((e0 | e1) & 4095) || e0 >= (1ull << 47) ||
		    e1 >= (1ull << 47))
			return false;
	}
	return true;
}

/* Checks the pools usedpools at u (its words w) names: each class's
 * first pool has the class's head as prevpool, its last as nextpool,
 * both of the class's size and whole (pool_ok).  Returns how many
 * agreed (their samples kept), 0 when too many did not (a moving heap
 * may fail a few). */
static size_t usedpools_check(struct census *ce, const uint8_t *w,
			      uint64_t u, struct pool_sample *smp,
			      uint32_t *pool_size, int *rc)
{
	struct remote_iov iov[MAX_SAMPLES];
	uint8_t h[MAX_SAMPLES][PH_SIZE];
	uint32_t cls[MAX_SAMPLES];
	size_t n = 0, ok = 0, bad = 0;
	for (uint32_t i = 0; i < NCLASSES; i++) {
		uint64_t e0 = u64(w, 16 * i), e1 = u64(w, 16 * i + 8);
		if (e0 == u + 16 * i - 16)
			continue;
		for (int k = 0; k < 2; k++) {
			memset(h[n], 0, PH_SIZE);
			iov[n] = (struct remote_iov){ k ? e1 : e0, h[n],
						      PH_SIZE };
			cls[n++] = i;
		}
	}
	if (!n)
		return 0;
	*rc = mem_readv(ce->c.r, iov, n);
	ce->c.reads++;
	if (*rc == LP_ENOPROC || *rc == LP_EPERM)
		return 0;
	*rc = LP_OK;
	uint32_t ps = 0;
	for (size_t j = 0; j < n; j++) {
		uint32_t i = cls[j], p = 0;
		uint64_t head = u + 16 * i - 16;
		uint32_t link = (j & 1) ? PH_NEXTPOOL : PH_PREVPOOL;
		if (!pool_ok(h[j], iov[j].addr, &p) ||
		    GET_MEMBER(uint32_t, h[j], PH_SZIDX) != i ||
		    u64(h[j], link) != head || (ps && p != ps)) {
			bad++;
			continue;
		}
		ps = p;
		smp[ok].addr = iov[j].addr;
		smp[ok++].arenaindex = GET_MEMBER(uint32_t, h[j],
						  PH_ARENAINDEX);
	}
	if (!ok || bad * 4 > ok)
		return 0;
	*pool_size = ps;
	return ok;
}

/* Whether the arenas vector at v (maxarenas m, 0: unknown) holds the
 * sampled pools, each in the arena of its arenaindex; sets the arena
 * size (its ntotalpools pools, one fewer when the arena's base is not
 * pool-aligned: Objects/obmalloc.c new_arena). */
static bool vector_ok(struct census *ce, uint64_t v, uint64_t m,
		      const struct pool_sample *smp, size_t ns,
		      uint32_t pool_size, uint32_t *arena_size, int *rc)
{
	struct remote_iov iov[MAX_SAMPLES];
	uint8_t ao[MAX_SAMPLES][AO_SIZE];
	if (!v || (v & 7) || v >= (1ull << 47) || m > MAX_HEAP_ARENAS)
		return false;
	for (size_t j = 0; j < ns; j++) {
		if (m && smp[j].arenaindex >= m)
			return false;
		memset(ao[j], 0, AO_SIZE);
		iov[j] = (struct remote_iov){
			v + (uint64_t)smp[j].arenaindex * AO_SIZE, ao[j],
			AO_SIZE };
	}
	*rc = mem_readv(ce->c.r, iov, ns);
	ce->c.reads++;
	if (*rc == LP_ENOPROC || *rc == LP_EPERM)
		return false;
	*rc = LP_OK;
	size_t ok = 0, bad = 0;
	uint32_t asz = 0;
	for (size_t j = 0; j < ns; j++) {
		uint64_t base = u64(ao[j], 0), carved = u64(ao[j], 8);
		uint32_t total = GET_MEMBER(uint32_t, ao[j], AO_NTOTALPOOLS);
		uint32_t pools = 1;
		while (pools < total && pools < 4096)
			pools <<= 1;
		uint64_t a = (uint64_t)pools * pool_size;
		if (!base || !total || total > 4096 ||
		    a > MAX_HEAP_ARENA_BYTES || smp[j].addr < base ||
		    smp[j].addr >= base + a || carved <= smp[j].addr ||
		    carved > base + a || (asz && a != asz)) {
			bad++;
			continue;
		}
		asz = (uint32_t)a;
		ok++;
	}
	if (!ok || bad * 4 > ok)
		return false;
	*arena_size = asz;
	return true;
}

/* The interpreter binary's writable mappings (the file that holds
 * _PyRuntime or the interpreter pointer, and the anonymous .bss right
 * after it), at most max, within MAX_HEAP_DATA_SCAN bytes. */
static size_t data_regions(py_proc *py, const struct maps *m,
			   uint64_t (*reg)[2], size_t max)
{
	uint64_t anchor = py->runtime ? py->runtime : py->interp_head_addr;
	const struct map_entry *e = m && anchor ? maps_find(m, anchor) : NULL;
	if (!e || !e->path[0] || e->path[0] == '[')
		return 0;
	size_t n = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < m->n && n < max; i++) {
		const struct map_entry *x = &m->v[i];
		bool mine = x->inode == e->inode && !strcmp(x->path, e->path);
		bool bss = !mine && i && !x->path[0] &&
			   x->start == m->v[i - 1].end &&
			   m->v[i - 1].inode == e->inode &&
			   !strcmp(m->v[i - 1].path, e->path);
		if (!(mine || bss) || (x->perms & (MAP_PERM_R | MAP_PERM_W)) !=
		    (MAP_PERM_R | MAP_PERM_W))
			continue;
		if (total + (x->end - x->start) > MAX_HEAP_DATA_SCAN)
			break;
		total += x->end - x->start;
		reg[n][0] = x->start;
		reg[n++][1] = x->end;
	}
	return n;
}

static bool in_regions(uint64_t (*reg)[2], size_t n, uint64_t p)
{
	for (size_t i = 0; i < n; i++)
		if (p >= reg[i][0] && p < reg[i][1])
			return true;
	return false;
}

/* 3.11's arenas vector is a static variable of its own: a word of the
 * binary's data pointing outside it at a vector that holds the sampled
 * pools; its length, maxarenas (16 doubled as it grows), is a uint
 * beside it, the largest such near it (a vector read past its end finds
 * no pool whose arenaindex names it).  Searched in chunks, the
 * candidates' entries read MAX_IOV at a time. */
static bool vector_search(struct census *ce, uint64_t (*reg)[2], size_t nreg,
			  const struct pool_sample *smp, size_t ns,
			  uint32_t pool_size, uint64_t *arenas_at,
			  uint64_t *maxarenas_at, uint32_t *arena_size, int *rc)
{
	uint32_t maxidx = 0;
	for (size_t j = 0; j < ns; j++)
		if (smp[j].arenaindex > maxidx)
			maxidx = smp[j].arenaindex;
	uint64_t found[MAX_HEAP_POOL_CANDIDATES];
	size_t nf = 0;
	/* MAX_IOV entries fit in hdrs (MAX_IOV x HDR bytes) */
	uint8_t (*ao)[AO_SIZE] = (uint8_t (*)[AO_SIZE])ce->hdrs;
	uint8_t *buf = malloc(HEAP_DATA_CHUNK);
	if (!buf) {
		*rc = LP_ENOMEM;
		return false;
	}
	for (size_t r = 0; r < nreg && nf < MAX_HEAP_POOL_CANDIDATES; r++) {
		for (uint64_t at = reg[r][0]; at < reg[r][1] &&
		     nf < MAX_HEAP_POOL_CANDIDATES; at += HEAP_DATA_CHUNK) {
			size_t len = reg[r][1] - at < HEAP_DATA_CHUNK ?
				     (size_t)(reg[r][1] - at) : HEAP_DATA_CHUNK;
			*rc = mem_read(ce->c.r, at, buf, len);
			ce->c.reads++;
			if (*rc == LP_ENOPROC || *rc == LP_EPERM)
				goto fail;
			if (*rc != LP_OK)
				continue;
			size_t nc = 0;
			for (size_t o = 0; o <= len; o += 8) {
				if (o < len) {
					uint64_t v = u64(buf, (uint32_t)o);
					if (v < 65536 || (v & 7) ||
					    v >= (1ull << 47) ||
					    in_regions(reg, nreg, v))
						continue;
					memset(ao[nc], 0, AO_SIZE);
					ce->iov[nc] = (struct remote_iov){
						v + (uint64_t)smp[0].arenaindex *
						AO_SIZE, ao[nc], AO_SIZE };
					ce->cand[nc] = at + o;
					if (++nc < MAX_IOV)
						continue;
				}
				if (!nc)
					continue;
				*rc = mem_readv(ce->c.r, ce->iov, nc);
				ce->c.reads++;
				if (*rc == LP_ENOPROC || *rc == LP_EPERM)
					goto fail;
				for (size_t j = 0; j < nc &&
				     nf < MAX_HEAP_POOL_CANDIDATES; j++) {
					uint64_t b = u64(ao[j], 0);
					uint64_t c = u64(ao[j], 8);
					if (b && b <= smp[0].addr &&
					    c > smp[0].addr &&
					    c <= b + MAX_HEAP_ARENA_BYTES)
						found[nf++] = ce->cand[j];
				}
				nc = 0;
			}
		}
	}
	free(buf);
	*rc = LP_OK;
	for (size_t k = 0; k < nf; k++) {
		uint64_t v;
		if (mem_read_u64(ce->c.r, found[k], &v) != LP_OK ||
		    !vector_ok(ce, v, 0, smp, ns, pool_size, arena_size, rc))
			continue;
		/* its length: a uint within 512 bytes, in the same region */
		uint64_t lo = found[k] - 512, hi = found[k] + 520;
		for (size_t r = 0; r < nreg; r++) {
			if (found[k] < reg[r][0] || found[k] >= reg[r][1])
				continue;
			if (lo < reg[r][0])
				lo = reg[r][0];
			if (hi > reg[r][1])
				hi = reg[r][1];
		}
		uint8_t near[1032];
		if (hi <= lo || hi - lo > sizeof near ||
		    mem_read(ce->c.r, lo, near, hi - lo) != LP_OK)
			continue;
		uint32_t best = 0;
		uint64_t best_at = 0;
		for (uint64_t o = 0; o + 4 <= hi - lo; o += 4) {
			uint32_t m = GET_MEMBER(uint32_t, near, o);
			if (m < 16 || m > MAX_HEAP_ARENAS || (m & (m - 1)) ||
			    m <= maxidx || m <= best)
				continue;
			best = m;
			best_at = lo + o;
		}
		if (!best)
			continue;
		*arenas_at = found[k];
		*maxarenas_at = best_at;
		return true;
	}
	return false;
fail:
	free(buf);
	return false;
}

/* Finds pymalloc's arenas vector from the shape of its state: the
 * usedpools array in the binary's data (pairs pointing at themselves,
 * or at pools that point back), checked through the pools it names;
 * then the arenas vector right after it (3.12+: struct _obmalloc_state
 * keeps mgmt after pools) or, failing that, a static variable holding
 * those pools (3.11).  Fills L's pymalloc facts; NULL, or why not. */
const char *heap_pools_find(struct census *ce, const struct maps *maps,
			    struct py_layout *L,
			    uint64_t *arenas_at, uint64_t *maxarenas_at,
			    char *how, size_t howlen, int *rc)
{
	py_proc *py = ce->py;
	uint64_t reg[16][2];
	*rc = LP_OK;
	size_t nreg = data_regions(py, maps, reg, 16);
	if (!nreg)
		return "the interpreter's data was not found in its maps";
	uint8_t *buf = malloc(HEAP_DATA_CHUNK + USEDPOOLS_BYTES);
	struct pool_sample smp[MAX_SAMPLES];
	const char *why = "no usedpools array of pymalloc in the "
			  "interpreter's data (PYTHONMALLOC=malloc?)";
	if (!buf) {
		*rc = LP_ENOMEM;
		return "out of memory";
	}
	size_t tried = 0;
	for (size_t r = 0; r < nreg && tried < MAX_HEAP_POOL_CANDIDATES; r++) {
		for (uint64_t at = reg[r][0]; at + USEDPOOLS_BYTES <= reg[r][1];
		     at += HEAP_DATA_CHUNK) {
			uint64_t len = reg[r][1] - at;
			if (len > HEAP_DATA_CHUNK + USEDPOOLS_BYTES)
				len = HEAP_DATA_CHUNK + USEDPOOLS_BYTES;
			*rc = mem_read(ce->c.r, at, buf, len);
			ce->c.reads++;
			if (*rc == LP_ENOPROC || *rc == LP_EPERM)
				goto out;
			if (*rc != LP_OK)
				continue;
			for (uint64_t o = 0; o < HEAP_DATA_CHUNK &&
			     o + USEDPOOLS_BYTES <= len; o += 8) {
				uint64_t u = at + o;
				if (!usedpools_shape(buf + o, u))
					continue;
				if (++tried > MAX_HEAP_POOL_CANDIDATES)
					break;
				uint32_t ps = 0, asz = 0;
				size_t ns = usedpools_check(ce, buf + o, u,
							    smp, &ps, rc);
				if (*rc != LP_OK)
					goto out;
				if (!ns)
					continue;
				why = "pymalloc's usedpools array was found "
				      "but not its arenas vector";
				uint64_t v = 0, m = 0;
				if (mem_read_u64(ce->c.r, u + USEDPOOLS_BYTES,
						 &v) == LP_OK &&
				    mem_read(ce->c.r, u + USEDPOOLS_BYTES + 8,
					     &m, 4) == LP_OK &&
				    vector_ok(ce, v, m, smp, ns, ps, &asz,
					      rc)) {
					*arenas_at = u + USEDPOOLS_BYTES;
					*maxarenas_at = *arenas_at + 8;
					snprintf(how, howlen,
						 "found by their shape: usedpools "
						 "at %#llx (%zu pools checked), the "
						 "arenas vector after it",
						 (unsigned long long)u, ns);
				} else if (*rc == LP_OK &&
					   vector_search(ce, reg, nreg,
							 smp, ns, ps, arenas_at,
							 maxarenas_at, &asz,
							 rc)) {
					snprintf(how, howlen,
						 "found by their shape: usedpools "
						 "at %#llx (%zu pools checked), the "
						 "arenas vector at %#llx",
						 (unsigned long long)u, ns,
						 (unsigned long long)*arenas_at);
				} else {
					if (*rc != LP_OK)
						goto out;
					continue;
				}
				L->ao_size = AO_SIZE;
				L->ao_address = 0;
				L->ao_pool_address = 8;
				L->ph_count = 0;
				L->ph_freeblock = 8;
				L->ph_szidx = PH_SZIDX;
				L->ph_nextoffset = PH_NEXTOFFSET;
				L->ph_overhead = PH_SIZE;
				L->pool_size = ps;
				L->arena_size = asz;
				L->align_shift = 4;
				why = NULL;
				goto out;
			}
		}
	}
out:
	free(buf);
	return why;
}

/* Where pymalloc keeps its arenas vector and its length: in the
 * interpreter's state (3.12+, from the layout), or in obmalloc.c's static
 * variables found by symbol (3.7-3.11, om_static).  NULL, or why not. */
const char *heap_arenas_where(py_proc *py, symbolizer *syms,
				const struct py_layout *L, uint64_t *arenas_at,
				uint64_t *maxarenas_at)
{
	if (L->om_arenas) {
		uint64_t st = 0;
		if (!py->interp_head_addr ||
		    mem_read_u64(py->reader, py->interp_head_addr, &st) || !st ||
		    (L->om_ptr && mem_read_u64(py->reader, st + L->om_ptr, &st)))
			return "cannot read the interpreter's state";
		*arenas_at = st + L->om_arenas;
		*maxarenas_at = st + L->om_maxarenas;
		return NULL;
	}
	if (!L->om_static)
		return L->major == 3 && L->minor >= 14 ?
			"_Py_DebugOffsets does not describe them" :
			"none generated";
	const struct maps *m = py->target ? target_maps(py->target) : NULL;
	uint64_t sa = 0, sm = 0;
	if (!m || !syms ||
	    symbolizer_find(syms, m, py->sym_mod, "arenas", arenas_at,
			    &sa) != LP_OK ||
	    symbolizer_find(syms, m, py->sym_mod, "maxarenas", maxarenas_at,
			    &sm) != LP_OK)
		return "they are static variables in obmalloc.c that this "
		       "interpreter's binary does not name (stripped)";
	/* a pointer and a uint (Objects/obmalloc.c) */
	if (sa != 8 || sm != 4)
		return "its symbols arenas and maxarenas are not obmalloc.c's";
	return NULL;
}

