/* Finding CPython in a target: which mapped file is the interpreter, its
 * exact version, where its runtime state is, and the layout to read it. */
#include "python/pyproc.h"

#include <ctype.h>
#include <limits.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "error.h"
#include "libc_cond.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* "python3.11", "libpython3.11.so.1.0", "python2.7": major/minor from the
 * name; 0 when the name does not say (e.g. "python3"). */
static void name_version(const char *name, int *major, int *minor)
{
	*major = *minor = 0;
	const char *p = strstr(name, "python");
	if (!p)
		return;
	p += 6;
	if (!isdigit((unsigned char)p[0]))
		return;
	*major = p[0] - '0';
	if (p[1] == '.' && isdigit((unsigned char)p[2]))
		*minor = (int)strtol(p + 2, NULL, 10);
}

/* "3.11.7", "3.14.0rc1" from PY_VERSION_HEX (Include/patchlevel.h). */
static void hex_version(uint64_t hex, char *out, size_t len)
{
	unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
	const char *lv = level == 0xa ? "a" : level == 0xb ? "b" :
			 level == 0xc ? "rc" : "";
	if (*lv)
		snprintf(out, len, "%u.%u.%u%s%u", (unsigned)(hex >> 24) & 0xff,
			 (unsigned)(hex >> 16) & 0xff,
			 (unsigned)(hex >> 8) & 0xff, lv, serial);
	else
		snprintf(out, len, "%u.%u.%u", (unsigned)(hex >> 24) & 0xff,
			 (unsigned)(hex >> 16) & 0xff,
			 (unsigned)(hex >> 8) & 0xff);
}

/* Bytes of read-only mappings scanned for the version string. */
#define VERSION_SCAN_MAX (16u << 20)
#define VERSION_SCAN_STEP (256u * 1024)

/* Is s (NUL-terminated in the buffer) PY_VERSION of major.minor, e.g.
 * "3.8.18", "3.10.0rc2", "2.7.18+"? */
static size_t match_version(const char *s, size_t avail, int major, int minor)
{
	char pre[16];
	int n = snprintf(pre, sizeof pre, "%d.%d.", major, minor);
	if (n <= 0 || (size_t)n >= avail || memcmp(s, pre, (size_t)n) != 0)
		return 0;
	size_t i = (size_t)n, d = 0;
	while (i < avail && isdigit((unsigned char)s[i]) && d < 3)
		i++, d++;
	if (!d)
		return 0;
	while (i < avail && i < 24 && (isalnum((unsigned char)s[i]) ||
				       s[i] == '+'))
		i++;
	return i < avail && s[i] == '\0' ? i : 0;
}

/* PY_VERSION is a string literal in the interpreter's read-only data
 * (Include/patchlevel.h, used by Py_GetVersion); find it NUL-delimited in
 * the module's non-writable mappings. */
static int scan_version(py_proc *py, const struct maps *m, const char *path,
			int major, int minor)
{
	size_t total = 0;
	char *buf = malloc(VERSION_SCAN_STEP + 1);
	if (!buf)
		return LP_ENOMEM;
	int rc = LP_ENOTFOUND;
	for (size_t i = 0; i < m->n && rc == LP_ENOTFOUND; i++) {
		const struct map_entry *e = &m->v[i];
		if (strcmp(e->path, path) != 0 || !(e->perms & MAP_PERM_R) ||
		    (e->perms & MAP_PERM_W))
			continue;
		for (uint64_t a = e->start; a < e->end && total < VERSION_SCAN_MAX;
		     a += VERSION_SCAN_STEP - 32) {
			size_t len = e->end - a < VERSION_SCAN_STEP ?
					     (size_t)(e->end - a) : VERSION_SCAN_STEP;
			if (mem_read(py->reader, a, buf, len) != LP_OK)
				break;
			total += len;
			buf[len] = '\0';
			for (size_t j = 1; j < len; j++) {
				if (buf[j - 1] != '\0' || buf[j] != (char)('0' + major))
					continue;
				size_t k = match_version(buf + j, len - j, major,
							 minor);
				if (k && k < sizeof py->version) {
					memcpy(py->version, buf + j, k);
					py->version[k] = '\0';
					rc = LP_OK;
					break;
				}
			}
			if (rc == LP_OK || len < VERSION_SCAN_STEP)
				break;
		}
	}
	free(buf);
	return rc;
}

