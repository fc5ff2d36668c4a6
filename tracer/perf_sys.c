#include "perf_sys.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "syscalls.h"
#include "tracefs.h"

/* Data pages of a ring: 2^ORDER.  Per CPU (512 kB): the poll events of the
 * target on that CPU between two drains, about 10000 at 50 bytes each, so
 * 1 ms apart at 10 million polls a second, or a drain late by 20 ms (a
 * native stack sample, a loaded box) at 500000.  Per detail thread
 * (128 kB): every call of a busy thread. */
#define CPU_RING_ORDER 7
#define DETAIL_RING_ORDER 5
/* CPUs and detail threads at most. */
#define MAX_CPUS 1024
#define MAX_DETAIL 64
/* A record is at most a few dozen bytes; anything much larger is not one of
 * ours. */
#define MAX_RECORD 4096
/* Events newer than this are held back at a drain: a record appears in its
 * ring a few us after its time stamp, and another CPU's ring may still be
 * about to get one older than those already read. */
#define HOLD_NS 500000ull
/* The kernel takes a filter of at most a page (PAGE_SIZE, kernel/trace). */
#define MAX_FILTER 4000

/* The calls a loop waits in (syscalls.c), each with the tracepoints of its
 * own: syscalls:sys_enter_NAME and sys_exit_NAME.  Those this kernel or
 * architecture lacks are left out. */
static const char *const poll_calls[] = {
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll",
	"select", "pselect6",
};
#define NPOLL (sizeof poll_calls / sizeof poll_calls[0])

/* One tracepoint we read: its id, and what its record is. */
struct tp {
	int id;
	bool enter;
	bool raw;			/* raw_syscalls (every call) */
	struct tracefs_field nr, a0, ret;
};

struct ring {
	pid_t tid;			/* detail ring: its thread; CPU: 0 */
	int cpu;			/* CPU ring: its CPU */
	int fds[2 * NPOLL];		/* events writing into it, or -1 */
	size_t nfds;
	void *base;			/* metadata page, then the data pages */
	size_t data_size;
	uint64_t last_ns;		/* time of its newest event read */
};

struct perf_sys {
	struct tp tps[2 * NPOLL + 2];	/* the poll ones, then raw enter/exit */
	size_t npoll_tps;		/* how many poll ones exist */
	size_t page;
	struct ring *cpus;
	size_t ncpus;
	struct ring detail[MAX_DETAIL];
	size_t ndetail;
	pid_t *tids;			/* the target's threads, sorted */
	size_t ntids;
	bool kernel_filtered;		/* the filter covers them all */
	bool filtered;			/* a filter was set on the CPU rings */
	struct sys_event *held;		/* read, not yet passed on */
	size_t nheld, held_cap;
	uint64_t lost;
	int err;			/* first allocation failure */
	unsigned char rec[MAX_RECORD];	/* a record that wraps the ring */
	int keep_fds[2];		/* raw_syscalls enter/exit kept open,
					 * or -1 (perf_sys_new) */
};

