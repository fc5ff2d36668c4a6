/* ELF files of the target, read once with libelf and copied into flat
 * arrays: after elf_file_open returns, neither the file nor the Elf handle is
 * kept, so a cached elf_file costs no descriptor and no mapping, and a file
 * replaced on disk later cannot change what we index. */
#include "elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "demangle.h"

/* Symbols looked at before the nearest one when it does not cover an
 * address; nesting deeper than this is not resolved. */
enum { ELF_NESTED_LOOKBACK = 4 };

/* dnames[] mark of a name that stays as it is. */
static char no_demangled;
#define NO_DEMANGLED (&no_demangled)

/* One symbol as read from .symtab / .dynsym (aliases included). */
struct raw_sym {
	uint64_t addr, size;
	uint64_t sec_end;	/* end of its section: bound of a size-0 symbol */
	uint32_t name;		/* offset in names */
	uint8_t global;		/* STB_GLOBAL or STB_WEAK */
};

/* A program header PT_LOAD, for the load bias. */
struct load_seg {
	uint64_t offset, vaddr, filesz;
	uint32_t flags;		/* PF_* */
};

struct section {
	uint32_t name;		/* offset in names */
	uint64_t addr, size;
};

struct elf_file {
	char build_id[2 * MAX_BUILD_ID_LEN + 1];
	bool is_dyn;
	bool has_symtab;	/* a .symtab, not only .dynsym */

	/* Address index: starts[] alone is binary searched (dense, cache
	 * friendly); ends[] and snames[] are read only for the hit. */
	uint64_t *starts, *ends;
	uint32_t *snames;
	size_t naddr;
	/* Demangled names by address index, made at the first lookup that
	 * hits the symbol (never per sample): NULL not tried yet, NO_DEMANGLED
	 * when the name is not mangled; allocated at the first such lookup. */
	char **dnames;

	/* Every symbol (aliases too) for find by name: an open-addressing
	 * table of indices into syms, size a power of two. */
	struct raw_sym *syms;
	size_t nsyms;
	uint32_t *hash;
	size_t hash_mask;

	struct load_seg *loads;
	size_t nloads;
	struct section *sections;
	size_t nsections;

	char *names;		/* every name, NUL-terminated */
	size_t names_len, names_cap;
};

static int add_name(elf_file *f, const char *s, size_t len, uint32_t *off)
{
	if (f->names_len + len + 1 > UINT32_MAX)
		return LP_ENOMEM;
	if (f->names_len + len + 1 > f->names_cap) {
		size_t cap = f->names_cap ? f->names_cap * 2 : 4096;
		while (cap < f->names_len + len + 1)
			cap *= 2;
		char *n = realloc(f->names, cap);
		if (!n)
			return LP_ENOMEM;
		f->names = n;
		f->names_cap = cap;
	}
	memcpy(f->names + f->names_len, s, len);
	f->names[f->names_len + len] = '\0';
	*off = (uint32_t)f->names_len;
	f->names_len += len + 1;
	return LP_OK;
}

/* FNV-1a: short names, no need for anything stronger. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

void elf_file_free(elf_file *f)
{
	if (!f)
		return;
	free(f->starts);
	free(f->ends);
	free(f->snames);
	if (f->dnames) {
		for (size_t i = 0; i < f->naddr; i++)
			if (f->dnames[i] != NO_DEMANGLED)
				free(f->dnames[i]);
		free(f->dnames);
	}
	free(f->syms);
	free(f->hash);
	free(f->loads);
	free(f->sections);
	free(f->names);
	free(f);
}

static int bad(lp_error *err, const char *name, const char *what)
{
	return lp_error_set(err, LP_EFORMAT, "%s: not a valid ELF file (%s)",
			    name, what);
}

/* The headers libelf parses lazily are checked against the file size first:
 * a truncated file must be LP_EFORMAT, never a read past the mapping. */