static int find_sym(symbolizer *syms, const struct maps *m, const char *mod,
		    const char *name, uint64_t *addr);

/* Py_GetVersion() fills a static buffer "3.8.18 (default, ...) [GCC ...]"
 * at start-up (Python/getversion.c); GCC names the static "version.0" in
 * .symtab, clang "Py_GetVersion.version" (py-spy reads the same buffer).
 * Needed up to 3.10: the PY_VERSION literal is often folded into code. */
static int getversion_buffer(py_proc *py, symbolizer *syms,
			     const struct maps *m, const char *mod, int *major,
			     int *minor)
{
	static const char *const names[] = {
		"Py_GetVersion.version", "version.0", "version.1", "version.2",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		uint64_t addr;
		char buf[64];
		if (find_sym(syms, m, mod, names[i], &addr) != LP_OK || !addr ||
		    mem_read(py->reader, addr, buf, sizeof buf - 1) != LP_OK)
			continue;
		buf[sizeof buf - 1] = '\0';
		char *sp = strchr(buf, ' ');
		if (!sp || sp[1] != '(')
			continue;
		*sp = '\0';
		/* A name without the version ("python") takes it from here. */
		int maj = *major, min = *minor;
		if ((!maj || !min) && sscanf(buf, "%d.%d.", &maj, &min) != 2)
			continue;
		if ((*major && maj != *major) || (*minor && min != *minor))
			continue;
		size_t k = match_version(buf, (size_t)(sp - buf) + 1, maj, min);
		if (k && k < sizeof py->version) {
			memcpy(py->version, buf, k + 1);
			*major = maj;
			*minor = min;
			return LP_OK;
		}
	}
	return LP_ENOTFOUND;
}

static int find_sym(symbolizer *syms, const struct maps *m, const char *mod,
		    const char *name, uint64_t *addr)
{
	uint64_t size;
	return symbolizer_find(syms, m, mod, name, addr, &size);
}

/* The eval loop's entry point, so that native merge can tell its frames
 * apart.  Most builds export _PyEval_EvalFrameDefault; Debian's static
 * 3.14 hides it, but _PyInterpreterState_GetEvalFrameFunc returns it when no
 * custom eval function is set (Python/pystate.c), so its address is the one
 * code address among that short function's operands: an imm32 moved into a
 * register (non-PIE) or a rip-relative lea (PIE).  A candidate must lie in
 * an executable mapping; the sampler further checks it starts a function. */
static uint64_t find_eval_func(mem_reader *r, symbolizer *syms,
			       const struct maps *m, const char *mod)
{
	uint64_t addr = 0, size = 0;
	if (symbolizer_find(syms, m, mod, "_PyEval_EvalFrameDefault", &addr,
			    &size) == LP_OK && addr)
		return addr;
	if (symbolizer_find(syms, m, mod, "_PyInterpreterState_GetEvalFrameFunc",
			    &addr, &size) != LP_OK || !addr)
		return 0;
	uint8_t code[64];
	size_t n = size && size < sizeof code ? (size_t)size : sizeof code;
	if (mem_read(r, addr, code, n) != LP_OK)
		return 0;
	for (size_t i = 0; i + 5 <= n; i++) {
		uint64_t cand = 0;
		if (i + 7 <= n && (code[i] == 0x48 || code[i] == 0x4c) &&
		    code[i + 1] == 0x8d && (code[i + 2] & 0xc7) == 0x05) {
			int32_t disp;
			memcpy(&disp, code + i + 3, 4);
			cand = addr + i + 7 + (int64_t)disp;
		} else if (code[i] >= 0xb8 && code[i] <= 0xbf) {
			uint32_t imm;
			memcpy(&imm, code + i + 1, 4);
			cand = imm;
		}
		const struct map_entry *e = cand ? maps_find(m, cand) : NULL;
		if (e && (e->perms & MAP_PERM_X) && cand != addr)
			return cand;
	}
	return 0;
}

