#include "unwind.h"

#include <errno.h>
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>

#include "bounds.h"
#include "elf.h"
#include "error.h"

/* libunwind exports the binary search over an .eh_frame_hdr table but does
 * not declare it (perf's unwind-libunwind-local.c declares it the same way).*/
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as,
					      unw_word_t ip,
					      unw_dyn_info_t *di,
					      unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);
#define dwarf_search_unwind_table UNW_OBJ(dwarf_search_unwind_table)

/* Bytes of stack held per unwind, from SP: the first read takes what the
 * thread's previous unwind needed (at least STACK_FIRST), a miss above it
 * extends the window (at least doubling it) in one more read; words beyond
 * STACK_WINDOW are read one by one.  A 32 KiB read costs twice a 4 KiB one
 * (tools/loupe-bench); a 150-deep CPython 3.10 stack needs ~100 KiB. */
#define STACK_WINDOW (256 * 1024)
#define STACK_FIRST (4 * 1024)
/* Cached 4 KiB granules of read-only file-backed memory (.eh_frame_hdr
 * tables and .eh_frame), which never change while mapped. */
#define PCACHE_SLOTS 256
#define PCACHE_SHIFT 12
#define PCACHE_GRANULE (1u << PCACHE_SHIFT)
/* Bytes of a [vdso] image we copy to parse it (it is one or two pages). */
#define MAX_VDSO_SIZE (64 * 1024)

/* DWARF pointer encodings of .eh_frame_hdr (LSB 5.0, "DWARF Exception
 * Header Encoding"). */
#define DW_EH_PE_omit 0xff
#define DW_EH_PE_datarel_sdata4 0x3b

struct module {
	uint64_t start, end;	/* the executable mapping */
	uint64_t offset, inode;
	unsigned dev_major, dev_minor;
	bool has_table;		/* false: no usable .eh_frame_hdr */
	unw_dyn_info_t di;
};

struct page_slot {
	uint64_t granule;	/* addr >> PCACHE_SHIFT */
	uint64_t inode;		/* of the mapping it came from */
	bool valid;
};

struct unwinder {
	target *t;
	unw_addr_space_t as;
	/* State of the unwind in progress. */
	struct target_thread *th;
	struct user_regs_struct regs;
	uint64_t win_lo, win_hi;	/* [lo, hi) of stack held in win */
	uint64_t stack_end;		/* end of SP's mapping */
	uint64_t win_used;		/* highest window byte read + 1 */
	const unsigned char *wdata;	/* bytes of [win_lo, win_hi): win, or
					 * a sample's stack copy */
	unsigned char *win;
	/* Modules seen, with their unwind table (or its absence). */
	struct module *mods;
	size_t nmods, capmods, last_mod;
	struct page_slot slots[PCACHE_SLOTS];
	unsigned char *pages;	/* PCACHE_SLOTS * PCACHE_GRANULE */
	uint64_t sps[MAX_STACK_DEPTH];	/* stack pointer of each frame of the
					 * last unwind */
};

/* ---- memory ------------------------------------------------------------ */

static bool cacheable(const struct map_entry *m)
{
	return m && m->path[0] == '/' && !m->deleted &&
	       (m->perms & MAP_PERM_R) && !(m->perms & MAP_PERM_W);
}

static size_t slot_of(uint64_t granule)
{
	return (size_t)((granule * 0x9E3779B97F4A7C15ull) >> 56) %
	       PCACHE_SLOTS;
}

/* Grows the stack window to cover [.., need) in one read (what the walk
 * used is remembered per thread at its end). */