static int check_layout(Elf *e, const GElf_Ehdr *eh, uint64_t fsize,
			const char *name, lp_error *err)
{
	size_t shnum, phnum;
	if (eh->e_ehsize > fsize)
		return bad(err, name, "truncated ELF header");
	if (elf_getshdrnum(e, &shnum) != 0)
		return bad(err, name, elf_errmsg(-1));
	if (elf_getphdrnum(e, &phnum) != 0)
		return bad(err, name, elf_errmsg(-1));
	if (shnum > MAX_ELF_SECTIONS || phnum > MAX_ELF_SECTIONS)
		return bad(err, name, "too many headers");
	/* libelf quietly counts 0 sections when their table lies past the
	 * end of a truncated file: compare with what the header says (0 in
	 * e_shnum means "in section 0" only when e_shoff is set, gABI). */
	if (eh->e_shoff && eh->e_shnum && shnum != eh->e_shnum)
		return bad(err, name, "section headers past end of file");
	if (eh->e_shoff && !shnum)
		return bad(err, name, "section headers unreadable");
	if (eh->e_phnum && eh->e_phnum != PN_XNUM && phnum != eh->e_phnum)
		return bad(err, name, "program headers past end of file");
	if (shnum && (eh->e_shoff > fsize ||
		      (uint64_t)shnum * eh->e_shentsize > fsize - eh->e_shoff))
		return bad(err, name, "section headers past end of file");
	if (phnum && (eh->e_phoff > fsize ||
		      (uint64_t)phnum * eh->e_phentsize > fsize - eh->e_phoff))
		return bad(err, name, "program headers past end of file");
	for (Elf_Scn *scn = elf_nextscn(e, NULL); scn;
	     scn = elf_nextscn(e, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return bad(err, name, elf_errmsg(-1));
		if (sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_offset > fsize || sh.sh_size > fsize - sh.sh_offset)
			return bad(err, name, "section past end of file");
	}
	return LP_OK;
}

static int read_symtab(elf_file *f, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
		       const uint64_t *sec_end, size_t shnum, size_t *cap,
		       const char *name, lp_error *err)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d)
		return bad(err, name, elf_errmsg(-1));
	if (sh->sh_entsize == 0)
		return bad(err, name, "symbol table entry size 0");
	/* n is bounded by the file size (check_layout); gelf_getsym takes an
	 * int. */
	size_t n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 1; i < n && i < INT_MAX; i++) {	/* 0 is reserved */
		GElf_Sym s;
		if (!gelf_getsym(d, (int)i, &s))
			break;
		int type = GELF_ST_TYPE(s.st_info);
		int bind = GELF_ST_BIND(s.st_info);
		/* Code and data only: NOTYPE markers (_end, __bss_start) would
		 * swallow ranges, TLS values are offsets, not addresses. */
		if (type != STT_FUNC && type != STT_OBJECT &&
		    type != STT_GNU_IFUNC)
			continue;
		if (s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE)
			continue;
		const char *nm = elf_strptr(e, sh->sh_link, s.st_name);
		if (!nm || !*nm)
			continue;
		if (f->nsyms >= MAX_ELF_SYMBOLS)
			return LP_OK;	/* keep what fits */
		if (s.st_shndx >= shnum)
			continue;
		if (f->nsyms == *cap) {
			size_t c = *cap ? *cap * 2 : 1024;
			struct raw_sym *v = realloc(f->syms, c * sizeof *v);
			if (!v)
				return lp_error_set(err, LP_ENOMEM,
						    "out of memory");
			f->syms = v;
			*cap = c;
		}
		struct raw_sym *r = &f->syms[f->nsyms];
		/* binutils writes versioned names into .symtab
		 * ("clock_nanosleep@GLIBC_2.2.5"); the version is noise in a
		 * stack and would hide the plain name from find. */
		size_t len = strnlen(nm, MAX_SYMBOL_NAME_LEN);
		const char *at = memchr(nm, '@', len);
		if (at && at > nm)
			len = (size_t)(at - nm);
		if (add_name(f, nm, len, &r->name) != LP_OK)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		r->addr = s.st_value;
		r->size = s.st_size;
		r->sec_end = sec_end[s.st_shndx];
		r->global = bind == STB_GLOBAL || bind == STB_WEAK;
		f->nsyms++;
	}
	return LP_OK;
}

/* Address order; at one address the best name first: global over local,
 * sized over size 0 (aliases like __GI_memcpy vs memcpy). */
static int raw_cmp(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->global != y->global)
		return x->global ? -1 : 1;
	if ((x->size != 0) != (y->size != 0))
		return x->size ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

