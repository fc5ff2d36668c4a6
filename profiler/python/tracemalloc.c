/* tracemalloc's traces from outside.  The traces table maps each traced
 * block to {size, traceback} (Python/tracemalloc.c; Modules/_tracemalloc.c
 * up to 3.11) in a _Py_hashtable_t: an array of buckets, each a singly
 * linked list of entries.  Tracebacks are shared (tracemalloc interns
 * them), so traces are first summed by traceback address and each
 * traceback is read once.  The table belongs to a running process that
 * may change it under us: bucket and trace counts are capped, the walk
 * stops after visiting more entries than the table says it holds (a cycle
 * or a table that changed), and what could not be read is counted. */
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "memreader.h"
#include "python/pyproc.h"
#include "python/tracemalloc.h"
#include "python/tracemalloc_layout.h"

/* _Py_hashtable_t (Python/hashtable.c, 3.9+): nentries, nbuckets, buckets;
 * 3.6-3.8 (Modules/hashtable.h): num_buckets, entries, buckets, key_size,
 * data_size.  An entry starts with next and key_hash; 3.9+ then key and
 * value pointers, 3.8 the key (key_size bytes) and the value inline. */
#define HT_HEAD 40
#define ENTRY_MAX 64
/* tracemalloc's _PyTraceMalloc_Config: initialized, tracing, max_nframe
 * (ints; Include/tracemalloc.h, pycore_tracemalloc.h) */
#define CFG_LEN 12

struct tb_agg {
	uint64_t tb;		/* 0: free */
	uint64_t size, count;
};

struct walk {
	py_proc *py;
	const struct tm_layout *T;
	size_t key_size;	/* 3.8 inline entries */
	uint32_t max_nframe;	/* the config's: a traceback has 1..this */
	bool torn;		/* the table was rebuilt under the walk */
	struct tb_agg *agg;
	size_t cap, n;
	struct py_tm_snapshot *out;
};

static const struct tm_layout *layout_for(int minor)
{
	for (size_t i = 0; i < tm_nlayouts; i++)
		if (tm_layouts[i].minor == minor)
			return &tm_layouts[i];
	return NULL;
}

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static int agg_add(struct walk *w, uint64_t tb, uint64_t size)
{
	if (w->n * 2 >= w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 1024;
		struct tb_agg *na = calloc(ncap, sizeof *na);
		if (!na)
			return LP_ENOMEM;
		for (size_t i = 0; i < w->cap; i++) {
			if (!w->agg[i].tb)
				continue;
			size_t j = hash64(w->agg[i].tb) & (ncap - 1);
			while (na[j].tb)
				j = (j + 1) & (ncap - 1);
			na[j] = w->agg[i];
		}
		free(w->agg);
		w->agg = na;
		w->cap = ncap;
	}
	size_t j = hash64(tb) & (w->cap - 1);
	while (w->agg[j].tb && w->agg[j].tb != tb)
		j = (j + 1) & (w->cap - 1);
	if (!w->agg[j].tb) {
		w->agg[j].tb = tb;
		w->n++;
	}
	w->agg[j].size += size;
	w->agg[j].count++;
	return LP_OK;
}

/* Reads the entries at ptrs[0..n) (one level of every chain of a chunk
 * of buckets), sums their traces, and leaves each entry's next pointer in
 * ptrs (0 at a chain's end). */
static int walk_level(struct walk *w, uint64_t *ptrs, size_t n,
		      uint8_t (*ebuf)[ENTRY_MAX], uint8_t (*tbuf)[16],
		      struct remote_iov *iov)
{
	size_t elen = w->T->inline_entries ? 16 + w->key_size + 16 : 32;
	memset(ebuf, 0, n * sizeof *ebuf);
	for (size_t i = 0; i < n; i++)
		iov[i] = (struct remote_iov){ ptrs[i], ebuf[i], elen };
	int rc = mem_readv(w->py->reader, iov, n);
	if (rc == LP_ENOPROC || rc == LP_EPERM)
		return rc;
	size_t nv = 0;
	if (!w->T->inline_entries) {
		memset(tbuf, 0, n * sizeof *tbuf);
		for (size_t i = 0; i < n; i++) {
			uint64_t v = GET_MEMBER(uint64_t, ebuf[i], 24);
			if (v)
				iov[nv++] = (struct remote_iov){ v, tbuf[i], 16 };
		}
		rc = mem_readv(w->py->reader, iov, nv);
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			return rc;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *t = w->T->inline_entries ?
			ebuf[i] + 16 + w->key_size : tbuf[i];
		uint64_t size = GET_MEMBER(uint64_t, t, 0);
		uint64_t tb = GET_MEMBER(uint64_t, t, 8);
		ptrs[i] = GET_MEMBER(uint64_t, ebuf[i], 0);
		/* a trace of more than 1 TiB is not one (freed and reused) */
		if (!tb || size >> 40) {
			w->out->unreadable++;
			continue;
		}
		if ((rc = agg_add(w, tb, size)) != LP_OK)
			return rc;
		w->out->total_size += size;
		w->out->total_count++;
	}
	return LP_OK;
}

