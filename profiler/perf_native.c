#include "perf_native.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "clock.h"
#include "jitter.h"
#include "perf_ring.h"

/* The user registers each sample carries (arch/x86/include/uapi/asm/
 * perf_regs.h): AX..IP are bits 0-8, R8..R15 bits 16-23; flags and the
 * segment registers are left out.  The record lists them in bit order,
 * which is the field order of struct unwind_regs. */
#define REGS_MASK (0x1ffull | (0xffull << 16))
#define NREGS 17

/* Ring data bytes per thread: room for about 50 ms of samples at the asked
 * rate, so a drain every few ticks of the caller loses nothing, at least 8
 * samples, and at most 2 MiB (memory: one ring per thread; past it the
 * kernel drops samples and says how many). */
#define RING_MIN (128u * 1024)
#define RING_MAX (2u * 1024 * 1024)

struct pn_thread {
	pid_t tid;
	int fd;
	struct perf_ring ring;	/* base NULL once closed */
	bool listed;		/* still in the target's thread list */
	bool gone;		/* exited or no longer listed: close after
				 * its ring is drained */
};

struct perf_native {
	target *t;
	unwinder *u;
	struct perf_event_attr attr;
	size_t data_len;	/* power of two */
	size_t page;
	int epfd;
	struct pn_thread *th;
	size_t nth, capth;
	unsigned char *scratch;	/* a record cut by the ring's end, joined */
	uint64_t ips[MAX_STACK_DEPTH];
	bool maps_changed;
	uint64_t base_period, rng;
	uint64_t next_jitter_ns;	/* CLOCK_MONOTONIC */
	struct perf_native_stats st;
};

static size_t ring_len(unsigned rate, size_t stack_bytes)
{
	uint64_t rec = stack_bytes + 256;
	uint64_t want = rec * (rate / 20 > 8 ? rate / 20 : 8);
	size_t len = RING_MIN;
	while (len < want && len < RING_MAX)
		len *= 2;
	return len;
}

static void close_thread(perf_native *pn, struct pn_thread *th)
{
	perf_ring_unmap(&th->ring);
	if (th->fd >= 0)
		close(th->fd);	/* also leaves the epoll set */
	th->fd = -1;
}

