/* The heap census's primitives, shared by heap_census.c (the GC lists)
 * and heap_pools.c (pymalloc's pools), which both call them: reads
 * through the census's line cache, the table of types met (each checked
 * as a type before it counts), and a str's size from its header. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_int.h"
#include "utf8.h"

int heap_cread(struct cache *c, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		uint64_t line = addr & ~(uint64_t)(LINE - 1);
		size_t off = (size_t)(addr - line);
		size_t n = LINE - off < len ? LINE - off : len;
		size_t i = (size_t)(line / LINE) % MAX_HEAP_CACHE_LINES;
		uint8_t *d = c->data + i * LINE;
		if (c->tag[i] != line + 1) {
			c->reads++;
			int rc = mem_read(c->r, line, d, LINE);
			if (rc != LP_OK) {
				c->tag[i] = 0;
				/* a line across the end of a mapping: read
				 * just what was asked */
				if (rc != LP_EFAULT)
					return rc;
				c->reads++;
				rc = mem_read(c->r, addr, out, n);
				if (rc != LP_OK)
					return rc;
				goto next;
			}
			c->tag[i] = line + 1;
		}
		memcpy(out, d + off, n);
next:
		out += n;
		addr += n;
		len -= n;
	}
	return LP_OK;
}

/* The index of type addr in ce->types, -1 when it is not a type, -2 when
 * the target is gone or memory ran out. */
int32_t heap_type_of(struct census *ce, uint64_t addr)
{
	const struct py_layout *L = ce->L;
	if (ce->map_n * 2 >= ce->map_cap) {
		if (ce->map_cap >= 4 * (size_t)MAX_HEAP_TYPES)
			return -1;
		size_t ncap = ce->map_cap ? ce->map_cap * 2 : 1024;
		struct tslot *nm = calloc(ncap, sizeof *nm);
		if (!nm)
			return -2;
		for (size_t i = 0; i < ce->map_cap; i++) {
			if (!ce->map[i].addr)
				continue;
			size_t h = (ce->map[i].addr >> 4) * 0x9E3779B97F4A7C15ull
				   % ncap;
			while (nm[h].addr)
				h = (h + 1) % ncap;
			nm[h] = ce->map[i];
		}
		free(ce->map);
		ce->map = nm;
		ce->map_cap = ncap;
	}
	size_t h = (addr >> 4) * 0x9E3779B97F4A7C15ull % ce->map_cap;
	while (ce->map[h].addr) {
		if (ce->map[h].addr == addr)
			return ce->map[h].idx;
		h = (h + 1) % ce->map_cap;
	}
	/* A new one: checked once. */
	int32_t idx = -1;
	uint8_t t[512], m[512];
	uint32_t need = L->tp_flags + 8;
	if (L->tp_name + 8 > need)
		need = L->tp_name + 8;
	if (L->tp_itemsize + 8 > need)
		need = L->tp_itemsize + 8;
	if (L->major == 3 && TP_DICTOFFSET + 8 > need)
		need = TP_DICTOFFSET + 8;
	if ((addr & 7) || need > sizeof t)
		goto store;
	int rc = heap_cread(&ce->c, addr, t, need);
	if (rc == LP_ENOPROC || rc == LP_EPERM) {
		ce->gone = rc;
		return -2;
	}
	if (rc != LP_OK)
		goto store;
	uint64_t meta = u64(t, L->ob_type);
	uint64_t flags = u64(t, L->tp_flags);
	if (!meta || (meta & 7) || !(flags & TPF_READY) ||
	    heap_cread(&ce->c, meta, m, L->tp_flags + 8) != LP_OK ||
	    !(u64(m, L->tp_flags) & TPF_TYPE_SUBCLASS))
		goto store;
	char name[96];
	uint64_t np = u64(t, L->tp_name);
	if (!np || heap_cread(&ce->c, np, name, 1) != LP_OK)
		goto store;
	/* the name up to its NUL, within the buffer, without a read past
	 * the end of its mapping */
	size_t len = 0;
	while (len + 1 < sizeof name) {
		if (heap_cread(&ce->c, np + len, &name[len], 1) != LP_OK)
			break;
		if (!name[len])
			break;
		if ((unsigned char)name[len] < 0x20 || name[len] == 0x7f)
			goto store;
		len++;
	}
	name[len] = 0;
	/* a type's name is text; one read from a type freed or rewritten
	 * under the census may not be (a 0xff reached the output in CI) */
	if (!len || !utf8_valid(name, len))
		goto store;
	if (ce->ntypes == ce->types_cap) {
		size_t ncap = ce->types_cap ? ce->types_cap * 2 : 256;
		void *a = realloc(ce->types, ncap * sizeof *ce->types);
		if (!a)
			return -2;
		ce->types = a;
		uint64_t **arr[4] = { &ce->basic, &ce->item, &ce->flags,
				      &ce->dictoff };
		for (int k = 0; k < 4; k++) {
			void *b = realloc(*arr[k], ncap * sizeof(uint64_t));
			if (!b)
				return -2;
			*arr[k] = b;
		}
		ce->types_cap = ncap;
	}
	idx = (int32_t)ce->ntypes++;
	struct py_heap_type *ty = &ce->types[idx];
	memset(ty, 0, sizeof *ty);
	ty->addr = addr;
	memcpy(ty->name, name, len + 1);
	ce->basic[idx] = u64(t, L->tp_basicsize);
	ce->item[idx] = u64(t, L->tp_itemsize);
	ce->flags[idx] = flags;
	ce->dictoff[idx] = L->major == 3 ? u64(t, TP_DICTOFFSET) : 0;
store:
	ce->map[h].addr = addr;
	ce->map[h].idx = idx;
	ce->map_n++;
	return idx;
}

/* The bytes of a compact str whose header h was read (its header, its
 * characters and their NUL: Include/cpython/unicodeobject.h), 0 when it
 * is not one. */
uint64_t heap_str_size(const struct py_layout *L, const uint8_t *h)
{
	uint32_t st = GET_MEMBER(uint32_t, h, L->uni_state);
	int64_t len = GET_MEMBER(int64_t, h, L->uni_len);
	unsigned kind = (st >> L->uni_kind_shift) & 7;
	if (!((st >> L->uni_compact_bit) & 1) || len < 0 ||
	    len > (1ll << 40) || (kind != 1 && kind != 2 && kind != 4))
		return 0;
	return ((st >> L->uni_ascii_bit) & 1)
	       ? L->uni_ascii_size + (uint64_t)len + 1
	       : L->uni_compact_size + ((uint64_t)len + 1) * kind;
}