static int build_indexes(elf_file *f)
{
	if (f->nsyms)
		qsort(f->syms, f->nsyms, sizeof *f->syms, raw_cmp);
	size_t n = f->nsyms ? f->nsyms : 1;
	f->starts = malloc(n * sizeof *f->starts);
	f->ends = malloc(n * sizeof *f->ends);
	f->snames = malloc(n * sizeof *f->snames);
	size_t hsize = 16;
	while (hsize < 2 * n)
		hsize *= 2;
	f->hash = malloc(hsize * sizeof *f->hash);
	if (!f->starts || !f->ends || !f->snames || !f->hash)
		return LP_ENOMEM;
	f->hash_mask = hsize - 1;
	memset(f->hash, 0xff, hsize * sizeof *f->hash);

	size_t k = 0;
	for (size_t i = 0; i < f->nsyms; i++) {
		const struct raw_sym *r = &f->syms[i];
		if (k && f->starts[k - 1] == r->addr)
			continue;	/* the best one at this address is in */
		/* A size-0 symbol reaches to the next symbol but never past
		 * its section; a sized one keeps its own extent. */
		if (k && f->ends[k - 1] > r->addr &&
		    f->syms[f->snames[k - 1]].size == 0)
			f->ends[k - 1] = r->addr;
		f->starts[k] = r->addr;
		f->ends[k] = r->size ? r->addr + r->size : r->sec_end;
		if (f->ends[k] <= r->addr)
			f->ends[k] = r->addr + 1;
		f->snames[k] = (uint32_t)i;	/* index into syms for now */
		k++;
	}
	for (size_t i = 0; i < k; i++)
		f->snames[i] = f->syms[f->snames[i]].name;
	f->naddr = k;

	/* Name table over every symbol, aliases included; of namesakes (a
	 * static function in two files, a local and a global) the global
	 * wins, else the lowest address. */
	for (size_t i = 0; i < f->nsyms; i++) {
		const char *nm = f->names + f->syms[i].name;
		size_t h = name_hash(nm) & f->hash_mask;
		for (;;) {
			uint32_t cur = f->hash[h];
			if (cur == UINT32_MAX) {
				f->hash[h] = (uint32_t)i;
				break;
			}
			if (strcmp(f->names + f->syms[cur].name, nm) == 0) {
				if (!f->syms[cur].global && f->syms[i].global)
					f->hash[h] = (uint32_t)i;
				break;
			}
			h = (h + 1) & f->hash_mask;
		}
	}
	return LP_OK;
}

/* NT_GNU_BUILD_ID, from a note section or else a PT_NOTE segment (a file
 * with its sections stripped still has its program headers). */
static bool note_build_id(elf_file *f, Elf_Data *d)
{
	size_t off = 0, noff, doff;
	GElf_Nhdr nh;
	while (d && off < d->d_size &&
	       (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((const char *)d->d_buf + noff, "GNU", 4) != 0)
			continue;
		size_t len = nh.n_descsz;
		if (len == 0 || len > MAX_BUILD_ID_LEN)
			return false;
		const unsigned char *p = (const unsigned char *)d->d_buf + doff;
		static const char hex[] = "0123456789abcdef";
		for (size_t i = 0; i < len; i++) {
			f->build_id[2 * i] = hex[p[i] >> 4];
			f->build_id[2 * i + 1] = hex[p[i] & 15];
		}
		f->build_id[2 * len] = '\0';
		return true;
	}
	return false;
}

