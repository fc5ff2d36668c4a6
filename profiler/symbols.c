/* Address to name for one process.  Cold path (once per mapping): open the
 * mapped file through /proc/PID/root or map_files, find or parse its ELF in
 * the cache, compute the load bias.  Hot path: a binary search over the maps,
 * the per-mapping slot, a binary search over the symbols; no system call
 * (measured 19-40 ns per lookup on this team's 2-core VM, check_symbols
 * test_speed; about 65-170 ns under ASan). */
#include "symbols.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "procfs.h"

/* ELF cache: files by (dev, inode, size, mtime) of what was opened, and by
 * build-id, so that the same library seen through two paths (two processes,
 * two mount namespaces) is parsed once. */
struct cache_key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	elf_file *elf;
};

struct elf_cache {
	unsigned refs;
	struct cache_key *keys;
	size_t nkeys, capkeys;
	elf_file **files;	/* owned */
	size_t nfiles, capfiles;
	char *debug_dir;	/* detached debug files, NULL: none */
	elf_file *vdso;		/* our own vDSO, owned; NULL if unusable */
	size_t vdso_len;
	bool vdso_tried;
};

enum slot_state { SLOT_UNKNOWN = 0, SLOT_ELF, SLOT_NOELF, SLOT_JIT };

/* What one map entry resolved to; the entry's identity is kept to notice a
 * maps struct refilled in place without symbolizer_maps_changed. */
struct map_slot {
	uint64_t start, end, offset, inode;
	enum slot_state state;
	elf_file *elf;
	uint64_t bias;
	const char *module;	/* interned */
};

struct jit_sym {
	uint64_t start, end;
	const char *name;	/* in one of jit_texts */
	uint64_t line;		/* order in the file: later wins */
};

struct symbolizer {
	pid_t pid;
	int procfd;
	pid_t nspid;		/* the pid the target knows itself by */
	elf_cache *cache;

	const struct maps *slots_for;
	size_t nslots;
	struct map_slot *slots;

	char **modules;		/* interned module names */
	size_t nmodules, capmodules;

	struct jit_sym *jit;
	size_t njit, capjit;
	uint64_t jit_lines;
	char **jit_texts;	/* every chunk read, kept for the names */
	size_t ntexts, captexts;
	off_t jit_size;		/* bytes of the perf map parsed */
	struct timespec jit_checked;
	bool jit_recheck;

	char *exe;		/* path of /proc/PID/exe, NULL until known */
	bool raw_names;		/* C++ and Rust names left mangled */
};

/* ---- ELF cache ---------------------------------------------------- */

int elf_cache_new(elf_cache **out)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return LP_ENOMEM;
	(*out)->refs = 1;
	if (elf_cache_set_debug_dir(*out, "/usr/lib/debug") != LP_OK) {
		free(*out);
		*out = NULL;
		return LP_ENOMEM;
	}
	return LP_OK;
}

int elf_cache_set_debug_dir(elf_cache *c, const char *dir)
{
	char *copy = NULL;
	if (dir && !(copy = strdup(dir)))
		return LP_ENOMEM;
	free(c->debug_dir);
	c->debug_dir = copy;
	return LP_OK;
}

/* A stripped file's full symbol table from its detached debug file, found
 * by build-id the way gdb does (DEBUGDIR/.build-id/xx/yyyy.debug, "Separate
 * Debug Files" in the gdb manual; Debian's *-dbg / *-dbgsym packages).
 * Used only when it carries the same build-id and a .symtab. */
static elf_file *debug_file(elf_cache *c, const char *id)
{
	if (!c->debug_dir || strlen(id) < 4)
		return NULL;
	char path[MAX_PATH_LEN];
	if ((size_t)snprintf(path, sizeof path, "%s/.build-id/%.2s/%s.debug",
			     c->debug_dir, id, id + 2) >= sizeof path)
		return NULL;
	elf_file *d;
	if (elf_file_open(&d, path, NULL) != LP_OK)
		return NULL;
	if (strcmp(elf_file_build_id(d), id) != 0 || !elf_file_has_symtab(d)) {
		elf_file_free(d);
		return NULL;
	}
	return d;
}

void elf_cache_free(elf_cache *c)
{
	if (!c || --c->refs > 0)
		return;
	for (size_t i = 0; i < c->nfiles; i++)
		elf_file_free(c->files[i]);
	elf_file_free(c->vdso);
	free(c->debug_dir);
	free(c->files);
	free(c->keys);
	free(c);
}

