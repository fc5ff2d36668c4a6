/* A frame's local variables, for loupe dump --locals (py-spy dump
 * --locals): names from the code object (co_varnames up to 3.10,
 * co_localsplusnames and co_localspluskinds from 3.11), values from the
 * frame (f_localsplus, _PyInterpreterFrame.localsplus; _PyStackRefs with
 * tag bits from 3.14), each rendered short and safe.  Not on the sampling
 * path: dump reads it once, after the walk, so every value is checked
 * again after it was rendered (the frame's code, the slot, the object's
 * type) and says "<changed>" when it moved.  Offsets are the layout's
 * (layout.h: generated tables up to 3.12, _Py_DebugOffsets from 3.13). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "memreader.h"
#include "python/pyproc.h"

/* Characters of a str or bytes value shown before it is cut. */
#define LOCALS_STR_SHOWN 64
/* Bytes of a type's tp_name read. */
#define LOCALS_TYPE_NAME 48

/* Py_TPFLAGS_*_SUBCLASS (Include/object.h): a type's kind, checked
 * beside its name before its instance is decoded; 2.7's int and str
 * (Py_TPFLAGS_INT_SUBCLASS, Py_TPFLAGS_STRING_SUBCLASS). */
#define TPF_INT2 (1ul << 23)
#define TPF_LONG (1ul << 24)
#define TPF_LIST (1ul << 25)
#define TPF_TUPLE (1ul << 26)
#define TPF_BYTES (1ul << 27)
#define TPF_UNICODE (1ul << 28)
#define TPF_DICT (1ul << 29)
#define TPF_TYPE (1ul << 31)

/* _PyLocals_Kind bits (Include/internal/pycore_code.h, 3.11+): a hidden
 * local is an inlined comprehension's (3.12+), not the frame's. */
#define CO_FAST_HIDDEN 0x10

static uint64_t u64(const uint8_t *p, uint32_t off)
{
	return GET_MEMBER(uint64_t, p, off);
}

/* One bounded read; LP_OK or the reader's code. */
static int rd(py_proc *py, uint64_t addr, void *buf, size_t len)
{
	if (addr == 0 || addr + len < addr)
		return LP_EFAULT;
	return mem_read(py->reader, addr, buf, len);
}

static bool fatal(int rc)
{
	return rc == LP_ENOPROC || rc == LP_EPERM;
}

static bool modern(const struct py_layout *L)
{
	return L->major == 3 && L->minor >= 11;
}

/* A frame's code reference: a _PyStackRef with tag bits from 3.14. */
static uint64_t untag(const struct py_layout *L, uint64_t v)
{
	return L->tagged_code ? v & ~(uint64_t)3 : v;
}

/* ---- the rendering of one value ---- */

struct obj {
	uint64_t addr, type;
	unsigned long flags;
	char tname[LOCALS_TYPE_NAME];
	uint8_t h[64];		/* the object's first bytes */
	size_t hlen;		/* of which read in one go */
};

static size_t put(char *o, size_t cap, size_t at, const char *s)
{
	size_t l = strlen(s);
	if (at + l >= cap)
		return at;
	memcpy(o + at, s, l + 1);
	return at + l;
}

/* c as Python's repr writes it inside quotes: the quote and backslash
 * escaped, controls as \n \t \r \xNN, a lone surrogate as \uNNNN, other
 * code points as they are (UTF-8). */