static int index_elf(elf_file *f, Elf *e, uint64_t fsize, const char *name,
		     lp_error *err)
{
	if (elf_kind(e) != ELF_K_ELF)
		return bad(err, name, "not an ELF object");
	GElf_Ehdr eh;
	if (!gelf_getehdr(e, &eh))
		return bad(err, name, elf_errmsg(-1));
	int rc = check_layout(e, &eh, fsize, name, err);
	if (rc != LP_OK)
		return rc;
	f->is_dyn = eh.e_type == ET_DYN;

	size_t shstrndx;
	if (elf_getshdrstrndx(e, &shstrndx) != 0)
		shstrndx = 0;
	size_t shnum = 0, phnum = 0;
	elf_getshdrnum(e, &shnum);
	elf_getphdrnum(e, &phnum);

	f->loads = calloc(phnum ? phnum : 1, sizeof *f->loads);
	f->sections = calloc(shnum ? shnum : 1, sizeof *f->sections);
	if (!f->loads || !f->sections)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			return bad(err, name, elf_errmsg(-1));
		if (ph.p_type == PT_LOAD)
			f->loads[f->nloads++] = (struct load_seg){
				ph.p_offset, ph.p_vaddr, ph.p_filesz,
				ph.p_flags };
	}

	/* Pass 1: section names and extents (sec_end bounds size-0 symbols,
	 * indexed by section number as st_shndx is). */
	uint64_t *sec_end = calloc(shnum ? shnum : 1, sizeof *sec_end);
	if (!sec_end)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (Elf_Scn *scn = elf_nextscn(e, NULL); scn;
	     scn = elf_nextscn(e, scn)) {
		GElf_Shdr sh;
		size_t ndx = elf_ndxscn(scn);
		if (!gelf_getshdr(scn, &sh)) {
			rc = bad(err, name, elf_errmsg(-1));
			goto out;
		}
		if (ndx < shnum)
			sec_end[ndx] = sh.sh_addr + sh.sh_size;
		const char *sn = shstrndx ? elf_strptr(e, shstrndx, sh.sh_name)
					  : NULL;
		if (sn && f->nsections < shnum) {
			struct section *s = &f->sections[f->nsections];
			if (add_name(f, sn, strnlen(sn, MAX_SYMBOL_NAME_LEN),
				     &s->name) != LP_OK) {
				rc = lp_error_set(err, LP_ENOMEM,
						  "out of memory");
				goto out;
			}
			s->addr = sh.sh_addr;
			s->size = sh.sh_size;
			f->nsections++;
		}
	}
	/* Pass 2: symbols and the build-id note. */
	size_t symcap = 0;
	bool have_id = false;
	for (Elf_Scn *scn = elf_nextscn(e, NULL); scn;
	     scn = elf_nextscn(e, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh)) {
			rc = bad(err, name, elf_errmsg(-1));
			goto out;
		}
		if (sh.sh_type == SHT_SYMTAB)
			f->has_symtab = true;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			rc = read_symtab(f, e, scn, &sh, sec_end, shnum,
					 &symcap, name, err);
			if (rc != LP_OK)
				goto out;
		} else if (sh.sh_type == SHT_NOTE && !have_id) {
			have_id = note_build_id(f, elf_getdata(scn, NULL));
		}
	}
	for (size_t i = 0; i < phnum && !have_id; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset)
			continue;
		have_id = note_build_id(f, elf_getdata_rawchunk(
				e, (int64_t)ph.p_offset, ph.p_filesz,
				ELF_T_NHDR));
	}
	rc = LP_OK;
	if (build_indexes(f) != LP_OK)
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
out:
	free(sec_end);
	return rc;
}

int elf_file_open_fd(elf_file **out, int fd, const char *name, lp_error *err)
{
	*out = NULL;
	struct stat st;
	if (fstat(fd, &st) != 0)
		return lp_error_set(err, lp_from_errno(errno),
				    "cannot stat %s: %s", name,
				    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bad(err, name, "not a regular file");
	/* Setting the version is idempotent and cheap; doing it here keeps
	 * the module free of a global "initialised" flag. */
	if (elf_version(EV_CURRENT) == EV_NONE)
		return lp_error_set(err, LP_EUNSUPPORTED,
				    "libelf is too old for this system");
	elf_file *f = calloc(1, sizeof *f);
	if (!f)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	int rc;
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e) {
		rc = bad(err, name, elf_errmsg(-1));
		goto fail_free;
	}
	rc = index_elf(f, e, (uint64_t)st.st_size, name, err);
	if (rc != LP_OK)
		goto fail_end;
	elf_end(e);
	*out = f;
	return LP_OK;

fail_end:
	elf_end(e);
fail_free:
	elf_file_free(f);
	return rc;
}

int elf_file_open_mem(elf_file **out, const void *image, size_t len,
		      const char *name, lp_error *err)
{
	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return lp_error_set(err, LP_EUNSUPPORTED,
				    "libelf is too old for this system");
	/* elf_memory wants a writable buffer; a copy also frees the caller
	 * from keeping image alive while libelf reads it. */
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	memcpy(copy, image, len);
	int rc;
	elf_file *f = calloc(1, sizeof *f);
	if (!f) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto fail_copy;
	}
	Elf *e = elf_memory(copy, len);
	if (!e) {
		rc = bad(err, name, elf_errmsg(-1));
		goto fail_free;
	}
	rc = index_elf(f, e, len, name, err);
	elf_end(e);
	if (rc != LP_OK)
		goto fail_free;
	free(copy);
	*out = f;
	return LP_OK;

fail_free:
	elf_file_free(f);
fail_copy:
	free(copy);
	return rc;
}

int elf_file_open(elf_file **out, const char *path, lp_error *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lp_error_set(err, lp_from_errno(errno),
				    "cannot open %s: %s", path,
				    strerror(errno));
	int rc = elf_file_open_fd(out, fd, path, err);
	close(fd);
	return rc;
}

const char *elf_file_build_id(const elf_file *f)
{
	return f->build_id;
}