uint64_t py_proc_eval_func(const py_proc *py)
{
	return py->eval_func;
}

int py_proc_gc_collecting(py_proc *py, bool *collecting)
{
	uint64_t interp = 0, word = 0;
	*collecting = false;
	if (!py->L.is_gc_collecting || !py->interp_head_addr)
		return LP_EUNSUPPORTED;
	int rc = mem_read_u64(py->reader, py->interp_head_addr, &interp);
	if (rc != LP_OK)
		return rc;
	if (!interp || interp + py->L.is_gc_collecting < interp)
		return LP_EFAULT;
	/* an int: the low half of the word (little-endian targets) */
	rc = mem_read_u64(py->reader, interp + py->L.is_gc_collecting, &word);
	if (rc != LP_OK)
		return rc;
	*collecting = (uint32_t)word != 0;
	return LP_OK;
}

int py_proc_gil_waiters(py_proc *py, uint32_t *waiters)
{
	const struct py_layout *L = &py->L;
	uint64_t cond = 0, interp = 0, gil = 0;
	uint32_t word = 0;
	*waiters = 0;
	if (!py->cond_wrefs_looked) {
		py->cond_wrefs_looked = true;
		py->cond_wrefs_off = py->target ?
			libc_cond_wrefs_offset(target_procfd(py->target),
					       target_maps(py->target)) : -1;
	}
	if (py->cond_wrefs_off < 0)
		return LP_EUNSUPPORTED;
	if (L->gil == PY_GIL_RUNTIME && L->rt_gil_cond && py->runtime) {
		cond = py->runtime + L->rt_gil_cond;
	} else if (L->gil == PY_GIL_INTERP_PTR && L->gil_cond &&
		   py->interp_head_addr) {
		/* interp->ceval.gil: the GIL in use (Python/ceval_gil.c) */
		/* read with the stacks, as a sample's own words */
		int rc = py_proc_kept_read(py, py->interp_head_addr, &interp,
					   sizeof interp);
		if (rc == LP_OK && interp)
			rc = py_proc_kept_read(py, interp + L->is_gil_ptr, &gil,
					       sizeof gil);
		if (rc != LP_OK)
			return rc;
		if (!gil)
			return LP_EFAULT;
		cond = gil + L->gil_cond;
	} else {
		return LP_EUNSUPPORTED;
	}
	if (cond + (uint64_t)py->cond_wrefs_off < cond)
		return LP_EFAULT;
	int rc = py_proc_kept_read(py, cond + (uint64_t)py->cond_wrefs_off,
				   &word, sizeof word);
	if (rc != LP_OK)
		return rc;
	size_t nt = py->target ? target_nthreads(py->target) : MAX_THREADS;
	if (!libc_cond_waiters(word, nt > MAX_THREADS ? MAX_THREADS : (uint32_t)nt,
			       waiters))
		return LP_EFORMAT;
	return LP_OK;
}

/* Tries before an inferred shape is judged: a thread may be in C code
 * with no Python frame at the first look. */
#define INFER_TRIES 20

/* Whether py, read with a layout inferred for a version newer than every
 * known shape, sees what a real interpreter holds: its interpreter and
 * thread lists walk, every thread state's native thread id is a thread of
 * the target, every frame chain ends where it should, every code object
 * has one type, and names decode.  why says what failed. */