static int perf_open(struct perf_event_attr *a, pid_t tid, int cpu)
{
	return (int)syscall(SYS_perf_event_open, a, tid, cpu, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

static void attr_for(int id, bool disabled, struct perf_event_attr *a)
{
	memset(a, 0, sizeof *a);
	a->size = sizeof *a;
	a->type = PERF_TYPE_TRACEPOINT;
	a->config = (uint64_t)id;
	a->sample_period = 1;
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
	a->disabled = disabled;
	/* Our clock, so that event times compare with the sampler's and
	 * across rings. */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	/* Nobody waits on the fd: wake no one (the tracer drains on its
	 * own clock). */
	a->watermark = 1;
	a->wakeup_watermark = 1u << 30;
}

static int errno_code(int e)
{
	return lp_errno_class(e, LP_USE_PERF);
}

static int field(const char *dir, const char *sys, const char *name,
		 const char *fld, struct tracefs_field *f, lp_error *err)
{
	int rc = tracefs_field(dir, sys, name, fld, f, err);
	if (rc == LP_OK && f->size != 8 && f->size != 4)
		rc = lp_error_set(err, LP_EFORMAT, "%s:%s: field %s has size %d",
				  sys, name, fld, f->size);
	return rc;
}

/* The tracepoint SYS:NAME, its number field called nr_field and, for an
 * entry, its first argument at a0_field (the second follows it: syscall
 * arguments are 8 bytes each in both record layouts). */
static int load_tp(const char *dir, const char *sys, const char *name,
		   bool enter, bool raw, const char *nr_field,
		   const char *a0_field, struct tp *tp, lp_error *err)
{
	int rc;
	memset(tp, 0, sizeof *tp);
	tp->enter = enter;
	tp->raw = raw;
	if ((rc = tracefs_event_id(dir, sys, name, &tp->id, err)) ||
	    (rc = field(dir, sys, name, nr_field, &tp->nr, err)))
		return rc;
	if (enter) {
		rc = tracefs_field(dir, sys, name, a0_field, &tp->a0, err);
		tp->a0.size = 8;
	} else {
		rc = field(dir, sys, name, "ret", &tp->ret, err);
	}
	return rc;
}

/* First argument of each poll call, as its tracepoint names it. */
static const char *first_arg(const char *call)
{
	if (strstr(call, "epoll"))
		return "epfd";
	if (strstr(call, "select"))
		return "n";
	return "ufds";
}

static void ring_close(struct ring *r, size_t page)
{
	if (r->base)
		munmap(r->base, page + r->data_size);
	for (size_t i = 0; i < r->nfds; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	memset(r, 0, sizeof *r);
}

/* Opens the events tps[0..n) of (tid, cpu) into one new ring. */
static int ring_open(perf_sys *ps, struct ring *r, const struct tp *tps,
		     size_t n, pid_t tid, int cpu, bool disabled, int order)
{
	memset(r, 0, sizeof *r);
	r->tid = tid > 0 ? tid : 0;
	r->cpu = cpu;
	r->data_size = ps->page << order;
	struct perf_event_attr a;
	for (size_t i = 0; i < n; i++) {
		attr_for(tps[i].id, disabled, &a);
		int fd = perf_open(&a, tid, cpu);
		if (fd < 0)
			goto fail;
		r->fds[r->nfds++] = fd;
		if (i == 0) {
			r->base = mmap(NULL, ps->page + r->data_size,
				       PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (r->base == MAP_FAILED) {
				r->base = NULL;
				goto fail;
			}
		} else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, r->fds[0]) != 0) {
			goto fail;	/* every event into the one ring */
		}
	}
	return LP_OK;
fail:;
	int e = errno;
	ring_close(r, ps->page);
	return errno_code(e);
}

static int online_cpus(int *cpus, size_t max, size_t *n)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	char buf[4096];
	*n = 0;
	if (!f || !fgets(buf, sizeof buf, f)) {
		if (f)
			fclose(f);
		return LP_ENOTFOUND;
	}
	fclose(f);
	/* "0-3,6,8-9" */
	for (char *p = buf; *p && *p != '\n';) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;
		if (end == p)
			return LP_EFORMAT;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		for (long c = lo; c <= hi && *n < max; c++)
			cpus[(*n)++] = (int)c;
		p = *end == ',' ? end + 1 : end;
	}
	return *n ? LP_OK : LP_EFORMAT;
}