static bool extend_window(unwinder *u, uint64_t need)
{
	if (u->wdata != u->win) {
		/* A snapshot's copy cannot grow in place: move it into win
		 * once, then extend from live memory (the outer frames, which
		 * a thread deeper than the copy has not touched since). */
		if (u->win_hi - u->win_lo > STACK_WINDOW)
			return false;
		memcpy(u->win, u->wdata, (size_t)(u->win_hi - u->win_lo));
		u->wdata = u->win;
	}
	uint64_t max = u->win_lo + STACK_WINDOW;
	if (max > u->stack_end)
		max = u->stack_end;
	if (need > max)
		return false;
	/* At least double: a deep stack then costs a few reads, not one per
	 * frame. */
	uint64_t hi = ((need - u->win_lo) | (STACK_FIRST - 1)) + 1 + u->win_lo;
	if (hi - u->win_lo < 2 * (u->win_hi - u->win_lo))
		hi = u->win_lo + 2 * (u->win_hi - u->win_lo);
	if (hi > max)
		hi = max;
	if (mem_read(target_reader(u->t), u->win_hi, u->win + (u->win_hi -
		     u->win_lo), (size_t)(hi - u->win_hi)) != LP_OK) {
		u->stack_end = u->win_hi;	/* do not retry this walk */
		return false;
	}
	u->win_hi = hi;
	return true;
}

/* Reads 8 bytes at addr: stack window, page cache, else the reader. */
static int read_word(unwinder *u, uint64_t addr, uint64_t *val)
{
	if (addr > UINT64_MAX - sizeof *val)
		return LP_EFAULT;
	if ((addr >= u->win_lo && addr + sizeof *val <= u->win_hi) ||
	    (u->win_hi && addr >= u->win_hi &&
	     addr + sizeof *val <= u->stack_end &&
	     extend_window(u, addr + sizeof *val))) {
		memcpy(val, u->wdata + (addr - u->win_lo), sizeof *val);
		if (addr + sizeof *val > u->win_used)
			u->win_used = addr + sizeof *val;
		return LP_OK;
	}
	uint64_t g = addr >> PCACHE_SHIFT;
	/* Words that straddle two granules are read directly. */
	if ((addr + sizeof *val - 1) >> PCACHE_SHIFT == g) {
		size_t s = slot_of(g);
		struct page_slot *ps = &u->slots[s];
		unsigned char *page = u->pages + s * PCACHE_GRANULE;
		size_t off = (size_t)(addr & (PCACHE_GRANULE - 1));
		if (ps->valid && ps->granule == g) {
			memcpy(val, page + off, sizeof *val);
			return LP_OK;
		}
		const struct map_entry *m = maps_find(target_maps(u->t), addr);
		if (cacheable(m)) {
			/* Mappings are page aligned, so a granule is wholly
			 * inside m. */
			int rc = mem_read(target_reader(u->t),
					  g << PCACHE_SHIFT, page,
					  PCACHE_GRANULE);
			if (rc == LP_OK) {
				ps->granule = g;
				ps->inode = m->inode;
				ps->valid = true;
				memcpy(val, page + off, sizeof *val);
				return LP_OK;
			}
			ps->valid = false;
		}
	}
	return mem_read(target_reader(u->t), addr, val, sizeof *val);
}

/* ---- modules and their tables ------------------------------------------ */

/* Where the .eh_frame_hdr of mapping m is in the target, and its size:
 * from the mapped file (opened as symbols.c opens it, through elf.c), or
 * from the vDSO's image read out of the target. */
static int module_eh_frame_hdr(unwinder *u, const struct map_entry *m,
			       uint64_t *addr, uint64_t *size)
{
	if (m->path[0] == '/') {
		int fd;
		int rc = elf_open_mapped(target_procfd(u->t), m, &fd);
		if (rc != LP_OK)
			return rc;
		rc = elf_eh_frame_hdr_fd(fd, m, addr, size);
		close(fd);
		return rc;
	}
	if (!strcmp(m->path, "[vdso]")) {
		size_t len = m->end - m->start;
		if (len > MAX_VDSO_SIZE)
			return LP_EFORMAT;
		void *image = malloc(len);
		int rc = image ? mem_read(target_reader(u->t), m->start, image,
					  len) : LP_ENOMEM;
		if (rc == LP_OK)
			rc = elf_eh_frame_hdr_mem(image, len, m, addr, size);
		free(image);
		return rc;
	}
	return LP_ENOTFOUND;
}

