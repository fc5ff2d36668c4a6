#include "perf_sys.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tracefs.h"

/* Ring buffer per thread: 2^RING_ORDER data pages.  At about 100 bytes an
 * event pair that is 2500 syscalls between two drains (the tracer drains
 * every few ms), and 256 kB of locked memory a thread. */
#define RING_ORDER 6
/* Threads traced at once: two fds and a ring each. */
#define MAX_TRACED_THREADS 512
/* A raw_syscalls record is 16 + 48 bytes of payload; anything much larger
 * is not one of ours. */
#define MAX_RECORD 4096

struct ring {
	pid_t tid;
	int fd_enter, fd_exit;
	void *base;		/* metadata page, then the data pages */
	size_t data_size;
	bool keep;		/* marked by keep_only */
};

struct perf_sys {
	int id_enter, id_exit;
	struct tracefs_field f_id_enter, f_id_exit, f_ret, f_args;
	size_t page;
	struct ring *rings;
	size_t nrings;
	uint64_t lost;
	unsigned char rec[MAX_RECORD];	/* a record that wraps the ring */
};

static int perf_open(struct perf_event_attr *a, pid_t tid, int group)
{
	return (int)syscall(SYS_perf_event_open, a, tid, -1, group,
			    PERF_FLAG_FD_CLOEXEC);
}

static void attr_for(const perf_sys *ps, int id, struct perf_event_attr *a)
{
	memset(a, 0, sizeof *a);
	a->size = sizeof *a;
	a->type = PERF_TYPE_TRACEPOINT;
	a->config = (uint64_t)id;
	a->sample_period = 1;
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
	/* Our clock, so that event times compare with the sampler's. */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	/* Nobody waits on the fd: wake no one until the ring is half full. */
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)(ps->page << (RING_ORDER - 1));
}

static int errno_code(int e)
{
	switch (e) {
	case ESRCH: return LP_ENOPROC;
	case EPERM: case EACCES: return LP_EPERM;
	case ENOENT: case ENODEV: case EOPNOTSUPP: return LP_EUNSUPPORTED;
	case EMFILE: case ENFILE: case ENOMEM: return LP_ENOMEM;
	default: return LP_EIO;
	}
}

static int read_field(const char *dir, const char *name, const char *field,
		      struct tracefs_field *f, lp_error *err)
{
	int rc = tracefs_field(dir, "raw_syscalls", name, field, f, err);
	if (rc == LP_OK && f->size != 8 && f->size != 4)
		rc = lp_error_set(err, LP_EFORMAT, "raw_syscalls:%s: field %s has size %d",
				  name, field, f->size);
	return rc;
}

int perf_sys_new(perf_sys **out, pid_t probe_tid, lp_error *err)
{
	char dir[256];
	int rc = tracefs_find(dir, sizeof dir, err);
	if (rc != LP_OK)
		return rc;
	perf_sys *ps = calloc(1, sizeof *ps);
	if (!ps)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	ps->page = (size_t)sysconf(_SC_PAGESIZE);
	if ((rc = tracefs_event_id(dir, "raw_syscalls", "sys_enter", &ps->id_enter, err)) ||
	    (rc = tracefs_event_id(dir, "raw_syscalls", "sys_exit", &ps->id_exit, err)) ||
	    (rc = read_field(dir, "sys_enter", "id", &ps->f_id_enter, err)) ||
	    (rc = read_field(dir, "sys_exit", "id", &ps->f_id_exit, err)) ||
	    (rc = read_field(dir, "sys_exit", "ret", &ps->f_ret, err)) ||
	    (rc = tracefs_field(dir, "raw_syscalls", "sys_enter", "args", &ps->f_args, err)))
		goto fail;
	if (ps->f_args.size < 16) {
		rc = lp_error_set(err, LP_EFORMAT, "raw_syscalls:sys_enter: args has %d bytes",
				  ps->f_args.size);
		goto fail;
	}
	/* Find out now whether the kernel lets us, not per thread later. */
	struct perf_event_attr a;
	attr_for(ps, ps->id_enter, &a);
	int fd = perf_open(&a, probe_tid, -1);
	if (fd < 0) {
		int e = errno;
		rc = errno_code(e);
		lp_error_set(err, rc, "cannot open syscall tracepoints on TID %d: %s",
			     (int)probe_tid, strerror(e));
		goto fail;
	}
	close(fd);
	*out = ps;
	return LP_OK;
fail:
	free(ps);
	return rc;
}