/* Opens the event and ring of one thread.  LP_ENOPROC when it is gone. */
static int open_thread(perf_native *pn, pid_t tid, lp_error *err)
{
	if (pn->nth == pn->capth) {
		size_t cap = pn->capth ? pn->capth * 2 : 16;
		struct pn_thread *v = realloc(pn->th, cap * sizeof *v);
		if (!v)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		pn->th = v;
		pn->capth = cap;
	}
	int fd = perf_ring_event_open(&pn->attr, tid, -1);
	if (fd < 0 && (errno == EACCES || errno == EPERM) &&
	    !pn->attr.exclude_kernel) {
		/* perf_event_paranoid >= 2 without CAP_PERFMON: user mode
		 * only.  Then time in system calls goes unsampled. */
		pn->attr.exclude_kernel = 1;
		fd = perf_ring_event_open(&pn->attr, tid, -1);
	}
	if (fd < 0) {
		int e = errno;
		if (e == ESRCH)
			return LP_ENOPROC;
		if (e == EACCES || e == EPERM)
			return lp_error_set(err, LP_EPERM,
				"cannot open a perf event on thread %d: "
				"permission denied — run as root or set "
				"kernel.perf_event_paranoid to 1", (int)tid);
		if (e == ENOENT || e == ENODEV || e == ENOSYS ||
		    e == EOPNOTSUPP || e == EINVAL)
			return lp_error_set(err, LP_EUNSUPPORTED,
				"perf events are not available here (%s) — "
				"use the ptrace path for native stacks",
				strerror(e));
		return lp_error_set(err, lp_from_errno(e),
			"cannot open a perf event on thread %d: %s",
			(int)tid, strerror(e));
	}
	struct perf_ring ring;
	if (perf_ring_map(&ring, fd, pn->page, pn->data_len) != 0) {
		int e = errno;
		close(fd);
		return lp_error_set(err, lp_from_errno(e),
			"cannot map a perf ring of %zu KiB for thread %d: %s "
			"— raise kernel.perf_event_mlock_kb or lower the rate",
			pn->data_len / 1024, (int)tid, strerror(e));
	}
	struct epoll_event ev = { .events = EPOLLIN };
	ev.data.u64 = (uint64_t)(uint32_t)tid;
	if (epoll_ctl(pn->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		perf_ring_unmap(&ring);
		close(fd);
		return lp_error_set(err, lp_from_errno(e),
			"cannot watch a perf event: %s", strerror(e));
	}
	struct pn_thread *th = &pn->th[pn->nth++];
	th->tid = tid;
	th->fd = fd;
	th->ring = ring;
	th->listed = true;
	th->gone = false;
	return LP_OK;
}

static struct pn_thread *find_thread(perf_native *pn, pid_t tid)
{
	for (size_t i = 0; i < pn->nth; i++)
		if (pn->th[i].tid == tid && !pn->th[i].gone)
			return &pn->th[i];
	return NULL;
}

int perf_native_sync_threads(perf_native *pn, lp_error *err)
{
	for (size_t i = 0; i < pn->nth; i++)
		pn->th[i].listed = false;
	size_t n = target_nthreads(pn->t);
	int rc = LP_OK;
	for (size_t i = 0; i < n; i++) {
		pid_t tid = target_thread_at(pn->t, i)->tid;
		struct pn_thread *th = find_thread(pn, tid);
		if (th) {
			th->listed = true;
			continue;
		}
		if (pn->nth >= MAX_THREADS)
			break;
		int r = open_thread(pn, tid, err);
		if (r != LP_OK && r != LP_ENOPROC && rc == LP_OK)
			rc = r;	/* keep the first message */
	}
	for (size_t i = 0; i < pn->nth; i++)
		if (!pn->th[i].listed)
			pn->th[i].gone = true;
	return rc;
}

int perf_native_open(perf_native **out, target *t, unwinder *u,
		     unsigned rate_hz, size_t stack_bytes, lp_error *err)
{
	*out = NULL;
	if (!rate_hz || rate_hz > 100000)
		return lp_error_set(err, LP_EINVAL,
			"perf sampling rate %u Hz out of range — use 1 to "
			"100000 (the kernel's shortest period is 10 us)",
			rate_hz);
	if (!stack_bytes)
		stack_bytes = PERF_NATIVE_STACK_DEFAULT;
	if (stack_bytes % 8 || stack_bytes > PERF_NATIVE_STACK_MAX)
		return lp_error_set(err, LP_EINVAL,
			"perf stack copy of %zu bytes — use a multiple of 8 "
			"up to %u", stack_bytes, PERF_NATIVE_STACK_MAX);
	perf_native *pn = calloc(1, sizeof *pn);
	if (!pn)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	pn->t = t;
	pn->u = u;
	pn->epfd = -1;
	pn->page = (size_t)sysconf(_SC_PAGESIZE);
	pn->data_len = ring_len(rate_hz, stack_bytes);
	pn->scratch = malloc(PERF_RING_MAX_RECORD);
	pn->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!pn->scratch || pn->epfd < 0) {
		perf_native_free(pn);
		return lp_error_set(err, LP_ENOMEM,
				    "cannot set up perf sampling: %s",
				    strerror(errno));
	}
	struct perf_event_attr *a = &pn->attr;
	a->size = sizeof *a;
	/* Task clock: a per-thread event counts and samples only while the
	 * thread runs, in ns of its CPU time (an hrtimer: works where
	 * hardware counters do not, as on this VM). */
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_TASK_CLOCK;
	a->sample_period = 1000000000ull / rate_hz;
	pn->base_period = a->sample_period;
	pn->rng = (uint64_t)target_pid(t) * 0x9e3779b97f4a7c15ull | 1;
	a->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			 PERF_SAMPLE_PERIOD | PERF_SAMPLE_REGS_USER |
			 PERF_SAMPLE_STACK_USER;
	a->sample_regs_user = REGS_MASK;
	a->sample_stack_user = (uint32_t)stack_bytes;
	a->exclude_hv = 1;
	a->mmap = 1;		/* new code mappings: re-read the maps */
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)(pn->data_len / 4);
	/* Sample times on the sampler's clock. */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	int rc = perf_native_sync_threads(pn, err);
	if (rc == LP_OK && !pn->nth)
		rc = lp_error_set(err, LP_ENOPROC,
				  "no thread of PID %d left to sample",
				  (int)target_pid(t));
	if (rc != LP_OK) {
		perf_native_free(pn);
		return rc;
	}
	*out = pn;
	return LP_OK;
}