static size_t enc_size(unsigned enc)
{
	switch (enc & 0x0f) {
	case 0x00: return 8;	/* absptr */
	case 0x02: case 0x0a: return 2;
	case 0x03: case 0x0b: return 4;
	case 0x04: case 0x0c: return 8;
	default: return 0;
	}
}

/* Finds the binary-search table of mapping m's .eh_frame_hdr (whose
 * layout is in the LSB, and in libunwind's dwarf_search_unwind_table
 * which consumes it). */
static void load_table(unwinder *u, const struct map_entry *m,
		       struct module *mod)
{
	uint64_t hdr, hdr_size;
	if (module_eh_frame_hdr(u, m, &hdr, &hdr_size) != LP_OK)
		return;
	unsigned char h[4 + 8 + 8];
	if (hdr_size < 12 || mem_read(target_reader(u->t), hdr, h,
				       sizeof h) != LP_OK)
		return;
	/* version 1, eh_frame_ptr_enc, fde_count_enc, table_enc. */
	if (h[0] != 1 || h[2] == DW_EH_PE_omit ||
	    h[3] != DW_EH_PE_datarel_sdata4)
		return;
	size_t s1 = enc_size(h[1]), s2 = enc_size(h[2]);
	if (!s1 || !s2 || 4 + s1 + s2 > sizeof h)
		return;
	uint64_t count = 0;
	memcpy(&count, h + 4 + s1, s2);	/* little endian */
	uint64_t table = hdr + 4 + s1 + s2;
	/* Entries are two sdata4: the table must fit in the segment. */
	if (!count || count > (hdr_size - 4 - s1 - s2) / 8)
		return;
	memset(&mod->di, 0, sizeof mod->di);
	mod->di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	mod->di.start_ip = m->start;
	mod->di.end_ip = m->end;
	mod->di.u.rti.segbase = hdr;
	mod->di.u.rti.table_data = table;
	/* In words, as dwarf_search_unwind_table expects. */
	mod->di.u.rti.table_len = count * 8 / sizeof(unw_word_t);
	mod->has_table = true;
}

static struct module *module_for(unwinder *u, uint64_t ip)
{
	if (u->last_mod < u->nmods) {
		struct module *mod = &u->mods[u->last_mod];
		if (ip >= mod->start && ip < mod->end)
			return mod;
	}
	for (size_t i = 0; i < u->nmods; i++)
		if (ip >= u->mods[i].start && ip < u->mods[i].end) {
			u->last_mod = i;
			return &u->mods[i];
		}
	const struct map_entry *m = maps_find(target_maps(u->t), ip);
	/* Not mapped (yet: the sampler refreshes maps periodically and
	 * calls unwinder_maps_changed), or not code. */
	if (!m || !(m->perms & MAP_PERM_X) || u->nmods >= MAX_MAPS)
		return NULL;
	if (u->nmods == u->capmods) {
		size_t cap = u->capmods ? u->capmods * 2 : 32;
		struct module *nm = realloc(u->mods, cap * sizeof *nm);
		if (!nm)
			return NULL;
		u->mods = nm;
		u->capmods = cap;
	}
	struct module *mod = &u->mods[u->nmods];
	memset(mod, 0, sizeof *mod);
	mod->start = m->start;
	mod->end = m->end;
	mod->offset = m->offset;
	mod->inode = m->inode;
	mod->dev_major = m->dev_major;
	mod->dev_minor = m->dev_minor;
	load_table(u, m, mod);
	u->last_mod = u->nmods++;
	return mod;
}

/* ---- libunwind accessors -------------------------------------------- */