static bool same_key(const struct cache_key *k, const struct stat *st)
{
	return k->dev == st->st_dev && k->ino == st->st_ino &&
	       k->size == st->st_size &&
	       k->mtime.tv_sec == st->st_mtim.tv_sec &&
	       k->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int cache_add_key(elf_cache *c, const struct stat *st, elf_file *f)
{
	if (c->nkeys == c->capkeys) {
		size_t cap = c->capkeys ? c->capkeys * 2 : 32;
		struct cache_key *k = realloc(c->keys, cap * sizeof *k);
		if (!k)
			return LP_ENOMEM;
		c->keys = k;
		c->capkeys = cap;
	}
	c->keys[c->nkeys++] = (struct cache_key){
		st->st_dev, st->st_ino, st->st_size, st->st_mtim, f };
	return LP_OK;
}

/* Returns the cached or newly parsed ELF of an open fd; the cache owns it. */
static int cache_get(elf_cache *c, int fd, const char *name, elf_file **out,
		     lp_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return lp_error_set(err, lp_from_errno(errno),
				    "cannot stat %s: %s", name,
				    strerror(errno));
	for (size_t i = 0; i < c->nkeys; i++)
		if (same_key(&c->keys[i], &st)) {
			*out = c->keys[i].elf;
			return LP_OK;
		}
	if (c->nfiles >= MAX_ELF_CACHE)
		return lp_error_set(err, LP_EUNSUPPORTED,
				    "%s: more than %d ELF files cached", name,
				    MAX_ELF_CACHE);
	elf_file *f;
	int rc = elf_file_open_fd(&f, fd, name, err);
	if (rc != LP_OK)
		return rc;
	const char *id = elf_file_build_id(f);
	if (*id && !elf_file_has_symtab(f)) {
		elf_file *d = debug_file(c, id);
		if (d) {
			elf_file_take_loads(d, f);
			elf_file_free(f);
			f = d;
			id = elf_file_build_id(f);
		}
	}
	if (*id)
		for (size_t i = 0; i < c->nfiles; i++)
			if (strcmp(elf_file_build_id(c->files[i]), id) == 0) {
				elf_file_free(f);
				*out = c->files[i];
				cache_add_key(c, &st, *out);	/* best effort */
				return LP_OK;
			}
	if (c->nfiles == c->capfiles) {
		size_t cap = c->capfiles ? c->capfiles * 2 : 32;
		elf_file **v = realloc(c->files, cap * sizeof *v);
		if (!v) {
			elf_file_free(f);
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		}
		c->files = v;
		c->capfiles = cap;
	}
	c->files[c->nfiles++] = f;
	cache_add_key(c, &st, f);	/* without a key it is parsed again */
	*out = f;
	return LP_OK;
}

/* The kernel maps one vDSO image into every process of an ABI, so our own
 * (found by AT_SYSINFO_EHDR, getauxval(3)) names the target's [vdso]
 * frames (clock_gettime in a timing loop) without reading the target.  Its
 * extent is its section header table, which the image carries last. */
static elf_file *own_vdso(elf_cache *c, size_t *len)
{
	static const size_t max_len = 1u << 20;	/* vDSOs are 2 pages */
	if (!c->vdso_tried) {
		c->vdso_tried = true;
		const unsigned char *base =
			(const unsigned char *)getauxval(AT_SYSINFO_EHDR);
		Elf64_Ehdr eh;
		if (!base)
			return NULL;
		memcpy(&eh, base, sizeof eh);
		if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
		    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shoff > max_len ||
		    (size_t)eh.e_shnum * eh.e_shentsize > max_len - eh.e_shoff)
			return NULL;
		c->vdso_len = eh.e_shoff + (size_t)eh.e_shnum * eh.e_shentsize;
		elf_file_open_mem(&c->vdso, base, c->vdso_len, "[vdso]", NULL);
	}
	*len = c->vdso_len;
	return c->vdso;
}

/* ---- symbolizer --------------------------------------------------- */

/* The pid in the target's own pid namespace: the last field of NSpid in
 * /proc/PID/status (proc(5)); a JIT names its perf map after it. */
static pid_t read_nspid(int procfd, pid_t pid)
{
	char buf[4096];
	if (procfs_read(procfd, "status", buf, sizeof buf) <= 0)
		return pid;
	return procfs_status_nspid(buf, pid);
}