static int walk_table(struct walk *w, uint64_t ht, lp_error *err)
{
	uint8_t h[HT_HEAD];
	int rc = mem_read(w->py->reader, ht, h, sizeof h);
	if (rc != LP_OK)
		return lp_error_set(err, rc == LP_EFAULT ? LP_EFORMAT : rc,
				    "cannot read tracemalloc's traces table");
	uint64_t nentries, nbuckets, buckets = GET_MEMBER(uint64_t, h, 16);
	if (w->T->inline_entries) {
		nbuckets = GET_MEMBER(uint64_t, h, 0);
		nentries = GET_MEMBER(uint64_t, h, 8);
		w->key_size = GET_MEMBER(uint64_t, h, 24);
		uint64_t data_size = GET_MEMBER(uint64_t, h, 32);
		if (w->key_size < 8 || w->key_size > 16 || data_size != 16)
			return lp_error_set(err, LP_EFORMAT, "tracemalloc's "
					    "traces table is not one (key %llu, "
					    "data %llu bytes)",
					    (unsigned long long)w->key_size,
					    (unsigned long long)data_size);
	} else {
		nentries = GET_MEMBER(uint64_t, h, 0);
		nbuckets = GET_MEMBER(uint64_t, h, 8);
	}
	if (!nbuckets || nbuckets > MAX_TM_BUCKETS || nentries > MAX_TM_TRACES ||
	    !buckets)
		return lp_error_set(err, LP_EFORMAT, "tracemalloc's traces table "
				    "is not one (%llu buckets, %llu entries)",
				    (unsigned long long)nbuckets,
				    (unsigned long long)nentries);
	/* entries visited at most: what the table holds, with room for what
	 * is added during the walk; past it, a cycle or a table rebuilt */
	uint64_t budget = nentries + nentries / 4 + 4096, visited = 0;
	size_t chunk = MAX_TM_BUCKET_CHUNK;
	uint64_t *ptrs = malloc(chunk * sizeof *ptrs);
	uint8_t (*ebuf)[ENTRY_MAX] = malloc(MAX_IOV * sizeof *ebuf);
	uint8_t (*tbuf)[16] = malloc(MAX_IOV * sizeof *tbuf);
	struct remote_iov *iov = malloc(MAX_IOV * sizeof *iov);
	rc = LP_OK;
	if (!ptrs || !ebuf || !tbuf || !iov) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t b = 0; b < nbuckets && rc == LP_OK; b += chunk) {
		size_t nb = nbuckets - b < chunk ? (size_t)(nbuckets - b) : chunk;
		memset(ptrs, 0, nb * sizeof *ptrs);
		rc = mem_read(w->py->reader, buckets + b * 8, ptrs, nb * 8);
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			break;
		if (rc != LP_OK) {
			/* freed by a resize under us: the caller reads again */
			w->torn = true;
			rc = lp_error_set(err, LP_EFORMAT, "cannot read the "
					  "buckets of tracemalloc's traces "
					  "(the table kept changing)");
			break;
		}
		/* follow every chain of the chunk one level at a time */
		size_t live = nb;
		while (live && rc == LP_OK) {
			size_t k = 0;
			for (size_t i = 0; i < live; i++)
				if (ptrs[i])
					ptrs[k++] = ptrs[i];
			live = k;
			if (visited + live > budget) {
				w->out->unreadable += live;
				rc = LP_OK;
				b = nbuckets;	/* stop: changed or a cycle */
				break;
			}
			visited += live;
			for (size_t i = 0; i < live && rc == LP_OK; i += MAX_IOV) {
				size_t n = live - i < MAX_IOV ? live - i : MAX_IOV;
				rc = walk_level(w, ptrs + i, n, ebuf, tbuf, iov);
			}
		}
	}
	if (rc == LP_ENOPROC || rc == LP_EPERM)
		rc = lp_error_set(err, rc, "the target is gone");
	else if (rc == LP_ENOMEM)
		rc = lp_error_set(err, rc, "out of memory");
out:
	free(iov);
	free(tbuf);
	free(ebuf);
	free(ptrs);
	return rc;
}