int perf_sys_new(perf_sys **out, lp_error *err)
{
	char dir[256];
	int rc = tracefs_find(dir, sizeof dir, err);
	if (rc != LP_OK)
		return rc;
	perf_sys *ps = calloc(1, sizeof *ps);
	int *cpus = calloc(MAX_CPUS, sizeof *cpus);
	if (!ps || !cpus) {
		free(ps);
		free(cpus);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	ps->page = (size_t)sysconf(_SC_PAGESIZE);
	ps->keep_fds[0] = ps->keep_fds[1] = -1;
	for (size_t i = 0; i < NPOLL; i++) {
		char en[64], ex[64];
		snprintf(en, sizeof en, "sys_enter_%s", poll_calls[i]);
		snprintf(ex, sizeof ex, "sys_exit_%s", poll_calls[i]);
		struct tp a, b;
		if (load_tp(dir, "syscalls", en, true, false, "__syscall_nr",
			    first_arg(poll_calls[i]), &a, NULL) != LP_OK ||
		    load_tp(dir, "syscalls", ex, false, false, "__syscall_nr",
			    NULL, &b, NULL) != LP_OK)
			continue;	/* not on this kernel */
		ps->tps[ps->npoll_tps++] = a;
		ps->tps[ps->npoll_tps++] = b;
	}
	if (ps->npoll_tps == 0) {
		rc = lp_error_set(err, LP_EUNSUPPORTED,
				  "no syscalls:sys_enter_epoll_wait (or poll, select) tracepoint in %s: the kernel lacks CONFIG_FTRACE_SYSCALLS",
				  dir);
		goto fail;
	}
	if ((rc = load_tp(dir, "raw_syscalls", "sys_enter", true, true, "id",
			  "args", &ps->tps[ps->npoll_tps], err)) ||
	    (rc = load_tp(dir, "raw_syscalls", "sys_exit", false, true, "id",
			  NULL, &ps->tps[ps->npoll_tps + 1], err)))
		goto fail;
	size_t n;
	if ((rc = online_cpus(cpus, MAX_CPUS, &n)) != LP_OK) {
		lp_error_set(err, rc, "cannot read /sys/devices/system/cpu/online");
		goto fail;
	}
	/* Descriptors: NPOLL pairs a CPU. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ps->cpus = calloc(n, sizeof *ps->cpus);
	if (!ps->cpus) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto fail;
	}
	/* Disabled until a filter names the target's threads: no other
	 * process's polls meanwhile. */
	for (size_t i = 0; i < n; i++) {
		rc = ring_open(ps, &ps->cpus[ps->ncpus], ps->tps, ps->npoll_tps,
			       -1, cpus[i], true, CPU_RING_ORDER);
		if (rc != LP_OK) {
			lp_error_set(err, rc, "cannot open the syscall tracepoints on CPU %d: %s",
				     cpus[i], strerror(errno));
			goto fail;
		}
		ps->ncpus++;
	}
	/* raw_syscalls kept registered for the whole trace: one event each
	 * on our own thread, never enabled.  The first user of a tracepoint
	 * registers its probe, which patches kernel text and waits for every
	 * CPU (60-90 ms on a loaded 2-CPU box, and as long again to
	 * unregister): the tracer took no stack samples meanwhile, and the
	 * stalls it was opening detail events for came out without a stack.
	 * With this user left, a busy thread's detail events open and close
	 * in microseconds.  The poll tracepoints already route every
	 * thread's syscalls through the tracing path; this adds one probe
	 * call that finds no event of theirs. */
	for (int k = 0; k < 2; k++) {
		struct perf_event_attr a;
		attr_for(ps->tps[ps->npoll_tps + k].id, true, &a);
		ps->keep_fds[k] = perf_open(&a, 0, -1);
	}
	free(cpus);
	*out = ps;
	return LP_OK;
fail:
	free(cpus);
	perf_sys_free(ps);
	return rc;
}

void perf_sys_free(perf_sys *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->ncpus; i++)
		ring_close(&ps->cpus[i], ps->page);
	for (size_t i = 0; i < ps->ndetail; i++)
		ring_close(&ps->detail[i], ps->page);
	for (int k = 0; k < 2; k++)
		if (ps->keep_fds[k] >= 0)
			close(ps->keep_fds[k]);
	free(ps->cpus);
	free(ps->tids);
	free(ps->held);
	free(ps);
}

uint64_t perf_sys_lost(const perf_sys *ps)
{
	return ps->lost;
}

static int cmp_tid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return x < y ? -1 : x > y;
}

static bool is_target(const perf_sys *ps, pid_t tid)
{
	return bsearch(&tid, ps->tids, ps->ntids, sizeof tid, cmp_tid) != NULL;
}

static void drain_ring(perf_sys *ps, struct ring *r);