int symbolizer_new_cached(symbolizer **out, pid_t pid, int procfd,
			  elf_cache *cache)
{
	symbolizer *s = calloc(1, sizeof *s);
	if (!s)
		return LP_ENOMEM;
	if (cache) {
		cache->refs++;
	} else if (elf_cache_new(&cache) != LP_OK) {
		free(s);
		return LP_ENOMEM;
	}
	s->pid = pid;
	s->procfd = procfd;
	s->cache = cache;
	s->nspid = read_nspid(procfd, pid);
	s->jit_recheck = true;
	*out = s;
	return LP_OK;
}

int symbolizer_new(symbolizer **out, pid_t pid, int procfd)
{
	return symbolizer_new_cached(out, pid, procfd, NULL);
}

void symbolizer_free(symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmodules; i++)
		free(s->modules[i]);
	free(s->modules);
	free(s->slots);
	free(s->jit);
	for (size_t i = 0; i < s->ntexts; i++)
		free(s->jit_texts[i]);
	free(s->jit_texts);
	free(s->exe);
	elf_cache_free(s->cache);
	free(s);
}

void symbolizer_set_demangle(symbolizer *s, bool on)
{
	s->raw_names = !on;
}

void symbolizer_maps_changed(symbolizer *s)
{
	if (s->slots)
		memset(s->slots, 0, s->nslots * sizeof *s->slots);
	s->jit_recheck = true;
}

static const char *intern_module(symbolizer *s, const char *name)
{
	for (size_t i = 0; i < s->nmodules; i++)
		if (strcmp(s->modules[i], name) == 0)
			return s->modules[i];
	if (s->nmodules == s->capmodules) {
		size_t cap = s->capmodules ? s->capmodules * 2 : 32;
		char **v = realloc(s->modules, cap * sizeof *v);
		if (!v)
			return "?";
		s->modules = v;
		s->capmodules = cap;
	}
	char *copy = strndup(name, MAX_PATH_LEN);
	if (!copy)
		return "?";
	s->modules[s->nmodules++] = copy;
	return copy;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* A file-backed mapping has an absolute path; "[heap]", "[vdso]",
 * "[anon:name]" and "" are not files. */
static bool is_file(const struct map_entry *e)
{
	return e->path && e->path[0] == '/';
}

/* Opens the file mapped at e (elf_open_mapped), the failure said. */
static int open_mapped(symbolizer *s, const struct map_entry *e, int *fd,
		       lp_error *err)
{
	int rc = elf_open_mapped(s->procfd, e, fd);
	if (rc == LP_EFORMAT)
		return lp_error_set(err, LP_EFORMAT,
				    "%s changed on disk since PID %d mapped it",
				    e->path, (int)s->pid);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "cannot open %s of PID %d: %s",
				    e->path, (int)s->pid, strerror(errno));
	return LP_OK;
}

static int elf_of_entry(symbolizer *s, const struct map_entry *e,
			elf_file **out, lp_error *err)
{
	if (!is_file(e))
		return lp_error_set(err, LP_ENOTFOUND, "%s is not a file",
				    e->path ? e->path : "");
	int fd;
	int rc = open_mapped(s, e, &fd, err);
	if (rc != LP_OK)
		return rc;
	rc = cache_get(s->cache, fd, e->path, out, err);
	close(fd);
	return rc;
}

int symbolizer_elf(symbolizer *s, const struct map_entry *m, elf_file **out,
		   uint64_t *bias)
{
	int rc = elf_of_entry(s, m, out, NULL);
	if (rc != LP_OK)
		return rc;
	return elf_file_load_bias(*out, m, bias);
}

static bool same_file(const struct map_entry *a, const struct map_entry *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && strcmp(a->path, b->path) == 0;
}

static void slots_sync(symbolizer *s, const struct maps *m)
{
	if (s->slots_for == m && s->nslots == m->n)
		return;
	struct map_slot *v = calloc(m->n ? m->n : 1, sizeof *v);
	if (!v)
		return;		/* resolve again next time */
	free(s->slots);
	s->slots = v;
	s->nslots = m->n;
	s->slots_for = m;
	s->jit_recheck = true;
}