static int acc_find_proc_info(unw_addr_space_t as, unw_word_t ip,
			      unw_proc_info_t *pi, int need_unwind_info,
			      void *arg)
{
	unwinder *u = arg;
	struct module *mod = module_for(u, ip);
	if (!mod || !mod->has_table)
		return -UNW_ENOINFO;
	return dwarf_search_unwind_table(as, ip, &mod->di, pi,
					 need_unwind_info, arg);
}

static void acc_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi,
				void *arg)
{
	/* dwarf_search_unwind_table's info is freed by libunwind itself. */
}

static int acc_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil,
				      void *arg)
{
	return -UNW_ENOINFO;
}

static int acc_access_mem(unw_addr_space_t as, unw_word_t addr,
			  unw_word_t *valp, int write, void *arg)
{
	uint64_t v;
	if (write)
		return -UNW_EINVAL;
	if (read_word(arg, addr, &v) != LP_OK)
		return -UNW_EINVAL;
	*valp = v;
	return 0;
}

static int acc_access_reg(unw_addr_space_t as, unw_regnum_t reg,
			  unw_word_t *valp, int write, void *arg)
{
	const struct user_regs_struct *r = &((unwinder *)arg)->regs;
	if (write)
		return -UNW_EREADONLYREG;
	switch (reg) {
	case UNW_X86_64_RAX: *valp = r->rax; break;
	case UNW_X86_64_RDX: *valp = r->rdx; break;
	case UNW_X86_64_RCX: *valp = r->rcx; break;
	case UNW_X86_64_RBX: *valp = r->rbx; break;
	case UNW_X86_64_RSI: *valp = r->rsi; break;
	case UNW_X86_64_RDI: *valp = r->rdi; break;
	case UNW_X86_64_RBP: *valp = r->rbp; break;
	case UNW_X86_64_RSP: *valp = r->rsp; break;
	case UNW_X86_64_R8: *valp = r->r8; break;
	case UNW_X86_64_R9: *valp = r->r9; break;
	case UNW_X86_64_R10: *valp = r->r10; break;
	case UNW_X86_64_R11: *valp = r->r11; break;
	case UNW_X86_64_R12: *valp = r->r12; break;
	case UNW_X86_64_R13: *valp = r->r13; break;
	case UNW_X86_64_R14: *valp = r->r14; break;
	case UNW_X86_64_R15: *valp = r->r15; break;
	case UNW_X86_64_RIP: *valp = r->rip; break;
	default: return -UNW_EBADREG;
	}
	return 0;
}

static int acc_access_fpreg(unw_addr_space_t as, unw_regnum_t reg,
			    unw_fpreg_t *val, int write, void *arg)
{
	return -UNW_EBADREG;
}

static int acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	return -UNW_EINVAL;
}

static int acc_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
			     size_t len, unw_word_t *offp, void *arg)
{
	return -UNW_EINVAL;	/* symbols are the symbolizer's job */
}

static unw_accessors_t accessors = {
	.find_proc_info = acc_find_proc_info,
	.put_unwind_info = acc_put_unwind_info,
	.get_dyn_info_list_addr = acc_get_dyn_info_list_addr,
	.access_mem = acc_access_mem,
	.access_reg = acc_access_reg,
	.access_fpreg = acc_access_fpreg,
	.resume = acc_resume,
	.get_proc_name = acc_get_proc_name,
};

/* ---- signal masking inside libunwind ---------------------------------- */

/* Set while this thread is inside unw_init_remote/unw_step for one of our
 * walks: unwind_sigmask.c (linked into the loupe program only) reads it. */
static _Thread_local bool in_unwind;

bool unwind_in_walk(void)
{
	return in_unwind;
}

/* ---- public ------------------------------------------------------------ */