int perf_sys_set_threads(perf_sys *ps, const pid_t *tids, size_t n)
{
	pid_t *nt = malloc((n ? n : 1) * sizeof *nt);
	if (!nt)
		return LP_ENOMEM;
	memcpy(nt, tids, n * sizeof *nt);
	qsort(nt, n, sizeof *nt, cmp_tid);
	if (ps->tids && n == ps->ntids && memcmp(nt, ps->tids, n * sizeof *nt) == 0) {
		free(nt);
		return LP_OK;	/* the same threads */
	}
	free(ps->tids);
	ps->tids = nt;
	ps->ntids = n;
	/* "common_pid == 12 || common_pid == 13": other processes' polls
	 * then cost the kernel a comparison and are never written.  A
	 * thread list too long for a filter is filtered here instead. */
	char filter[MAX_FILTER];
	size_t used = 0;
	bool fits = n > 0;
	filter[0] = 0;
	for (size_t i = 0; i < n && fits; i++) {
		int k = snprintf(filter + used, sizeof filter - used, "%scommon_pid == %d",
				 i ? " || " : "", (int)nt[i]);
		if (k < 0 || (size_t)k >= sizeof filter - used)
			fits = false;
		else
			used += (size_t)k;
	}
	/* A filter the kernel refuses leaves the events unfiltered: then
	 * every event is checked here. */
	for (size_t c = 0; c < ps->ncpus; c++) {
		struct ring *r = &ps->cpus[c];
		/* A tracepoint event takes one filter for its life (the
		 * kernel answers EEXIST to another): a new thread list gets
		 * new events, and the old ones are read out and closed. */
		struct ring old = *r;
		if (ps->filtered &&
		    ring_open(ps, r, ps->tps, ps->npoll_tps, -1, old.cpu,
			      true, CPU_RING_ORDER) != LP_OK) {
			*r = old;	/* kept as it was: checked here */
			fits = false;
			continue;
		}
		for (size_t i = 0; i < r->nfds; i++) {
			if (ioctl(r->fds[i], PERF_EVENT_IOC_SET_FILTER,
				  fits ? filter : "common_pid != 0") != 0)
				fits = false;
		}
		if (ps->filtered)
			for (size_t i = 0; i < old.nfds; i++)
				ioctl(old.fds[i], PERF_EVENT_IOC_DISABLE, 0);
		for (size_t i = 0; i < r->nfds; i++)
			ioctl(r->fds[i], PERF_EVENT_IOC_ENABLE, 0);
		if (ps->filtered) {
			drain_ring(ps, &old);
			ring_close(&old, ps->page);
		}
	}
	ps->filtered = true;
	ps->kernel_filtered = fits;
	return LP_OK;
}

static struct ring *detail_of(perf_sys *ps, pid_t tid)
{
	for (size_t i = 0; i < ps->ndetail; i++)
		if (ps->detail[i].tid == tid)
			return &ps->detail[i];
	return NULL;
}


int perf_sys_detail(perf_sys *ps, pid_t tid, bool on)
{
	struct ring *r = detail_of(ps, tid);
	if (!on) {
		if (!r)
			return LP_OK;
		/* what it holds first; then closed, since even a disabled
		 * event costs its thread at every context switch */
		drain_ring(ps, r);
		ring_close(r, ps->page);
		*r = ps->detail[--ps->ndetail];
		return LP_OK;
	}
	if (r)
		return LP_OK;
	if (ps->ndetail == MAX_DETAIL)
		return LP_ENOMEM;
	int rc = ring_open(ps, &ps->detail[ps->ndetail], &ps->tps[ps->npoll_tps],
			   2, tid, -1, false, DETAIL_RING_ORDER);
	if (rc == LP_OK)
		ps->ndetail++;
	return rc;
}

/* Keeps an event until its drain passes it on in time order.  Bounded:
 * events past the cap are dropped as lost (the tracer drains every ms). */
#define MAX_HELD (1 << 20)

static void hold(perf_sys *ps, const struct sys_event *e)
{
	if (ps->nheld == ps->held_cap) {
		size_t nc = ps->held_cap ? 2 * ps->held_cap : 1024;
		struct sys_event *n = nc <= MAX_HELD ? realloc(ps->held, nc * sizeof *n) : NULL;
		if (!n) {
			ps->lost++;
			return;
		}
		ps->held = n;
		ps->held_cap = nc;
	}
	ps->held[ps->nheld++] = *e;
}

static long get_long(const unsigned char *raw, uint32_t len,
		     const struct tracefs_field *f, bool *ok)
{
	if ((uint32_t)f->offset + (uint32_t)f->size > len) {
		*ok = false;
		return 0;
	}
	if (f->size == 4) {
		int32_t v;
		memcpy(&v, raw + f->offset, 4);
		return v;
	}
	int64_t v;
	memcpy(&v, raw + f->offset, 8);
	return (long)v;
}

/* A PERF_RECORD_SAMPLE with TID | TIME | RAW: u32 pid, tid; u64 time;
 * u32 size; raw bytes (perf_event_open(2), in sample_type's bit order). */