/* A filename kept as a C string (3.15: interned UTF-8,
 * Python/tracemalloc.c), read in pieces that stop at its NUL or at
 * MAX_PATH_LEN; control bytes are shown as '?'.  NULL when unreadable. */
static const char *read_cstr(py_proc *py, uint64_t addr)
{
	char buf[MAX_PATH_LEN + 1];
	size_t n = 0;
	while (n < MAX_PATH_LEN) {
		/* up to the next 64-byte boundary: never across a page */
		size_t piece = 64 - (size_t)((addr + n) & 63);
		if (piece > MAX_PATH_LEN - n)
			piece = MAX_PATH_LEN - n;
		if (mem_read(py->reader, addr + n, buf + n, piece) != LP_OK)
			return NULL;
		char *z = memchr(buf + n, '\0', piece);
		if (z) {
			n = (size_t)(z - buf);
			break;
		}
		n += piece;
	}
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return py_proc_intern(py, buf);
}

/* Reads each distinct traceback once: nframe (u16 from 3.9, int up to 3.8:
 * its low half, little-endian) then frames[] {filename, lineno}. */
static int read_tracebacks(struct walk *w)
{
	struct py_tm_snapshot *s = w->out;
	s->sites = calloc(w->n ? w->n : 1, sizeof *s->sites);
	if (!s->sites)
		return LP_ENOMEM;
	const struct tm_layout *T = w->T;
	size_t fsz = T->frame_size;
	uint8_t *buf = malloc(T->tb_frames + MAX_TM_FRAMES * fsz);
	if (!buf)
		return LP_ENOMEM;
	int rc = LP_OK;
	for (size_t i = 0; i < w->cap && rc == LP_OK; i++) {
		const struct tb_agg *a = &w->agg[i];
		if (!a->tb)
			continue;
		struct py_tm_site *site = &s->sites[s->nsites];
		site->size = a->size;
		site->count = a->count;
		uint8_t hd[16];
		uint32_t nf = 0;
		rc = mem_read(w->py->reader, a->tb, hd, T->tb_frames);
		if (rc == LP_OK)
			nf = GET_MEMBER(uint16_t, hd, 8);
		else if (rc == LP_EFAULT)
			rc = LP_OK;
		if (rc != LP_OK)
			break;
		/* a traceback has 1..max_nframe frames, each filename
		 * readable (tracemalloc puts "<unknown>" where it has none):
		 * anything else is memory freed and reused under the read,
		 * its traces counted as unreadable */
		bool ok = nf >= 1 && nf <= w->max_nframe;
		if (nf > MAX_TM_FRAMES)
			nf = MAX_TM_FRAMES;
		if (ok && mem_read(w->py->reader, a->tb + T->tb_frames, buf,
				   nf * fsz) != LP_OK)
			ok = false;
		site->frames = ok ? calloc(nf, sizeof *site->frames) : NULL;
		if (ok && !site->frames) {
			rc = LP_ENOMEM;
			break;
		}
		for (uint32_t k = 0; ok && k < nf; k++) {
			uint64_t fn = GET_MEMBER(uint64_t, buf, k * fsz);
			uint32_t ln = GET_MEMBER(uint32_t, buf, k * fsz + 8);
			const char *f = !fn ? NULL
				: T->filename_cstr ? read_cstr(w->py, fn)
						   : py_proc_str(w->py, fn);
			site->frames[k].file = f;
			site->frames[k].line = ln;
			ok = f != NULL;
		}
		if (!ok) {
			free(site->frames);
			site->frames = NULL;
			s->unreadable += a->count;
			s->total_size -= a->size;
			s->total_count -= a->count;
			continue;
		}
		site->nframes = nf;
		s->nsites++;
	}
	free(buf);
	return rc;
}

/* 3.13+: the size of _PyRuntimeState the process's _Py_DebugOffsets
 * declares holds the offsets and is of the size they were generated
 * with (within a factor). */
static bool runtime_size_ok(py_proc *py, const struct tm_layout *T,
			    uint64_t *size)
{
	uint8_t buf[PY_DEBUG_OFFSETS_READ];
	size_t need = 8 + 8 * py->dbg_shape->n;
	*size = 0;
	if (need > sizeof buf ||
	    mem_read(py->reader, py->runtime, buf, need) != LP_OK)
		return false;
	struct dbg_view v = { buf, need, 8, py->dbg_shape };
	/* not equality: Debian's static 3.15.2 declares 8 bytes more than
	 * its own libpython3.15-dev headers give, after tracemalloc's
	 * state; the state must lie inside it */
	return dbg_value(&v, "runtime_state.size", size) &&
	       *size >= (uint64_t)T->traces + 8 && *size <= 4u * T->runtime_size;
}