int elf_file_is_dyn(const elf_file *f)
{
	return f->is_dyn;
}

int elf_file_has_symtab(const elf_file *f)
{
	return f->has_symtab;
}

void elf_file_take_loads(elf_file *dst, elf_file *src)
{
	struct load_seg *v = dst->loads;
	size_t n = dst->nloads;
	dst->loads = src->loads;
	dst->nloads = src->nloads;
	dst->is_dyn = src->is_dyn;
	src->loads = v;
	src->nloads = n;
}

/* Index in starts[] of the symbol covering vaddr, or -1. */
static ssize_t lookup_index(const elf_file *f, uint64_t vaddr)
{
	/* Last start <= vaddr. */
	size_t lo = 0, hi = f->naddr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->starts[mid] <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The nearest start usually covers vaddr; else a sized symbol just
	 * before it may contain it (an object nesting smaller ones). */
	for (size_t k = 0; k < ELF_NESTED_LOOKBACK && lo > 0; k++, lo--)
		if (vaddr < f->ends[lo - 1])
			return (ssize_t)lo - 1;
	return -1;
}

int elf_file_lookup(const elf_file *f, uint64_t vaddr, const char **name,
		    uint64_t *offset)
{
	ssize_t i = lookup_index(f, vaddr);
	if (i < 0)
		return LP_ENOTFOUND;
	*name = f->names + f->snames[i];
	*offset = vaddr - f->starts[i];
	return LP_OK;
}

int elf_file_lookup_demangled(elf_file *f, uint64_t vaddr, const char **name,
			      uint64_t *offset)
{
	ssize_t i = lookup_index(f, vaddr);
	if (i < 0)
		return LP_ENOTFOUND;
	const char *raw = f->names + f->snames[i];
	*name = raw;
	*offset = vaddr - f->starts[i];
	if (!f->dnames) {
		if (raw[0] != '_' || (raw[1] != 'Z' && raw[1] != 'R'))
			return LP_OK;	/* a C name: no table for C files */
		f->dnames = calloc(f->naddr, sizeof *f->dnames);
		if (!f->dnames)
			return LP_OK;	/* the raw name, as with no demangler */
	}
	if (!f->dnames[i]) {
		char *d = lp_demangle(raw);
		f->dnames[i] = d ? d : NO_DEMANGLED;
	}
	if (f->dnames[i] != NO_DEMANGLED)
		*name = f->dnames[i];
	return LP_OK;
}

int elf_file_find_symbol(const elf_file *f, const char *name, uint64_t *vaddr,
			 uint64_t *size)
{
	size_t h = name_hash(name) & f->hash_mask;
	for (size_t probes = 0; probes <= f->hash_mask; probes++) {
		uint32_t cur = f->hash[h];
		if (cur == UINT32_MAX)
			break;
		if (strcmp(f->names + f->syms[cur].name, name) == 0) {
			*vaddr = f->syms[cur].addr;
			if (size)
				*size = f->syms[cur].size;
			return LP_OK;
		}
		h = (h + 1) & f->hash_mask;
	}
	return LP_ENOTFOUND;
}

/* A PT_LOAD maps file offset p_offset at p_vaddr + bias, and the kernel
 * maps whole pages (p_vaddr ≡ p_offset mod page size, System V gABI
 * "Program Loading"), so a mapping (start, offset) inside that segment has
 *	start - offset == p_vaddr + bias - p_offset
 * hence bias = start - offset - (p_vaddr - p_offset); 0 for non-PIE. */
static int pick_bias(const struct load_seg *loads, size_t nloads, bool is_dyn,
		     const struct map_entry *m, uint64_t *bias)
{
	const uint64_t page = 4096;
	/* ET_EXEC is loaded at its link addresses. */
	if (!is_dyn) {
		*bias = 0;
		return LP_OK;
	}
	const struct load_seg *best = NULL;
	int best_score = -1;
	for (size_t i = 0; i < nloads; i++) {
		const struct load_seg *s = &loads[i];
		uint64_t lo = s->offset & ~(page - 1);
		if (m->offset < lo || m->offset >= s->offset + s->filesz)
			continue;
		/* Two segments may share a file page (end of text, start of
		 * data): the one whose rights match the mapping wins. */
		int score = 0;
		if (!!(s->flags & PF_X) == !!(m->perms & MAP_PERM_X))
			score += 2;
		if (!!(s->flags & PF_W) == !!(m->perms & MAP_PERM_W))
			score += 1;
		if (score > best_score) {
			best = s;
			best_score = score;
		}
	}
	if (!best)
		return LP_ENOTFOUND;
	*bias = m->start - m->offset - (best->vaddr - best->offset);
	return LP_OK;
}