void perf_native_free(perf_native *pn)
{
	if (!pn)
		return;
	for (size_t i = 0; i < pn->nth; i++)
		close_thread(pn, &pn->th[i]);
	if (pn->epfd >= 0)
		close(pn->epfd);
	free(pn->th);
	free(pn->scratch);
	free(pn);
}

int perf_native_fd(const perf_native *pn)
{
	return pn->epfd;
}

bool perf_native_take_maps_changed(perf_native *pn)
{
	bool r = pn->maps_changed;
	pn->maps_changed = false;
	return r;
}

void perf_native_get_stats(const perf_native *pn,
			   struct perf_native_stats *st)
{
	*st = pn->st;
	st->threads = 0;
	for (size_t i = 0; i < pn->nth; i++)
		st->threads += pn->th[i].fd >= 0;
}

/* ---- records ----------------------------------------------------------- */

/* A cursor over one record: every field read is bounds-checked. */
struct rec {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static uint64_t rec_u64(struct rec *r)
{
	uint64_t v = 0;
	if (r->len - r->off < 8) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p + r->off, 8);
	r->off += 8;
	return v;
}

static void on_sample(perf_native *pn, struct rec *r, perf_native_cb cb,
		      void *ctx)
{
	/* Fields in the order of perf_event_open(2) for our sample_type. */
	rec_u64(r);				/* ip (may be a kernel one) */
	uint64_t pidtid = rec_u64(r);
	uint64_t time = rec_u64(r);
	uint64_t period = rec_u64(r);
	uint64_t abi = rec_u64(r);
	uint64_t v[NREGS] = { 0 };
	if (abi != PERF_SAMPLE_REGS_ABI_NONE)
		for (size_t i = 0; i < NREGS; i++)
			v[i] = rec_u64(r);
	uint64_t size = rec_u64(r);
	const unsigned char *stack = NULL;
	uint64_t dyn = 0;
	if (size && !r->bad) {
		if (size > r->len - r->off) {
			r->bad = true;
		} else {
			stack = r->p + r->off;
			r->off += (size_t)size;
			dyn = rec_u64(r);
			if (dyn > size)
				r->bad = true;
		}
	}
	if (r->bad) {
		pn->st.bad++;
		return;
	}
	if (abi == PERF_SAMPLE_REGS_ABI_NONE) {
		pn->st.no_user++;	/* a kernel thread's sample */
		return;
	}
	struct unwind_regs regs = {
		.ax = v[0], .bx = v[1], .cx = v[2], .dx = v[3], .si = v[4],
		.di = v[5], .bp = v[6], .sp = v[7], .ip = v[8],
		.r8 = v[9], .r9 = v[10], .r10 = v[11], .r11 = v[12],
		.r12 = v[13], .r13 = v[14], .r14 = v[15], .r15 = v[16],
	};
	struct perf_native_sample s = {
		.tid = (pid_t)(pidtid >> 32),
		.time_ns = time,
		.cpu_ns = period,
		.ips = pn->ips,
	};
	unwind_from_snapshot(pn->u, &regs, stack, (size_t)dyn, pn->ips,
			     MAX_STACK_DEPTH, &s.n, &s.truncated);
	pn->st.samples++;
	pn->st.truncated += s.truncated;
	cb(ctx, &s);
}

static void on_record(perf_native *pn, const struct perf_event_header *h,
		      const unsigned char *p, perf_native_cb cb, void *ctx)
{
	struct rec r = { p + sizeof *h, h->size - sizeof *h, 0, false };
	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		on_sample(pn, &r, cb, ctx);
		break;
	case PERF_RECORD_LOST:
		rec_u64(&r);			/* id */
		pn->st.lost += rec_u64(&r);
		break;
	case PERF_RECORD_THROTTLE:
		pn->st.throttled++;
		break;
	case PERF_RECORD_MMAP:
		pn->st.maps_changed++;	/* the maps were re-read (scan_mmaps) */
		break;
	default:
		break;			/* UNTHROTTLE, EXIT, ... */
	}
}

struct drain_ctx {
	perf_native *pn;
	perf_native_cb cb;
	void *ctx;
};