static bool infer_validates(py_proc *py, target *t, char *why, size_t len)
{
	bool seen_frame = false;
	for (int attempt = 0; attempt < INFER_TRIES && !seen_frame; attempt++) {
		struct py_thread *th;
		size_t n;
		if (attempt)
			nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
		if (py_proc_sample(py, &th, &n) != LP_OK || n == 0) {
			snprintf(why, len, "no thread state found");
			return false;
		}
		if (target_refresh_threads(t) != LP_OK) {
			snprintf(why, len, "cannot list the threads");
			return false;
		}
		uint64_t code_type = 0;
		for (size_t i = 0; i < n; i++) {
			if (th[i].tid && !target_thread_find_ns(t, th[i].tid)) {
				snprintf(why, len, "a thread state names thread "
					 "%d, which the process does not have",
					 (int)th[i].tid);
				return false;
			}
			if (th[i].truncated) {
				snprintf(why, len, "a frame chain does not end "
					 "at its base frame");
				return false;
			}
			for (size_t k = 0; k < th[i].nframes; k++) {
				const struct py_frame *f = &th[i].frames[k];
				uint64_t type;
				if (!f->func || !f->func[0] || !f->file ||
				    !f->file[0]) {
					snprintf(why, len, "a code object's "
						 "names do not decode");
					return false;
				}
				if (mem_read_u64(py->reader, f->code_addr +
						 py->L.ob_type, &type) != LP_OK ||
				    (code_type && type != code_type)) {
					snprintf(why, len, "code objects of "
						 "different types");
					return false;
				}
				code_type = type;
				seen_frame = true;
			}
		}
	}
	if (!seen_frame)
		snprintf(why, len, "no Python frame seen");
	return seen_frame;
}

/* A version whose _Py_DebugOffsets shape loupe does not know: tries the
 * known shapes from the newest down and keeps the first one whose layout
 * validates against the live process (infer_validates); never a guess. */
static int infer_layout(py_proc *py, target *t, uint64_t runtime,
			const uint8_t *dbg, size_t len, lp_error *err)
{
	char version[sizeof py->version], why[600] = "", known[64] = "";
	size_t kn = 0;
	memcpy(version, py->version, sizeof version);
	for (const struct dbg_shape *s = dbg_shape_older(INT_MAX); s;
	     s = dbg_shape_older(s->minor)) {
		int w = snprintf(known + kn, sizeof known - kn, "%s3.%d",
				 kn ? ", " : "", s->minor);
		kn += w > 0 && (size_t)w < sizeof known - kn ? (size_t)w : 0;
		struct py_layout L;
		uint64_t hex;
		lp_error e;
		int rc = py_layout_from_debug_offsets_as(dbg, len, s, &L, &hex, &e);
		if (rc == LP_EUNSUPPORTED)	/* free-threaded: no shape helps */
			return lp_error_set(err, rc, "%s", e.msg);
		if (rc != LP_OK) {
			snprintf(why, sizeof why, "3.%d: %s", s->minor, e.msg);
			continue;
		}
		if (py_proc_init(py, py->reader, &L) != LP_OK)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		memcpy(py->version, version, sizeof version);
		py->target = t;
		py->runtime = runtime;
		py->interp_head_addr = runtime + L.rt_interp_head;
		py->dbg_shape = s;
		py->dbg_inferred = true;
		char reason[160];
		if (infer_validates(py, t, reason, sizeof reason))
			return LP_OK;
		snprintf(why, sizeof why, "read as 3.%d's: %s", s->minor, reason);
		mem_reader *r = py->reader;
		py_proc_fini(py);
		memset(py, 0, sizeof *py);
		py->reader = r;
	}
	return lp_error_set(err, LP_EUNSUPPORTED, "CPython %s: its "
		"_Py_DebugOffsets block has a shape loupe does not know, and "
		"none it knows (%s) validates against the process (%s)",
		version, known, why[0] ? why : "none tried");
}