int unwinder_new(unwinder **out, target *t)
{
	*out = NULL;
	unwinder *u = calloc(1, sizeof *u);
	if (!u)
		return LP_ENOMEM;
	u->t = t;
	u->win = malloc(STACK_WINDOW);
	u->pages = malloc((size_t)PCACHE_SLOTS * PCACHE_GRANULE);
	if (!u->win || !u->pages)
		goto fail;
	u->as = unw_create_addr_space(&accessors, 0);
	if (!u->as)
		goto fail;
	/* Keeps the register-state cache per IP across unwinds: a warm
	 * unwind then needs no table lookup.  (UNW_CACHE_PER_THREAD is
	 * turned into GLOBAL by Debian's 1.6.2, built without __thread.) */
	unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	*out = u;
	return LP_OK;
fail:
	unwinder_free(u);
	return LP_ENOMEM;
}

void unwinder_free(unwinder *u)
{
	if (!u)
		return;
	if (u->as)
		unw_destroy_addr_space(u->as);
	free(u->mods);
	free(u->pages);
	free(u->win);
	free(u);
}

void unwinder_maps_changed(unwinder *u)
{
	const struct maps *m = target_maps(u->t);
	size_t w = 0;
	bool dropped = false;
	for (size_t i = 0; i < u->nmods; i++) {
		const struct module *mod = &u->mods[i];
		const struct map_entry *e = maps_find(m, mod->start);
		if (e && e->start == mod->start && e->end == mod->end &&
		    e->offset == mod->offset && e->inode == mod->inode &&
		    e->dev_major == mod->dev_major &&
		    e->dev_minor == mod->dev_minor && (e->perms & MAP_PERM_X)) {
			u->mods[w++] = *mod;
			continue;
		}
		dropped = true;
	}
	u->nmods = w;
	u->last_mod = 0;
	for (size_t i = 0; i < PCACHE_SLOTS; i++) {
		struct page_slot *ps = &u->slots[i];
		if (!ps->valid)
			continue;
		const struct map_entry *e =
			maps_find(m, ps->granule << PCACHE_SHIFT);
		if (!cacheable(e) || e->inode != ps->inode)
			ps->valid = false;
	}
	/* Cached register rules are per IP: stale once code moved. */
	if (dropped)
		unw_flush_cache(u->as, 0, 0);
}

/* Reads from SP what the thread's last unwind needed, clipped to SP's
 * mapping, in one read. */
static void load_window(unwinder *u, const struct target_thread *th)
{
	uint64_t sp = u->regs.rsp;
	const struct maps *m = target_maps(u->t);
	const struct map_entry *e = maps_find(m, sp);
	uint64_t want = th->unwind_window;
	u->win_lo = u->win_hi = u->stack_end = u->win_used = 0;
	u->wdata = u->win;
	if (!e)
		return;
	if (want < STACK_FIRST || want > STACK_WINDOW)
		want = STACK_FIRST;
	uint64_t hi = e->end - sp > want ? sp + want : e->end;
	if (mem_read(target_reader(u->t), sp, u->win, (size_t)(hi - sp)) ==
	    LP_OK) {
		u->win_lo = sp;
		u->win_hi = hi;
		u->stack_end = e->end;
	}
}

/* The walk both entry points share: u->regs and the stack window are set.
 * Fills ips (and u->sps) from the leaf outwards. */
static void walk(unwinder *u, uint64_t *ips, size_t max, size_t *n,
		 bool *truncated)
{
	unw_cursor_t c;
	if (max > MAX_STACK_DEPTH)
		max = MAX_STACK_DEPTH;
	in_unwind = true;
	if (unw_init_remote(&c, u->as, u) < 0) {
		*truncated = true;
		goto out;
	}
	while (*n < max) {
		unw_word_t ip;
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || !ip) {
			if (!*n)
				*truncated = true;
			goto out;
		}
		/* A frame is code: a pc (a caller's return address less one)
		 * outside every executable mapping is a walk that went wrong
		 * (a stack, heap or data word taken for a return address),
		 * so it ends here rather than name [stack]+0x... */
		const struct map_entry *m =
			maps_find(target_maps(u->t), *n ? ip - 1 : ip);
		if (!m || !(m->perms & MAP_PERM_X)) {
			*truncated = true;
			goto out;
		}
		unw_word_t sp = 0;
		unw_get_reg(&c, UNW_REG_SP, &sp);
		u->sps[*n] = sp;
		ips[(*n)++] = ip;
		int r = unw_step(&c);
		if (r == 0)
			goto out;	/* the outermost frame */
		if (r < 0) {
			*truncated = true;
			goto out;
		}
	}
	*truncated = true;	/* depth cap */