static size_t put_char(char *o, size_t cap, size_t at, uint32_t c)
{
	char b[12];
	if (c == '\'' || c == '\\')
		snprintf(b, sizeof b, "\\%c", (char)c);
	else if (c == '\n')
		snprintf(b, sizeof b, "\\n");
	else if (c == '\t')
		snprintf(b, sizeof b, "\\t");
	else if (c == '\r')
		snprintf(b, sizeof b, "\\r");
	else if (c < 0x20 || (c >= 0x7f && c < 0xa0))
		snprintf(b, sizeof b, "\\x%02x", (unsigned)c);
	else if (c < 0x80)
		snprintf(b, sizeof b, "%c", (char)c);
	else if ((c >= 0xd800 && c < 0xe000) || c > 0x10ffff)
		snprintf(b, sizeof b, c > 0xffff ? "\\U%08x" : "\\u%04x",
			 (unsigned)c);
	else if (c < 0x800)
		snprintf(b, sizeof b, "%c%c", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
	else if (c < 0x10000)
		snprintf(b, sizeof b, "%c%c%c", 0xe0 | (c >> 12),
			 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
	else
		snprintf(b, sizeof b, "%c%c%c%c", 0xf0 | (c >> 18),
			 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f),
			 0x80 | (c & 0x3f));
	return put(o, cap, at, b);
}

/* A byte string (bytes, 2.7 str) of len bytes at data: b'...' (prefix
 * "b") or '...', cut after LOCALS_STR_SHOWN bytes with "...". */
static int render_bytes(py_proc *py, uint64_t data, int64_t len,
			const char *prefix, char *o, size_t cap)
{
	uint8_t d[LOCALS_STR_SHOWN];
	size_t n = len > LOCALS_STR_SHOWN ? LOCALS_STR_SHOWN : (size_t)len;
	int rc = n ? rd(py, data, d, n) : LP_OK;
	if (rc != LP_OK)
		return rc;
	size_t at = put(o, cap, 0, prefix);
	at = put(o, cap, at, "'");
	for (size_t i = 0; i < n; i++) {
		/* bytes >= 0x80 as \xNN, as repr(bytes) writes them */
		if (d[i] < 0x80) {
			at = put_char(o, cap, at, d[i]);
		} else {
			char b[8];
			snprintf(b, sizeof b, "\\x%02x", d[i]);
			at = put(o, cap, at, b);
		}
	}
	at = put(o, cap, at, "'");
	if ((size_t)len > n)
		put(o, cap, at, "...");
	return LP_OK;
}

/* A compact str (3.x, PyASCIIObject / PyCompactUnicodeObject).  *moved:
 * its text changed between two reads of it (the str was freed and another
 * made at its address: a header of one and the text of another is no
 * value; render re-reads the header after). */
static int render_str(py_proc *py, const struct obj *ob, char *o, size_t cap,
		      bool *moved)
{
	const struct py_layout *L = &py->L;
	if (L->uni_ascii_size + 0u > sizeof ob->h)
		return LP_EFORMAT;
	uint32_t state = GET_MEMBER(uint32_t, ob->h, L->uni_state);
	int64_t len = GET_MEMBER(int64_t, ob->h, L->uni_len);
	unsigned kind = (state >> L->uni_kind_shift) & 7;
	bool compact = (state >> L->uni_compact_bit) & 1;
	bool ascii = (state >> L->uni_ascii_bit) & 1;
	if (!compact || len < 0 || (kind != 1 && kind != 2 && kind != 4))
		return LP_EFORMAT;
	size_t n = len > LOCALS_STR_SHOWN ? LOCALS_STR_SHOWN : (size_t)len;
	uint8_t d[LOCALS_STR_SHOWN * 4];
	uint64_t data = ob->addr + (ascii ? L->uni_ascii_size : L->uni_compact_size);
	uint8_t d2[sizeof d];
	int rc = n ? rd(py, data, d, n * kind) : LP_OK;
	if (rc == LP_OK && n)
		rc = rd(py, data, d2, n * kind);
	if (rc != LP_OK)
		return rc;
	*moved = n && memcmp(d, d2, n * kind) != 0;
	if (*moved)
		return LP_OK;
	size_t at = put(o, cap, 0, "'");
	for (size_t i = 0; i < n; i++) {
		uint32_t c = kind == 1 ? d[i] :
			     kind == 2 ? GET_MEMBER(uint16_t, d, i * 2) :
					 GET_MEMBER(uint32_t, d, i * 4);
		at = put_char(o, cap, at, c);
	}
	at = put(o, cap, at, "'");
	if ((size_t)len > n)
		put(o, cap, at, "...");
	return LP_OK;
}

/* An int (PyLongObject, 2.7's long) within 64 bits; *big when not. */
static int render_long(py_proc *py, const struct obj *ob, char *o, size_t cap,
		       bool *big, bool *nonzero)
{
	const struct py_layout *L = &py->L;
	uint64_t ndig;
	bool neg;
	if (L->long_tagged) {
		/* lv_tag: digit count << 3 | sign (0 +, 1 zero, 2 -) */
		uint64_t tag = GET_MEMBER(uint64_t, ob->h, L->long_size);
		ndig = tag >> 3;
		neg = (tag & 3) == 2;
	} else {
		int64_t sz = GET_MEMBER(int64_t, ob->h, L->long_size);
		neg = sz < 0;
		ndig = neg ? (uint64_t)0 - (uint64_t)sz : (uint64_t)sz;
	}
	*big = false;
	if (ndig > 3 || L->long_shift == 0 || L->long_shift > 31) {
		*big = true;
		*nonzero = true;
		return LP_OK;
	}
	uint32_t dig[3] = { 0 };
	int rc = ndig ? rd(py, ob->addr + L->long_digit, dig, ndig * 4) : LP_OK;
	if (rc != LP_OK)
		return rc;
	uint64_t v = 0;
	for (size_t i = ndig; i-- > 0;) {
		if (v >> (64 - L->long_shift)) {
			*big = true;
			*nonzero = true;
			return LP_OK;
		}
		v = (v << L->long_shift) | (dig[i] & ((1u << L->long_shift) - 1));
	}
	*nonzero = v != 0;
	if (v > (uint64_t)INT64_MAX + neg) {
		*big = true;
		return LP_OK;
	}
	if (neg)
		snprintf(o, cap, "-%llu", (unsigned long long)v);
	else
		snprintf(o, cap, "%llu", (unsigned long long)v);
	return LP_OK;
}

/* The shortest %g that reads back as d, as Python's repr (".0" added to
 * a whole number). */
static void render_float(double d, char *o, size_t cap)
{
	if (isnan(d)) {
		snprintf(o, cap, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(o, cap, d < 0 ? "-inf" : "inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(o, cap, "%.*g", prec, d);
		if (strtod(o, NULL) == d)
			break;
	}
	if (!strpbrk(o, ".e") && strlen(o) + 3 < cap)
		strcat(o, ".0");
}

/* Reads the object at addr, its type, the type's name and flags. */
static int read_obj(py_proc *py, uint64_t addr, struct obj *ob)
{
	const struct py_layout *L = &py->L;
	memset(ob, 0, sizeof *ob);
	ob->addr = addr;
	/* A small object may end right before unmapped memory (the end of
	 * an arena): what lies on the next page is read only if it can be,
	 * and only the fields of the object's own type are used. */
	size_t first = 4096 - (addr & 4095);
	if (first > sizeof ob->h)
		first = sizeof ob->h;
	if (first < (size_t)L->ob_type + 8)
		first = (size_t)L->ob_type + 8;
	int rc = rd(py, addr, ob->h, first);
	if (rc != LP_OK)
		return rc;
	if (first < sizeof ob->h &&
	    (rc = rd(py, addr + first, ob->h + first, sizeof ob->h - first)) != LP_OK) {
		if (fatal(rc))
			return rc;
		memset(ob->h + first, 0, sizeof ob->h - first);
	}
	ob->type = u64(ob->h, L->ob_type);
	ob->hlen = first;
	uint8_t t[8];
	/* A live object's type is a type: its own type has
	 * Py_TPFLAGS_TYPE_SUBCLASS.  A freed object's is not (a free list
	 * links blocks through ob_type): LP_EFORMAT, the value moved. */
	uint64_t meta;
	if (rd(py, ob->type + L->ob_type, t, 8) != LP_OK)
		return LP_EFORMAT;
	meta = GET_MEMBER(uint64_t, t, 0);
	if (rd(py, meta + L->tp_flags, t, 8) != LP_OK ||
	    !(GET_MEMBER(uint64_t, t, 0) & TPF_TYPE))
		return LP_EFORMAT;
	if ((rc = rd(py, ob->type + L->tp_flags, t, 8)) != LP_OK)
		return fatal(rc) ? rc : LP_EFORMAT;
	ob->flags = (unsigned long)GET_MEMBER(uint64_t, t, 0);
	uint64_t name;
	/* from here on, what cannot be read is no live type either */
	if ((rc = rd(py, ob->type + L->tp_name, t, 8)) != LP_OK)
		return fatal(rc) ? rc : LP_EFORMAT;
	memcpy(&name, t, 8);
	/* tp_name is a C string anywhere in memory: read what lies before
	 * the end of its page first, then the rest when it goes on. */
	char b[LOCALS_TYPE_NAME];
	size_t nf = 4096 - (name & 4095);
	if (nf > sizeof b - 1)
		nf = sizeof b - 1;
	if ((rc = rd(py, name, b, nf)) != LP_OK)
		return fatal(rc) ? rc : LP_EFORMAT;
	if (nf < sizeof b - 1 && !memchr(b, 0, nf) &&
	    rd(py, name + nf, b + nf, sizeof b - 1 - nf) != LP_OK)
		b[nf] = 0;
	b[sizeof b - 1] = 0;
	/* a type's name starts as an identifier does (a letter, '_', or a
	 * byte of UTF-8): anything else is memory reused under us */
	unsigned char c0 = (unsigned char)b[0];
	if (!(c0 == '_' || c0 >= 0x80 || (c0 >= 'A' && c0 <= 'Z') ||
	      (c0 >= 'a' && c0 <= 'z')))
		return LP_EFORMAT;
	size_t i;
	for (i = 0; b[i]; i++)
		ob->tname[i] = (b[i] > 0x20 && b[i] < 0x7f) ? b[i] : '?';
	ob->tname[i] = 0;
	return LP_OK;
}

static bool is(const struct obj *ob, const char *name, unsigned long flag)
{
	return strcmp(ob->tname, name) == 0 && (!flag || (ob->flags & flag));
}

/* The rendering of the object at addr into l (type and repr); depth 1
 * lets a cell show its content.  LP_ENOPROC / LP_EPERM end the read. */
static int render(py_proc *py, uint64_t addr, struct py_local *l, int depth)
{
	const struct py_layout *L = &py->L;
	struct obj ob;
	char *o = l->repr;
	size_t cap = sizeof l->repr;
	int rc = read_obj(py, addr, &ob);
	if (rc == LP_EFORMAT) {
		snprintf(o, cap, "<changed>");
		return LP_OK;
	}
	if (rc != LP_OK)
		goto unreadable;
	snprintf(l->type, sizeof l->type, "%s", ob.tname);
	bool immutable = is(&ob, "str", 0) || is(&ob, "bytes", 0) ||
			 is(&ob, "int", 0) || is(&ob, "long", 0) ||
			 is(&ob, "float", 0) || is(&ob, "bool", 0) ||
			 is(&ob, "tuple", 0);
	bool big = false, nz = false;
	int64_t size = GET_MEMBER(int64_t, ob.h, L->ob_size);
	if (is(&ob, "NoneType", 0)) {
		snprintf(o, cap, "None");
	} else if (is(&ob, "bool", L->major == 2 ? TPF_INT2 : TPF_LONG)) {
		if (L->major == 2)
			nz = GET_MEMBER(int64_t, ob.h, L->int_val) != 0;
		else if ((rc = render_long(py, &ob, o, cap, &big, &nz)) != LP_OK)
			goto unreadable;
		snprintf(o, cap, nz ? "True" : "False");
	} else if (L->major == 2 && is(&ob, "int", TPF_INT2)) {
		snprintf(o, cap, "%lld",
			 (long long)GET_MEMBER(int64_t, ob.h, L->int_val));
	} else if (is(&ob, L->major == 2 ? "long" : "int", TPF_LONG)) {
		if ((rc = render_long(py, &ob, o, cap, &big, &nz)) != LP_OK)
			goto unreadable;
		if (big)
			snprintf(o, cap, "<%s (beyond 64 bits) at 0x%llx>",
				 ob.tname, (unsigned long long)addr);
	} else if (is(&ob, "float", 0)) {
		render_float(GET_MEMBER(double, ob.h, L->float_val), o, cap);
	} else if (L->major == 3 && is(&ob, "str", TPF_UNICODE)) {
		bool moved = false;
		if ((rc = render_str(py, &ob, o, cap, &moved)) != LP_OK)
			goto unreadable;
		if (moved) {
			l->type[0] = 0;
			snprintf(o, cap, "<changed>");
			return LP_OK;
		}
	} else if ((L->major == 2 && is(&ob, "str", TPF_BYTES)) ||
		   (L->major == 3 && is(&ob, "bytes", TPF_BYTES))) {
		int64_t len = GET_MEMBER(int64_t, ob.h, L->bytes_len);
		if (len < 0)
			goto unreadable;
		rc = render_bytes(py, addr + L->bytes_data, len,
				  L->major == 2 ? "" : "b", o, cap);
		if (rc != LP_OK)
			goto unreadable;
	} else if (is(&ob, "list", TPF_LIST) || is(&ob, "tuple", TPF_TUPLE)) {
		snprintf(o, cap, "<%s len=%lld at 0x%llx>", ob.tname,
			 (long long)size, (unsigned long long)addr);
	} else if (is(&ob, "dict", TPF_DICT)) {
		snprintf(o, cap, "<dict len=%lld at 0x%llx>",
			 (long long)GET_MEMBER(int64_t, ob.h, L->dict_used),
			 (unsigned long long)addr);
	} else if (is(&ob, "set", 0) || is(&ob, "frozenset", 0)) {
		snprintf(o, cap, "<%s len=%lld at 0x%llx>", ob.tname,
			 (long long)GET_MEMBER(int64_t, ob.h, L->set_used),
			 (unsigned long long)addr);
	} else if (depth == 0 && is(&ob, "cell", 0)) {
		/* a variable a closure shares: its content */
		uint64_t ref = u64(ob.h, L->cell_ref);
		if (!ref) {
			snprintf(o, cap, "<empty cell>");
		} else if ((rc = render(py, ref, l, 1)) != LP_OK) {
			return rc;
		}
	} else {
		snprintf(o, cap, "<%s at 0x%llx>", ob.tname,
			 (unsigned long long)addr);
	}
	/* The object still has that type, and an immutable one the same
	 * size and value words: else it was freed and its memory reused
	 * while it was read (at the same address, too: a free list). */
	uint8_t h2[32];
	size_t cmp = immutable ? 24 : (size_t)L->ob_type + 8;
	if (cmp > ob.hlen)
		cmp = (size_t)L->ob_type + 8;
	rc = rd(py, addr, h2, cmp);
	if (rc != LP_OK)
		goto unreadable;
	if (memcmp(h2 + 8, ob.h + 8, cmp - 8) != 0) {
		l->type[0] = 0;
		snprintf(o, cap, "<changed>");
	}
	return LP_OK;
unreadable:
	if (fatal(rc))
		return rc;
	l->type[0] = 0;
	/* An object freed under the read is no object for a while (a free
	 * list links its blocks through ob_type): when its type word is
	 * not what it was, the value moved. */
	uint8_t t2[8];
	bool moved = ob.type && rd(py, addr + L->ob_type, t2, 8) == LP_OK &&
		     GET_MEMBER(uint64_t, t2, 0) != ob.type;
	snprintf(o, cap, moved ? "<changed>" : "<unreadable>");
	return LP_OK;
}

/* ---- names ---- */

/* The text of a name (a str, 2.7's PyStringObject), cut to fit. */
static void read_name(py_proc *py, uint64_t addr, char *o, size_t cap)
{
	const struct py_layout *L = &py->L;
	struct obj ob;
	snprintf(o, cap, "?");
	if (read_obj(py, addr, &ob) != LP_OK)
		return;
	size_t n = 0;
	if (L->major == 2) {
		int64_t len = GET_MEMBER(int64_t, ob.h, L->bytes_len);
		if (!(ob.flags & TPF_BYTES) || len < 0)
			return;
		n = len >= (int64_t)cap ? cap - 1 : (size_t)len;
		if (rd(py, addr + L->bytes_data, o, n) != LP_OK)
			n = 0;
	} else {
		/* identifiers are ASCII nearly always; others show as '?' */
		uint32_t state = GET_MEMBER(uint32_t, ob.h, L->uni_state);
		int64_t len = GET_MEMBER(int64_t, ob.h, L->uni_len);
		if (!(ob.flags & TPF_UNICODE) || len < 0 ||
		    !((state >> L->uni_compact_bit) & 1) ||
		    !((state >> L->uni_ascii_bit) & 1))
			return;
		n = len >= (int64_t)cap ? cap - 1 : (size_t)len;
		if (rd(py, addr + L->uni_ascii_size, o, n) != LP_OK)
			n = 0;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)o[i] < 0x20 || (unsigned char)o[i] >= 0x7f)
			o[i] = '?';
	o[n] = 0;
	if (n == 0)
		snprintf(o, cap, "?");
}

/* ---- a frame ---- */

int py_frame_locals(py_proc *py, const struct py_frame *f,
		    struct py_local *out, size_t max, size_t *n,
		    bool *frame_changed, lp_error *err)
{
	const struct py_layout *L = &py->L;
	*n = 0;
	*frame_changed = false;
	uint32_t names_off = modern(L) ? L->co_localsplusnames : L->co_varnames;
	if (!names_off || !L->tp_name || !L->fr_localsplus)
		return lp_error_set(err, LP_EUNSUPPORTED, "CPython %d.%d: no "
				    "layout to read local variables with",
				    L->major, L->minor);
	if (!f->addr || !f->code_addr)
		return LP_OK;
	uint8_t w[8];
	uint64_t names, kinds = 0, code;
	int rc;
	size_t count;
	uint64_t items[MAX_PY_LOCALS], vals[MAX_PY_LOCALS], again[MAX_PY_LOCALS];
	uint8_t kind[MAX_PY_LOCALS];
	size_t slot[MAX_PY_LOCALS];	/* out[k]'s value slot */
	if ((rc = rd(py, f->addr + L->fr_code, w, 8)) != LP_OK)
		goto fail;
	code = untag(L, GET_MEMBER(uint64_t, w, 0));
	if (code != f->code_addr) {
		*frame_changed = true;
		return LP_OK;
	}
	/* The names: one tuple from 3.11; up to 3.10 the locals', then
	 * the cells' and the free variables', whose slots follow. */
	uint32_t tuples[3] = { names_off, 0, 0 };
	if (!modern(L)) {
		tuples[1] = L->co_cellvars;
		tuples[2] = L->co_freevars;
	}
	count = 0;
	for (int t = 0; t < 3 && tuples[t] && count < MAX_PY_LOCALS; t++) {
		if ((rc = rd(py, code + tuples[t], w, 8)) != LP_OK)
			goto fail;
		names = GET_MEMBER(uint64_t, w, 0);
		if ((rc = rd(py, names + L->ob_size, w, 8)) != LP_OK)
			goto fail;
		int64_t nnames = GET_MEMBER(int64_t, w, 0);
		if (nnames <= 0)
			continue;
		size_t take = MAX_PY_LOCALS - count;
		if ((uint64_t)nnames < take)
			take = (size_t)nnames;
		rc = rd(py, names + L->tuple_items, items + count, take * 8);
		if (rc != LP_OK)
			goto fail;
		count += take;
	}
	if (count == 0)
		return LP_OK;
	if (modern(L)) {
		if ((rc = rd(py, code + L->co_localspluskinds, w, 8)) != LP_OK)
			goto fail;
		kinds = GET_MEMBER(uint64_t, w, 0);
	}
	memset(kind, 0, sizeof kind);
	if (kinds && (rc = rd(py, kinds + L->bytes_data, kind, count)) != LP_OK)
		goto fail;
	if ((rc = rd(py, f->addr + L->fr_localsplus, vals, count * 8)) != LP_OK)
		goto fail;
	for (size_t i = 0; i < count && *n < max; i++) {
		if (kind[i] & CO_FAST_HIDDEN)
			continue;
		uint64_t v = untag(L, vals[i]);
		if (!v)
			continue;	/* not bound yet */
		struct py_local *l = &out[*n];
		memset(l, 0, sizeof *l);
		read_name(py, items[i], l->name, sizeof l->name);
		/* 2.7 keeps an argument that a closure shares both in its
		 * slot and in its cell: one of them is shown */
		bool dup = false;
		for (size_t k = 0; k < *n && !dup; k++)
			dup = strcmp(out[k].name, l->name) == 0;
		if (dup)
			continue;
		if ((rc = render(py, v, l, 0)) != LP_OK)
			goto fail;
		slot[(*n)++] = i;
	}
	/* Read again: a frame that runs other code now, or a slot that
	 * holds another object, makes what was rendered from it stale. */
	if ((rc = rd(py, f->addr + L->fr_code, w, 8)) != LP_OK)
		goto fail;
	if (untag(L, GET_MEMBER(uint64_t, w, 0)) != code) {
		*n = 0;
		*frame_changed = true;
		return LP_OK;
	}
	if ((rc = rd(py, f->addr + L->fr_localsplus, again, count * 8)) != LP_OK)
		goto fail;
	for (size_t k = 0; k < *n; k++) {
		if (again[slot[k]] != vals[slot[k]]) {
			out[k].type[0] = 0;
			snprintf(out[k].repr, sizeof out[k].repr, "<changed>");
		}
	}
	return LP_OK;
fail:
	if (fatal(rc))
		return lp_error_set(err, rc, "the process is gone");
	/* the frame was popped under the read, or its code freed */
	*n = 0;
	*frame_changed = true;
	return LP_OK;
}