static bool drain_record(void *ctx, const struct perf_event_header *h,
			 const unsigned char *p)
{
	struct drain_ctx *d = ctx;
	on_record(d->pn, h, p, d->cb, d->ctx);
	return true;
}

/* Consumes every record of one ring (perf_ring_read: in place, except
 * one cut by the ring's end, joined in scratch). */
static void drain_ring(perf_native *pn, struct pn_thread *th,
		       perf_native_cb cb, void *ctx)
{
	struct drain_ctx d = { pn, cb, ctx };
	struct perf_ring_stats rs = { 0 };
	perf_ring_read(&th->ring, pn->scratch, drain_record, &d, &rs);
	pn->st.bad += rs.bad;
	pn->st.joined += rs.joined;
}

/* A fixed period in CPU time is a stroboscope: a target whose loop takes a
 * few milliseconds is seen at the same few phases of it over and over
 * (test_native caught a 3:1 split read as 6:1).  Every JITTER_PERIODS
 * periods a drain gives every event a new period within +-25% of the
 * asked one; the kernel restarts the count from it, so each window starts
 * at a new phase.  The restart drops the CPU time counted towards the
 * next sample (half a period on average): done at every drain, as it was,
 * a tree's drain every tick (10 ms at 100 Hz) restarted a 10 ms count
 * before it ever fired, and a native child got 1 sample in 2 s of CPU. */
#define JITTER_PERIODS 64
static void rejitter(perf_native *pn, struct pn_thread *th)
{
	uint64_t p = jitter_period(&pn->rng, pn->base_period);
	if (p == 0)
		p = 1;
	ioctl(th->fd, PERF_EVENT_IOC_PERIOD, &p);
}

/* True when a ring holds a PERF_RECORD_MMAP (a new executable mapping):
 * headers only, no record is consumed. */
static bool ring_has_mmap(const perf_native *pn, const struct pn_thread *th)
{
	const struct perf_event_mmap_page *mp = (const void *)th->ring.base;
	const unsigned char *data = th->ring.base + pn->page;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	if (head - tail > pn->data_len)
		return false;	/* drain_ring resyncs it */
	while (tail < head) {
		struct perf_event_header h;
		memcpy(&h, data + (tail & (pn->data_len - 1)), sizeof h);
		if (h.size < sizeof h || h.size > head - tail)
			return false;
		if (h.type == PERF_RECORD_MMAP)
			return true;
		tail += h.size;
	}
	return false;
}

/* A thread's new mapping is recorded in its own ring, but another thread
 * may already run there: re-read the maps once, before any ring's samples
 * are unwound, when any ring says the maps changed. */
static void scan_mmaps(perf_native *pn)
{
	for (size_t i = 0; i < pn->nth; i++)
		if (pn->th[i].ring.base && ring_has_mmap(pn, &pn->th[i])) {
			if (target_refresh_maps(pn->t) == LP_OK)
				unwinder_maps_changed(pn->u);
			pn->maps_changed = true;
			return;
		}
}

int perf_native_drain(perf_native *pn, perf_native_cb cb, void *ctx)
{
	/* Exited threads poll as hung up: mark them, so that they are
	 * closed below after their last samples (and stop waking us). */
	struct epoll_event evs[64];
	int ne = epoll_wait(pn->epfd, evs, 64, 0);
	for (int i = 0; i < ne; i++)
		if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
			struct pn_thread *th =
				find_thread(pn, (pid_t)evs[i].data.u64);
			if (th)
				th->gone = true;
		}
	scan_mmaps(pn);
	uint64_t now = clock_mono_ns();
	bool jitter = now >= pn->next_jitter_ns;
	if (jitter)
		pn->next_jitter_ns = now + JITTER_PERIODS * pn->base_period;
	for (size_t i = 0; i < pn->nth; i++)
		if (pn->th[i].ring.base) {
			drain_ring(pn, &pn->th[i], cb, ctx);
			if (jitter && !pn->th[i].gone)
				rejitter(pn, &pn->th[i]);
		}
	size_t w = 0;
	for (size_t i = 0; i < pn->nth; i++) {
		if (pn->th[i].gone) {
			close_thread(pn, &pn->th[i]);
			continue;
		}
		pn->th[w++] = pn->th[i];
	}
	pn->nth = w;
	return LP_OK;
}