int py_proc_attach(py_proc **out, target *t, symbolizer *syms, lp_error *err)
{
	*out = NULL;
	const struct maps *m = target_maps(t);
	if (!m || !m->n) {
		int rc = target_refresh_maps(t);
		if (rc != LP_OK)
			return lp_error_set(err, rc, "cannot read the maps of "
					    "PID %d", (int)target_pid(t));
		m = target_maps(t);
	}
	/* The interpreter: a mapped libpython (shared builds), else the
	 * executable itself (static builds) when it is named python* or,
	 * whatever its name (a copy, a deleted or replaced file, a
	 * container's), exports the runtime's entry points. */
	const struct map_entry *lib = maps_find_file(m, "libpython");
	const char *exe = target_exe(t) ? base_name(target_exe(t)) : "";
	char exe_base[256];
	snprintf(exe_base, sizeof exe_base, "%s", exe);
	char *del = strstr(exe_base, " (deleted)");
	if (del)
		*del = '\0';
	bool static_py = false;
	if (!lib) {
		uint64_t a, sz;
		static_py = strncmp(exe_base, "python", 6) == 0 ||
			    symbolizer_find(syms, m, "", "Py_Initialize", &a,
					    &sz) == LP_OK;
	}
	if (!lib && !static_py)
		return lp_error_set(err, LP_ENOTFOUND, "PID %d is not a CPython "
				    "process (no libpython mapped, executable "
				    "not named python* and not exporting "
				    "Py_Initialize)", (int)target_pid(t));
	char mod[256], exe_path[4096];
	const char *path;
	if (lib) {
		snprintf(mod, sizeof mod, "%s", base_name(lib->path));
		char *so = strstr(mod, ".so");
		if (so)
			*so = '\0';
		path = lib->path;
	} else {
		/* "" names the executable itself to symbolizer_find */
		mod[0] = '\0';
		snprintf(exe_path, sizeof exe_path, "%s", target_exe(t));
		char *d = strstr(exe_path, " (deleted)");
		if (d && d[10] == '\0')
			*d = '\0';	/* as maps.c shows map paths */
		path = exe_path;
	}
	const char *shown = lib ? mod : exe_base;
	int major, minor;
	name_version(lib ? mod : exe_base, &major, &minor);

	py_proc *py = calloc(1, sizeof *py);
	if (!py)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	mem_reader *r = target_reader(t);
	struct py_layout L;
	const struct py_layout *tab = NULL;
	uint64_t runtime = 0, hex = 0, addr;
	uint8_t dbg[PY_DEBUG_OFFSETS_READ];
	bool infer = false;
	const struct dbg_shape *shape = NULL;
	int rc;
	/* Temporary reader-only state for the version scan. */
	py->reader = r;

	if (find_sym(syms, m, mod, "_PyRuntime", &runtime) == LP_OK &&
	    runtime) {
		if (mem_read(r, runtime, dbg, 8) != LP_OK) {
			rc = lp_error_set(err, LP_EFAULT, "cannot read _PyRuntime "
					  "of PID %d", (int)target_pid(t));
			goto fail;
		}
		if (memcmp(dbg, "xdebugpy", 8) == 0) {
			/* 3.13+: the layout is in the process. */
			rc = mem_read(r, runtime, dbg, sizeof dbg);
			if (rc != LP_OK) {
				rc = lp_error_set(err, rc, "cannot read "
					"_Py_DebugOffsets of PID %d",
					(int)target_pid(t));
				goto fail;
			}
			/* LOUPE_PY_INFER=1 reads every version through the
			 * inference path, as if its shape were unknown. */
			const char *force = getenv("LOUPE_PY_INFER");
			if (force && strcmp(force, "1") == 0)
				rc = LP_ENOTFOUND;
			else
				rc = py_layout_from_debug_offsets(dbg, sizeof dbg,
								  &L, &hex, err);
			if (rc == LP_ENOTFOUND) {
				infer = true;
				memcpy(&hex, dbg + 8, sizeof hex);
			} else if (rc != LP_OK) {
				goto fail;
			} else {
				shape = dbg_shape_find(L.minor);
				tab = &L;
			}
			hex_version(hex, py->version, sizeof py->version);
		} else if (find_sym(syms, m, mod, "Py_Version", &addr) ==
				   LP_OK && addr &&
			   mem_read_u64(r, addr, &hex) == LP_OK) {
			/* 3.11+: const unsigned long Py_Version
			 * (Include/pylifecycle.h). */
			hex_version(hex & 0xffffffff, py->version,
				    sizeof py->version);
		}
		if (hex) {
			int hmaj = (int)((hex >> 24) & 0xff);
			int hmin = (int)((hex >> 16) & 0xff);
			if ((major && hmaj != major) ||
			    (minor && hmin != minor)) {
				rc = lp_error_set(err, LP_EFORMAT, "CPython "
					"version %s in memory does not match "
					"the file name %s; refusing to guess",
					py->version, shown);
				goto fail;
			}
			major = hmaj;
			minor = hmin;
		}
	} else {
		runtime = 0;
	}
	if (!py->version[0] &&
	    getversion_buffer(py, syms, m, mod, &major, &minor) != LP_OK) {
		if (!major || !minor) {
			rc = lp_error_set(err, LP_EUNSUPPORTED, "cannot tell the "
				"CPython version of PID %d from %s", (int)target_pid(t),
				shown);
			goto fail;
		}
		/* Last resort: the PY_VERSION literal, else major.minor only
		 * (the layout needs no more). */
		if (scan_version(py, m, path, major, minor) != LP_OK)
			snprintf(py->version, sizeof py->version, "%d.%d",
				 major, minor);
	}
	if (infer) {
		rc = infer_layout(py, t, runtime, dbg, sizeof dbg, err);
		if (rc != LP_OK)
			goto fail;
		goto attached;
	}
	if (!tab)
		tab = py_layout_table(major, minor);
	if (!tab) {
		rc = lp_error_set(err, LP_EUNSUPPORTED, "CPython %s is not "
			"supported: no layout table for %d.%d (run "
			"tools/gen-py-layouts with it installed)", py->version,
			major, minor);
		goto fail;
	}
	{
		char version[sizeof py->version];
		memcpy(version, py->version, sizeof version);
		rc = py_proc_init(py, r, tab);
		memcpy(py->version, version, sizeof version);
		py->dbg_shape = shape;
	}
	if (rc != LP_OK) {
		rc = lp_error_set(err, rc, "out of memory");
		goto fail;
	}
	py->target = t;
	py->runtime = runtime;
	snprintf(py->sym_mod, sizeof py->sym_mod, "%s", mod);
	if (runtime) {
		if (major == 3 && minor < 7) {
			rc = lp_error_set(err, LP_EFORMAT, "_PyRuntime found in "
				"CPython %s, which should not have it", py->version);
			goto fail_fini;
		}
		py->interp_head_addr = runtime + py->L.rt_interp_head;
	} else {
		/* 2.7/3.6: static PyInterpreterState *interp_head in
		 * Python/pystate.c, only in .symtab (unstripped builds). */
		if (find_sym(syms, m, mod, "interp_head", &py->interp_head_addr)
		    != LP_OK || !py->interp_head_addr) {
			rc = lp_error_set(err, LP_ENOTFOUND, "CPython %s in PID "
				"%d: neither _PyRuntime nor interp_head found in "
				"%s (stripped interpreter?)", py->version,
				(int)target_pid(t), shown);
			goto fail_fini;
		}
		if (find_sym(syms, m, mod, "_PyThreadState_Current",
			     &py->tstate_current_addr) != LP_OK)
			py->tstate_current_addr = 0;
	}
attached:
	/* Optional: lets the walker reject non-code objects (torn reads). */
	if (find_sym(syms, m, mod, "PyCode_Type", &addr) == LP_OK)
		py->code_type = addr;
	py->eval_func = find_eval_func(r, syms, m, mod);
	*out = py;
	return LP_OK;
fail_fini:
	py_proc_fini(py);
fail:
	free(py);
	return rc;
}

const char *py_proc_layout_source(const py_proc *py)
{
	static const char *const names[][2] = {
		{ "3.13 debug offsets", "3.13 debug offsets, inferred" },
		{ "3.14 debug offsets", "3.14 debug offsets, inferred" },
		{ "3.15 debug offsets", "3.15 debug offsets, inferred" },
	};
	if (!py->dbg_shape)
		return "";
	int i = py->dbg_shape->minor - 13;
	if (i < 0 || i >= (int)(sizeof names / sizeof names[0]))
		return py->dbg_inferred ? "debug offsets, inferred" :
					  "debug offsets";
	return names[i][py->dbg_inferred];
}

void py_proc_free(py_proc *py)
{
	if (!py)
		return;
	py_proc_fini(py);
	free(py);
}