out:
	in_unwind = false;
}

int unwind_thread(unwinder *u, struct target_thread *th, uint64_t *ips,
		  size_t max, size_t *n, bool *truncated)
{
	*n = 0;
	*truncated = false;
	if (!th->stopped)
		return LP_EINVAL;
	if (ptrace(PTRACE_GETREGS, th->tid, 0, &u->regs) < 0)
		return lp_from_errno(errno);	/* ESRCH: LP_ENOPROC */
	u->th = th;
	load_window(u, th);
	walk(u, ips, max, n, truncated);
	/* Next time read what this walk used, rounded up to 4 KiB, so a
	 * shallower stack shrinks the read again. */
	if (u->win_used > u->win_lo)
		th->unwind_window = (size_t)(((u->win_used - u->win_lo) |
					      (STACK_FIRST - 1)) + 1);
	u->th = NULL;
	u->win_lo = u->win_hi = u->stack_end = 0;
	return LP_OK;
}

int unwind_from_snapshot(unwinder *u, const struct unwind_regs *regs,
			 const void *stack, size_t stack_len,
			 uint64_t *ips, size_t max, size_t *n,
			 bool *truncated)
{
	*n = 0;
	*truncated = false;
	struct user_regs_struct *r = &u->regs;
	memset(r, 0, sizeof *r);
	r->rax = regs->ax; r->rbx = regs->bx; r->rcx = regs->cx;
	r->rdx = regs->dx; r->rsi = regs->si; r->rdi = regs->di;
	r->rbp = regs->bp; r->rsp = regs->sp; r->rip = regs->ip;
	r->r8 = regs->r8; r->r9 = regs->r9; r->r10 = regs->r10;
	r->r11 = regs->r11; r->r12 = regs->r12; r->r13 = regs->r13;
	r->r14 = regs->r14; r->r15 = regs->r15;
	uint64_t sp = regs->sp;
	if (stack_len > STACK_WINDOW || sp > UINT64_MAX - stack_len)
		stack_len = 0;
	/* The copy is the window; past it the stack's mapping (when the maps
	 * know it) is read live, in one growing read as unwind_thread does. */
	u->wdata = stack;
	u->win_lo = sp;
	u->win_hi = sp + stack_len;
	u->win_used = 0;
	const struct map_entry *e = maps_find(target_maps(u->t), sp);
	u->stack_end = e && e->end > u->win_hi && stack_len ? e->end
							    : u->win_hi;
	if (!stack_len)
		u->win_lo = u->win_hi = u->stack_end = 0;
	walk(u, ips, max, n, truncated);
	u->wdata = u->win;
	u->win_lo = u->win_hi = u->stack_end = 0;
	return LP_OK;
}

int unwind_proc_bounds(unwinder *u, uint64_t ip, uint64_t *start,
		       uint64_t *end)
{
	struct module *mod = module_for(u, ip);
	if (!mod || !mod->has_table)
		return LP_ENOTFOUND;
	unw_proc_info_t pi;
	memset(&pi, 0, sizeof pi);
	if (dwarf_search_unwind_table(u->as, ip, &mod->di, &pi, 0, u) < 0)
		return LP_ENOTFOUND;
	*start = pi.start_ip;
	*end = pi.end_ip;
	return LP_OK;
}

const uint64_t *unwind_last_sps(const unwinder *u)
{
	return u->sps;
}