int elf_file_load_bias(const elf_file *f, const struct map_entry *m,
		       uint64_t *bias)
{
	return pick_bias(f->loads, f->nloads, f->is_dyn, m, bias);
}

/* ---- modules mapped in a target ------------------------------------------ */

int elf_path_deleted(const char *path)
{
	static const char tag[] = " (deleted)";
	size_t n = strlen(path), t = sizeof tag - 1;
	return n >= t && strcmp(path + n - t, tag) == 0;
}

int elf_open_mapped(int procfd, const struct map_entry *e, int *fd)
{
	char rel[MAX_PATH_LEN + 8];
	bool mismatch = false;
	*fd = -1;
	if (!e->deleted && !elf_path_deleted(e->path) &&
	    (size_t)snprintf(rel, sizeof rel, "root%s", e->path) < sizeof rel) {
		int f = openat(procfd, rel, O_RDONLY | O_CLOEXEC);
		if (f >= 0) {
			struct stat st;
			if (fstat(f, &st) == 0 &&
			    (e->inode == 0 || st.st_ino == e->inode)) {
				*fd = f;
				return LP_OK;
			}
			mismatch = true;
			close(f);
		}
	}
	snprintf(rel, sizeof rel, "map_files/%llx-%llx",
		 (unsigned long long)e->start, (unsigned long long)e->end);
	int f = openat(procfd, rel, O_RDONLY | O_CLOEXEC);
	if (f >= 0) {
		*fd = f;
		return LP_OK;
	}
	/* A file replaced on disk (package upgrade) would give wrong names
	 * and wrong unwind tables: better none, as perf does for a build-id
	 * mismatch. */
	return mismatch ? LP_EFORMAT : lp_from_errno(errno);
}

/* Program headers cap: a file claiming more is not read further. */
#define MAX_PHDRS 4096
/* PT_LOAD segments kept for the bias; real modules have 2 to 5. */
#define MAX_EH_LOADS 16

static int eh_frame_hdr(Elf *e, const struct map_entry *m, uint64_t *addr,
			uint64_t *size)
{
	GElf_Ehdr eh;
	size_t nph;
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    elf_getphdrnum(e, &nph))
		return LP_EFORMAT;
	struct load_seg loads[MAX_EH_LOADS];
	size_t nloads = 0;
	GElf_Phdr hdr = { 0 };
	bool have_hdr = false;
	for (size_t i = 0; i < nph && i < MAX_PHDRS; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			continue;
		if (ph.p_type == PT_GNU_EH_FRAME) {
			hdr = ph;
			have_hdr = true;
		} else if (ph.p_type == PT_LOAD && nloads < MAX_EH_LOADS) {
			loads[nloads++] = (struct load_seg){
				.offset = ph.p_offset, .vaddr = ph.p_vaddr,
				.filesz = ph.p_filesz, .flags = ph.p_flags };
		}
	}
	uint64_t bias;
	if (!have_hdr ||
	    pick_bias(loads, nloads, eh.e_type == ET_DYN, m, &bias) != LP_OK)
		return LP_ENOTFOUND;
	*addr = bias + hdr.p_vaddr;
	*size = hdr.p_memsz;
	return LP_OK;
}

int elf_eh_frame_hdr_fd(int fd, const struct map_entry *m, uint64_t *addr,
			uint64_t *size)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return LP_EUNSUPPORTED;
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	int rc = eh_frame_hdr(e, m, addr, size);
	if (e)
		elf_end(e);
	return rc;
}

int elf_eh_frame_hdr_mem(const void *image, size_t len,
			 const struct map_entry *m, uint64_t *addr,
			 uint64_t *size)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return LP_EUNSUPPORTED;
	/* libelf takes a non-const image but only reads it (ELF_C_READ). */
	Elf *e = elf_memory((char *)(uintptr_t)image, len);
	int rc = eh_frame_hdr(e, m, addr, size);
	if (e)
		elf_end(e);
	return rc;
}

int elf_file_section(const elf_file *f, const char *name, uint64_t *vaddr,
		     uint64_t *size)
{
	for (size_t i = 0; i < f->nsections; i++) {
		if (strcmp(f->names + f->sections[i].name, name) == 0) {
			*vaddr = f->sections[i].addr;
			*size = f->sections[i].size;
			return LP_OK;
		}
	}
	return LP_ENOTFOUND;
}