static void resolve_slot(symbolizer *s, const struct maps *m, size_t i,
			 struct map_slot *slot)
{
	const struct map_entry *e = &m->v[i];
	slot->start = e->start;
	slot->end = e->end;
	slot->offset = e->offset;
	slot->inode = e->inode;
	slot->elf = NULL;
	slot->bias = 0;
	const char *path = e->path ? e->path : "";
	size_t vlen;
	elf_file *vdso;
	if (strcmp(path, "[vdso]") == 0 &&
	    (vdso = own_vdso(s->cache, &vlen)) != NULL &&
	    vlen <= e->end - e->start &&
	    elf_file_load_bias(vdso, e, &slot->bias) == LP_OK) {
		slot->module = intern_module(s, path);
		slot->elf = vdso;
		slot->state = SLOT_ELF;
		return;
	}
	if (!is_file(e)) {
		bool anon = path[0] == '\0' || strncmp(path, "[anon:", 6) == 0;
		slot->module = intern_module(s, path[0] ? path : "[anon]");
		slot->state = anon && (e->perms & MAP_PERM_X) ? SLOT_JIT
							      : SLOT_NOELF;
		return;
	}
	/* "libfoo.so (deleted)" after an upgrade is still libfoo.so. */
	char base[MAX_PATH_LEN];
	snprintf(base, sizeof base, "%s", base_name(path));
	if (elf_path_deleted(base))
		base[strlen(base) - strlen(" (deleted)")] = '\0';
	slot->module = intern_module(s, base);
	slot->state = SLOT_NOELF;
	elf_file *f;
	if (elf_of_entry(s, e, &f, NULL) != LP_OK)
		return;
	/* The bias is computed on the file's first mapping (offset 0 maps the
	 * first PT_LOAD alone), which cannot straddle two segments. */
	size_t first = i;
	for (size_t k = 0; k < 64 && first > 0; k++) {
		if (!same_file(&m->v[first - 1], e))
			break;
		first--;
	}
	if (elf_file_load_bias(f, &m->v[first], &slot->bias) != LP_OK &&
	    elf_file_load_bias(f, e, &slot->bias) != LP_OK)
		return;
	slot->elf = f;
	slot->state = SLOT_ELF;
}

static ssize_t find_entry(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= m->v[lo - 1].end)
		return -1;
	return (ssize_t)(lo - 1);
}

static struct map_slot *slot_at(symbolizer *s, const struct maps *m, size_t i,
				struct map_slot *scratch)
{
	slots_sync(s, m);
	struct map_slot *slot = s->slots_for == m ? &s->slots[i] : scratch;
	const struct map_entry *e = &m->v[i];
	if (slot->state == SLOT_UNKNOWN || slot->start != e->start ||
	    slot->end != e->end || slot->offset != e->offset ||
	    slot->inode != e->inode)
		resolve_slot(s, m, i, slot);
	return slot;
}

/* ---- /tmp/perf-PID.map -------------------------------------------- */