static void parse_sample(perf_sys *ps, struct ring *r, const unsigned char *p,
			 size_t len)
{
	if (len < 8 + 8 + 4)
		return;
	struct sys_event e = { 0 };
	uint32_t tid, rawlen;
	uint64_t t;
	memcpy(&tid, p + 4, 4);
	memcpy(&t, p + 8, 8);
	memcpy(&rawlen, p + 16, 4);
	if (rawlen > len - 20 || rawlen < 2)
		return;
	const unsigned char *raw = p + 20;
	uint16_t type;
	memcpy(&type, raw, 2);
	const struct tp *tp = NULL;
	for (size_t i = 0; i < ps->npoll_tps + 2 && !tp; i++)
		if (ps->tps[i].id == type)
			tp = &ps->tps[i];
	if (!tp)
		return;
	bool ok = true;
	e.time_ns = t;
	r->last_ns = t;
	e.tid = (pid_t)tid;
	if (!ps->kernel_filtered && !is_target(ps, e.tid))
		return;
	e.kind = tp->enter ? SYS_ENTER : SYS_EXIT;
	e.nr = get_long(raw, rawlen, &tp->nr, &ok);
	/* a poll call seen by raw_syscalls too: its own tracepoint has it */
	if (tp->raw && syscall_is_poll(e.nr))
		return;
	if (tp->enter) {
		struct tracefs_field a = tp->a0;
		e.args[0] = (unsigned long)get_long(raw, rawlen, &a, &ok);
		a.offset += 8;
		e.args[1] = (unsigned long)get_long(raw, rawlen, &a, &ok);
	} else {
		e.ret = get_long(raw, rawlen, &tp->ret, &ok);
	}
	if (ok)
		hold(ps, &e);
}

static void drain_ring(perf_sys *ps, struct ring *r)
{
	struct perf_event_mmap_page *meta = r->base;
	const unsigned char *data = (const unsigned char *)r->base + ps->page;
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = meta->data_tail;
	uint64_t mask = r->data_size - 1;
	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;
		size_t off = (size_t)(tail & mask);
		/* The header itself may wrap: copy it byte-wise. */
		for (size_t i = 0; i < sizeof h; i++)
			((unsigned char *)&h)[i] = data[(off + i) & mask];
		if (h.size < sizeof h || tail + h.size > head)
			break;
		size_t plen = h.size - sizeof h;
		if (plen <= sizeof ps->rec) {
			size_t poff = (off + sizeof h) & mask;
			size_t first = r->data_size - poff;
			if (first >= plen) {
				memcpy(ps->rec, data + poff, plen);
			} else {
				memcpy(ps->rec, data + poff, first);
				memcpy(ps->rec + first, data, plen - first);
			}
			if (h.type == PERF_RECORD_SAMPLE) {
				parse_sample(ps, r, ps->rec, plen);
			} else if (h.type == PERF_RECORD_LOST && plen >= 16) {
				/* A CPU ring does not say whose events were
				 * lost: tid 0 stands for every thread. */
				uint64_t n;
				memcpy(&n, ps->rec + 8, 8);
				ps->lost += n;
				/* In time order, right after the last event
				 * before the loss. */
				struct sys_event e = { .tid = r->tid, .kind = SYS_LOST,
						       .time_ns = r->last_ns + 1 };
				hold(ps, &e);
			}
		}
		tail += h.size;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

static int by_time(const void *a, const void *b)
{
	const struct sys_event *x = a, *y = b;
	return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

void perf_sys_drain(perf_sys *ps, bool final, sys_event_fn fn, void *ctx)
{
	uint64_t horizon = final ? UINT64_MAX : clock_mono_ns() - HOLD_NS;
	for (size_t i = 0; i < ps->ncpus; i++)
		drain_ring(ps, &ps->cpus[i]);
	for (size_t i = 0; i < ps->ndetail; i++)
		drain_ring(ps, &ps->detail[i]);
	if (!ps->nheld)
		return;
	/* Rings are each in order; merged, by time. */
	qsort(ps->held, ps->nheld, sizeof *ps->held, by_time);
	size_t k = 0;
	while (k < ps->nheld && ps->held[k].time_ns <= horizon)
		fn(ctx, &ps->held[k++]);
	memmove(ps->held, ps->held + k, (ps->nheld - k) * sizeof *ps->held);
	ps->nheld -= k;
}