static void ring_close(struct ring *r, size_t page)
{
	if (r->base)
		munmap(r->base, page + r->data_size);
	if (r->fd_exit >= 0)
		close(r->fd_exit);
	if (r->fd_enter >= 0)
		close(r->fd_enter);
}

void perf_sys_free(perf_sys *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->nrings; i++)
		ring_close(&ps->rings[i], ps->page);
	free(ps->rings);
	free(ps);
}

size_t perf_sys_nthreads(const perf_sys *ps)
{
	return ps->nrings;
}

uint64_t perf_sys_lost(const perf_sys *ps)
{
	return ps->lost;
}

int perf_sys_add(perf_sys *ps, pid_t tid, lp_error *err)
{
	for (size_t i = 0; i < ps->nrings; i++)
		if (ps->rings[i].tid == tid)
			return LP_OK;
	if (ps->nrings >= MAX_TRACED_THREADS)
		return lp_error_set(err, LP_ENOMEM, "more than %d threads: TID %d is not traced",
				    MAX_TRACED_THREADS, (int)tid);
	if (!ps->rings &&
	    !(ps->rings = calloc(MAX_TRACED_THREADS, sizeof *ps->rings)))
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	struct ring r = { .tid = tid, .fd_enter = -1, .fd_exit = -1,
			  .data_size = ps->page << RING_ORDER };
	struct perf_event_attr a;
	int rc;
	attr_for(ps, ps->id_enter, &a);
	r.fd_enter = perf_open(&a, tid, -1);
	if (r.fd_enter < 0)
		goto fail;
	attr_for(ps, ps->id_exit, &a);
	r.fd_exit = perf_open(&a, tid, -1);
	if (r.fd_exit < 0)
		goto fail;
	r.base = mmap(NULL, ps->page + r.data_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, r.fd_enter, 0);
	if (r.base == MAP_FAILED) {
		r.base = NULL;
		goto fail;
	}
	/* Both events of the thread write into the one ring, in order. */
	if (ioctl(r.fd_exit, PERF_EVENT_IOC_SET_OUTPUT, r.fd_enter) != 0)
		goto fail;
	ps->rings[ps->nrings++] = r;
	return LP_OK;
fail:
	rc = errno_code(errno);
	lp_error_set(err, rc, "cannot trace the syscalls of TID %d: %s", (int)tid,
		     strerror(errno));
	ring_close(&r, ps->page);
	return rc;
}

void perf_sys_keep_only(perf_sys *ps, const pid_t *tids, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; i < ps->nrings; i++) {
		bool keep = false;
		for (size_t k = 0; k < n && !keep; k++)
			keep = tids[k] == ps->rings[i].tid;
		if (keep)
			ps->rings[j++] = ps->rings[i];
		else
			ring_close(&ps->rings[i], ps->page);
	}
	ps->nrings = j;
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
static void parse_sample(perf_sys *ps, const unsigned char *p, size_t len,
			 sys_event_fn fn, void *ctx)
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
	bool ok = true;
	e.time_ns = t;
	e.tid = (pid_t)tid;
	if (type == ps->id_enter) {
		e.kind = SYS_ENTER;
		e.nr = get_long(raw, rawlen, &ps->f_id_enter, &ok);
		/* args[] are unsigned longs, 8 bytes each on 64-bit */
		struct tracefs_field a = { ps->f_args.offset, 8 };
		e.args[0] = (unsigned long)get_long(raw, rawlen, &a, &ok);
		a.offset += 8;
		e.args[1] = (unsigned long)get_long(raw, rawlen, &a, &ok);
	} else if (type == ps->id_exit) {
		e.kind = SYS_EXIT;
		e.nr = get_long(raw, rawlen, &ps->f_id_exit, &ok);
		e.ret = get_long(raw, rawlen, &ps->f_ret, &ok);
	} else {
		return;
	}
	if (ok)
		fn(ctx, &e);
}

static void drain_ring(perf_sys *ps, struct ring *r, sys_event_fn fn, void *ctx)
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
				parse_sample(ps, ps->rec, plen, fn, ctx);
			} else if (h.type == PERF_RECORD_LOST && plen >= 16) {
				uint64_t n;
				memcpy(&n, ps->rec + 8, 8);
				ps->lost += n;
				struct sys_event e = { .tid = r->tid, .kind = SYS_LOST };
				fn(ctx, &e);
			}
		}
		tail += h.size;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

void perf_sys_drain(perf_sys *ps, sys_event_fn fn, void *ctx)
{
	for (size_t i = 0; i < ps->nrings; i++)
		drain_ring(ps, &ps->rings[i], fn, ctx);
}