static int jit_cmp(const void *a, const void *b)
{
	const struct jit_sym *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Adds the complete lines of text, "START SIZE name" in hex without 0x
 * (perf's tools/perf/Documentation/jit-interface.txt). */
static int jit_parse(symbolizer *s, char *text, size_t len)
{
	char *p = text, *end = text + len;
	while (p < end && s->njit < MAX_PERF_MAP_ENTRIES) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		*eol = '\0';
		char *q, *r = NULL;
		unsigned long long start = strtoull(p, &q, 16);
		unsigned long long size = q != p ? strtoull(q, &r, 16) : 0;
		if (r && r != q && *r == ' ' && size > 0 &&
		    start + size > start) {
			if (s->njit == s->capjit) {
				size_t cap = s->capjit ? s->capjit * 2 : 256;
				struct jit_sym *v =
					realloc(s->jit, cap * sizeof *v);
				if (!v)
					return LP_ENOMEM;
				s->jit = v;
				s->capjit = cap;
			}
			r++;
			if (strlen(r) > MAX_SYMBOL_NAME_LEN)
				r[MAX_SYMBOL_NAME_LEN] = '\0';
			s->jit[s->njit++] = (struct jit_sym){
				start, start + size, r, s->jit_lines++ };
		}
		p = eol + 1;
	}
	qsort(s->jit, s->njit, sizeof *s->jit, jit_cmp);
	/* Of entries at one address the latest line wins (code re-JITted). */
	size_t k = 0;
	for (size_t i = 0; i < s->njit; i++) {
		if (k && s->jit[k - 1].start == s->jit[i].start)
			k--;
		s->jit[k++] = s->jit[i];
	}
	s->njit = k;
	return LP_OK;
}

static void jit_forget(symbolizer *s)
{
	s->njit = 0;
	s->jit_size = 0;
}

/* A JIT appends to its perf map: only the new complete lines are read, and
 * every text read is kept (names handed out stay valid until
 * symbolizer_free).  A file that shrank was rewritten: read it again. */
static void jit_refresh(symbolizer *s)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);	/* vDSO, no syscall */
	if (!s->jit_recheck && now.tv_sec - s->jit_checked.tv_sec < 1)
		return;
	s->jit_recheck = false;
	s->jit_checked = now;
	char rel[64];
	snprintf(rel, sizeof rel, "root/tmp/perf-%d.map", (int)s->nspid);
	int fd = openat(s->procfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_PERF_MAP_BYTES || st.st_size == s->jit_size)
		goto out;
	if (st.st_size < s->jit_size)
		jit_forget(s);
	size_t want = (size_t)(st.st_size - s->jit_size);
	if (s->ntexts == s->captexts) {
		size_t cap = s->captexts ? s->captexts * 2 : 8;
		char **v = realloc(s->jit_texts, cap * sizeof *v);
		if (!v)
			goto out;
		s->jit_texts = v;
		s->captexts = cap;
	}
	char *text = malloc(want + 1);
	if (!text)
		goto out;
	size_t got = 0;
	while (got < want) {
		ssize_t r = pread(fd, text + got, want - got,
				  s->jit_size + (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	/* A line still being written is left for the next read. */
	while (got > 0 && text[got - 1] != '\n')
		got--;
	if (got == 0) {
		free(text);
		goto out;
	}
	text[got] = '\0';
	s->jit_texts[s->ntexts++] = text;
	s->jit_size += (off_t)got;
	jit_parse(s, text, got);
out:
	close(fd);
}

static const char *jit_lookup(const symbolizer *s, uint64_t addr,
			      uint64_t *off)
{
	size_t lo = 0, hi = s->njit;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->jit[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= s->jit[lo - 1].end)
		return NULL;
	*off = addr - s->jit[lo - 1].start;
	return s->jit[lo - 1].name;
}

/* ---- lookups ------------------------------------------------------ */

int symbolizer_lookup(symbolizer *s, const struct maps *m, uint64_t addr,
		      struct symbol_info *out)
{
	out->func = NULL;
	out->func_offset = 0;
	ssize_t i = find_entry(m, addr);
	if (i < 0) {
		out->module = "[unknown]";
		out->module_offset = addr;
		return LP_ENOTFOUND;
	}
	const struct map_entry *e = &m->v[i];
	struct map_slot scratch = { 0 };
	struct map_slot *slot = slot_at(s, m, (size_t)i, &scratch);
	out->module = slot->module;
	out->module_offset = addr - e->start + e->offset;
	if (slot->state == SLOT_ELF) {
		if ((s->raw_names ?
		     elf_file_lookup(slot->elf, addr - slot->bias, &out->func,
				     &out->func_offset) :
		     elf_file_lookup_demangled(slot->elf, addr - slot->bias,
					       &out->func,
					       &out->func_offset)) != LP_OK)
			out->func = NULL;
	} else if (slot->state == SLOT_JIT) {
		jit_refresh(s);
		out->func = jit_lookup(s, addr, &out->func_offset);
	}
	if (!out->func)
		out->func_offset = 0;
	return LP_OK;
}

/* Paths equal but for a " (deleted)" suffix on a. */
static bool same_path(const char *a, const char *b)
{
	size_t n = strlen(b);
	return strncmp(a, b, n) == 0 &&
	       (a[n] == '\0' || strcmp(a + n, " (deleted)") == 0);
}

/* The path of /proc/PID/exe as the maps show it. */
static const char *exe_path(symbolizer *s)
{
	if (s->exe)
		return s->exe;
	char buf[MAX_PATH_LEN];
	ssize_t n = readlinkat(s->procfd, "exe", buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	/* maps.c strips " (deleted)" from map paths: do the same. */
	if (elf_path_deleted(buf))
		buf[n - strlen(" (deleted)")] = '\0';
	s->exe = strdup(buf);
	return s->exe;
}

int symbolizer_find(symbolizer *s, const struct maps *m,
		    const char *module_prefix, const char *name,
		    uint64_t *addr, uint64_t *size)
{
	const char *exe = module_prefix[0] ? NULL : exe_path(s);
	size_t plen = strlen(module_prefix);
	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->v[i];
		if (!is_file(e))
			continue;
		if (exe ? !same_path(e->path, exe)
			: strncmp(base_name(e->path), module_prefix, plen) != 0)
			continue;
		struct map_slot scratch = { 0 };
		struct map_slot *slot = slot_at(s, m, i, &scratch);
		if (slot->state != SLOT_ELF)
			return LP_ENOTFOUND;
		uint64_t vaddr, sz;
		int rc = elf_file_find_symbol(slot->elf, name, &vaddr, &sz);
		if (rc != LP_OK)
			return rc;
		*addr = vaddr + slot->bias;
		if (size)
			*size = sz;
		return LP_OK;
	}
	return LP_ENOTFOUND;
}