int py_tracemalloc_snapshot(py_proc *py, symbolizer *syms,
			    struct py_tm_snapshot *out, lp_error *err)
{
	memset(out, 0, sizeof *out);
	const struct tm_layout *T =
		py->L.major == 3 ? layout_for(py->L.minor) : NULL;
	if (!T)
		return lp_error_set(err, LP_EUNSUPPORTED, "CPython %s: reading "
				    "tracemalloc's traces is not supported for "
				    "this version (3.8-3.15 are)", py->version);
	uint64_t cfg, traces_ptr;
	if (T->runtime) {
		if (!py->runtime)
			return lp_error_set(err, LP_EUNSUPPORTED, "CPython %s: "
					    "_PyRuntime not found", py->version);
		uint64_t rsz = 0;
		if (py->dbg_shape && !runtime_size_ok(py, T, &rsz))
			return lp_error_set(err, LP_EUNSUPPORTED, "CPython %s: "
					    "this build's _PyRuntime (%llu "
					    "bytes) is not the one tracemalloc's "
					    "offsets were generated for (%u)",
					    py->version, (unsigned long long)rsz,
					    T->runtime_size);
		cfg = py->runtime + T->config;
		traces_ptr = py->runtime + T->traces;
	} else {
		const struct maps *m = py->target ? target_maps(py->target) : NULL;
		uint64_t sz;
		if (!m || !syms ||
		    symbolizer_find(syms, m, py->sym_mod,
				    T->config_sym ? T->config_sym
						  : "_Py_tracemalloc_config",
				    &cfg, &sz) != LP_OK ||
		    symbolizer_find(syms, m, py->sym_mod, "tracemalloc_traces",
				    &traces_ptr, &sz) != LP_OK)
			return lp_error_set(err, LP_EUNSUPPORTED, "CPython %s: "
					    "tracemalloc's state is in static "
					    "variables that this interpreter's "
					    "binary does not name (stripped)",
					    py->version);
	}
	uint8_t c[CFG_LEN];
	int rc = mem_read(py->reader, cfg, c, sizeof c);
	if (rc != LP_OK)
		return lp_error_set(err, rc == LP_EFAULT ? LP_EFORMAT : rc,
				    "cannot read tracemalloc's config");
	int32_t init = GET_MEMBER(int32_t, c, 0);
	int32_t tracing = GET_MEMBER(int32_t, c, 4);
	int32_t nframe = GET_MEMBER(int32_t, c, 8);
	if (init < 0 || init > 2 || tracing < 0 || tracing > 1 || nframe < 0 ||
	    nframe > 65535)
		return lp_error_set(err, LP_EFORMAT, "CPython %s: tracemalloc's "
				    "config does not validate (initialized %d, "
				    "tracing %d, max_nframe %d)", py->version,
				    init, tracing, nframe);
	if (!tracing)
		return lp_error_set(err, LP_ENOTFOUND, "tracemalloc is not "
				    "tracing in this process: start the target "
				    "with PYTHONTRACEMALLOC=1 (or N frames) or "
				    "call tracemalloc.start() in it");
	uint64_t ht = 0;
	struct walk w = { .py = py, .T = T, .out = out,
			  .max_nframe = (uint32_t)nframe };
	/* a table resized under the walk is read again from its header,
	 * a bounded number of times */
	for (int attempt = 0; attempt <= MAX_PY_WALK_RETRIES; attempt++) {
		w.torn = false;
		w.n = 0;
		if (w.agg)
			memset(w.agg, 0, w.cap * sizeof *w.agg);
		memset(out, 0, sizeof *out);
		if ((rc = mem_read_u64(py->reader, traces_ptr, &ht)) != LP_OK ||
		    !ht) {
			rc = lp_error_set(err, rc == LP_OK ? LP_EFORMAT : rc,
					  "cannot read tracemalloc's traces "
					  "pointer");
			break;
		}
		rc = walk_table(&w, ht, err);
		if (!w.torn)
			break;
	}
	if (rc == LP_OK && (rc = read_tracebacks(&w)) != LP_OK)
		lp_error_set(err, rc, rc == LP_ENOMEM ? "out of memory"
				      : "the target is gone");
	free(w.agg);
	if (rc != LP_OK)
		py_tm_snapshot_fini(out);
	return rc;
}

void py_tm_snapshot_fini(struct py_tm_snapshot *s)
{
	for (size_t i = 0; i < s->nsites; i++)
		free(s->sites[i].frames);
	free(s->sites);
	memset(s, 0, sizeof *s);
}
