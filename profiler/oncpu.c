#include "oncpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "clock.h"

/* Data pages of a thread's ring: a switch record is 24 bytes, so 8 KiB
 * hold some 340 of them, a tick's worth for a thread switching 17000
 * times a second at 100 Hz (past that, records are lost and the tick
 * goes by /proc for it).  The ring is locked memory, per thread: 12 KiB
 * with its control page, 48 MiB at MAX_THREADS.  Where the locked-memory
 * limit refuses that (a user's perf_event_mlock_kb: 516 KiB), one page. */
#define DATA_PAGES 2

struct oc_thread {
	pid_t tid;
	int fd;			/* -1: no event */
	struct perf_ring ring;	/* base NULL: none */
	struct oncpu_track tk;
	uint64_t opened_ns;	/* switches are recorded from then on */
	uint8_t state;		/* enum oncpu_state of the last read */
	/* the last cut's answer (oncpu_cut) */
	bool cut_ok;
	uint8_t cut_state;
	uint64_t cut_used;
};

struct oncpu {
	target *t;
	size_t page;
	struct perf_event_attr attr;
	struct oc_thread *th, *next;	/* MAX_THREADS each; next: sync's */
	size_t nth;
	unsigned char *scratch;
};

/* ---- records -------------------------------------------------------- */

struct read_ctx {
	struct oncpu_track *tk;
	uint64_t from, to;
	bool slept;		/* went off by a wait of its own, or back
				 * on from one, inside the window */
};

/* Every record of ours ends with its sample_id (sample_id_all): u32 pid,
 * tid; u64 time, for sample_type TID | TIME (perf_event_open(2)). */
static bool on_record(void *ctx, const struct perf_event_header *h,
		      const unsigned char *p)
{
	struct read_ctx *c = ctx;
	struct oncpu_track *tk = c->tk;
	if (h->type != PERF_RECORD_SWITCH && h->type != PERF_RECORD_LOST)
		return true;	/* nothing we asked for: skipped */
	if (h->size < sizeof *h + 16) {
		tk->rs.bad++;
		return true;
	}
	uint64_t t;
	memcpy(&t, p + h->size - 8, 8);
	if (t > c->to)
		return false;	/* after the stacks: the next tick's */
	bool window = t > c->from;
	if (h->type == PERF_RECORD_LOST) {
		uint64_t n = 0;
		if (h->size >= sizeof *h + 16 + 16)
			memcpy(&n, p + sizeof *h + 8, 8);
		tk->lost += n;
		tk->state = ONCPU_UNKNOWN;	/* switches missed */
		tk->last_ns = 0;
		tk->acc_lost = true;
		tk->gap = true;
		return true;
	}
	uint8_t next = !(h->misc & PERF_RECORD_MISC_SWITCH_OUT) ? ONCPU_ON :
		       (h->misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT) ?
		       ONCPU_PREEMPTED : ONCPU_OFF;
	/* Its runs: on since acc_from when it was on, or when its state was
	 * not known and this is an out (every switch of the thread since
	 * acc_from is a record: it ran throughout).  Not before acc_from
	 * (a record older than a seed from /proc). */
	if ((tk->state == ONCPU_ON ||
	     (tk->state == ONCPU_UNKNOWN && next != ONCPU_ON)) && t > tk->acc_from)
		tk->acc_ns += t - tk->acc_from;
	if (t > tk->acc_from)
		tk->acc_from = t;
	/* In the window: a sleep, or a wake-up from one (or from a state
	 * not known), may put the stack before or after the call it slept
	 * in; a preemption and its return leave it where it was. */
	if (window && (next == ONCPU_OFF ||
		       (next == ONCPU_ON && tk->state != ONCPU_PREEMPTED &&
			tk->state != ONCPU_ON)))
		c->slept = true;
	tk->state = next;
	tk->gap = false;
	tk->last_ns = t ? t : 1;
	tk->switches++;
	return true;
}

enum oncpu_state oncpu_track_read(struct oncpu_track *tk,
				  const struct perf_ring *r,
				  unsigned char *scratch, uint64_t from_ns,
				  uint64_t to_ns)
{
	struct read_ctx c = { tk, from_ns, to_ns, false };
	perf_ring_read(r, scratch, on_record, &c, &tk->rs);
	if (c.slept)
		return ONCPU_OFF;
	return (enum oncpu_state)tk->state;
}

bool oncpu_track_cut(struct oncpu_track *tk, const struct perf_ring *r,
		     unsigned char *scratch, uint64_t to_ns, uint64_t *used_ns,
		     enum oncpu_state *state)
{
	/* a window ending before its start (clocks read out of order):
	 * nothing to add */
	struct read_ctx c = { tk, UINT64_MAX, to_ns, false };
	perf_ring_read(r, scratch, on_record, &c, &tk->rs);
	bool ok = tk->cut_ns && !tk->acc_lost && tk->state != ONCPU_UNKNOWN;
	if (tk->state == ONCPU_ON && to_ns > tk->acc_from)
		tk->acc_ns += to_ns - tk->acc_from;
	*used_ns = tk->acc_ns;
	*state = (enum oncpu_state)tk->state;
	tk->quiet = tk->switches == tk->cut_switches && !tk->acc_lost;
	tk->cut_switches = tk->switches;
	tk->acc_ns = 0;
	tk->acc_from = to_ns > tk->acc_from ? to_ns : tk->acc_from;
	tk->cut_ns = tk->acc_from ? tk->acc_from : 1;
	tk->acc_lost = false;
	return ok;
}

void oncpu_track_seed(struct oncpu_track *tk, enum oncpu_state state)
{
	/* on throughout: only a window without a record says so */
	if (state == ONCPU_ON && !tk->quiet)
		return;
	if (tk->state == ONCPU_UNKNOWN && !tk->acc_ns && !tk->acc_lost &&
	    tk->acc_from == tk->cut_ns && tk->cut_ns) {
		tk->state = (uint8_t)state;
		tk->last_ns = tk->cut_ns;
	}
}

/* ---- events --------------------------------------------------------- */

static void close_thread(struct oc_thread *th)
{
	perf_ring_unmap(&th->ring);
	if (th->fd >= 0)
		close(th->fd);
	th->fd = -1;
}

/* Thread tid's event and ring into th: LP_OK, or the class of the
 * refusal (th then has none). */
static int open_thread(oncpu *oc, pid_t tid, struct oc_thread *th,
		       lp_error *err)
{
	memset(th, 0, sizeof *th);
	th->tid = tid;
	th->fd = perf_ring_event_open(&oc->attr, tid, -1);
	/* enabled when opened: no switch after this one goes unrecorded */
	th->opened_ns = clock_mono_ns();
	if (th->fd < 0) {
		int e = errno;
		if (e == ESRCH)
			return LP_ENOPROC;
		return lp_error_set(err, lp_errno_class(e, LP_USE_PERF),
				    "perf events refused (%s)", strerror(e));
	}
	if (perf_ring_map(&th->ring, th->fd, oc->page,
			  oc->page * DATA_PAGES) != 0 &&
	    perf_ring_map(&th->ring, th->fd, oc->page, oc->page) != 0) {
		int e = errno;
		close_thread(th);
		return lp_error_set(err, lp_errno_class(e, LP_USE_PERF),
				    "cannot map a perf ring (%s)", strerror(e));
	}
	return LP_OK;
}

/* The tracker's entry for tid, taken out of th (its fd set to -1 there),
 * hint first: the list is mostly as it was. */
static bool take_thread(oncpu *oc, pid_t tid, size_t hint,
			struct oc_thread *out)
{
	size_t k = hint < oc->nth && oc->th[hint].tid == tid ? hint : oc->nth;
	for (size_t j = 0; k == oc->nth && j < oc->nth; j++)
		if (oc->th[j].tid == tid)
			k = j;
	if (k == oc->nth || oc->th[k].fd < 0)
		return false;
	*out = oc->th[k];
	oc->th[k].fd = -1;
	oc->th[k].ring.base = NULL;
	return true;
}

static int sync_threads(oncpu *oc, lp_error *err)
{
	size_t n = target_nthreads(oc->t);
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	int rc = LP_OK;
	for (size_t i = 0; i < n; i++) {
		pid_t tid = target_thread_at(oc->t, i)->tid;
		struct oc_thread *th = &oc->next[i];
		if (take_thread(oc, tid, i, th))
			continue;
		int r = open_thread(oc, tid, th, err);
		if (r != LP_OK && r != LP_ENOPROC && rc == LP_OK)
			rc = r;
	}
	for (size_t j = 0; j < oc->nth; j++)
		close_thread(&oc->th[j]);
	struct oc_thread *old = oc->th;
	oc->th = oc->next;
	oc->next = old;
	oc->nth = n;
	return rc;
}

void oncpu_sync(oncpu *oc)
{
	lp_error err = { 0 };
	sync_threads(oc, &err);
}

int oncpu_new(oncpu **out, target *t, lp_error *err)
{
	*out = NULL;
	oncpu *oc = calloc(1, sizeof *oc);
	if (!oc)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	oc->t = t;
	oc->page = (size_t)sysconf(_SC_PAGESIZE);
	oc->th = calloc(MAX_THREADS, sizeof *oc->th);
	oc->next = calloc(MAX_THREADS, sizeof *oc->next);
	oc->scratch = malloc(PERF_RING_MAX_RECORD);
	if (!oc->th || !oc->next || !oc->scratch) {
		oncpu_free(oc);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	struct perf_event_attr *a = &oc->attr;
	a->size = sizeof *a;
	/* A dummy event counts nothing and never samples: it is there for
	 * its side-band records, the switches of its thread. */
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_DUMMY;
	a->context_switch = 1;
	a->sample_id_all = 1;
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
	/* User mode only asks no more than perf_event_paranoid 2 allows;
	 * switch records are written all the same. */
	a->exclude_kernel = 1;
	a->exclude_hv = 1;
	/* Stamped on the sampler's clock. */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	/* Nobody waits on the fd: wake no one. */
	a->watermark = 1;
	a->wakeup_watermark = 1u << 30;
	int rc = sync_threads(oc, err);
	size_t have = 0;
	for (size_t i = 0; i < oc->nth; i++)
		have += oc->th[i].ring.base != NULL;
	if (!have) {
		if (rc == LP_OK)
			rc = lp_error_set(err, LP_ENOPROC,
					  "no thread to follow");
		oncpu_free(oc);
		return rc;
	}
	*out = oc;
	return LP_OK;
}

void oncpu_free(oncpu *oc)
{
	if (!oc)
		return;
	for (size_t i = 0; oc->th && i < oc->nth; i++)
		close_thread(&oc->th[i]);
	free(oc->th);
	free(oc->next);
	free(oc->scratch);
	free(oc);
}

void oncpu_read(oncpu *oc, uint64_t from_ns, uint64_t to_ns)
{
	for (size_t i = 0; i < oc->nth; i++) {
		struct oc_thread *th = &oc->th[i];
		th->state = th->ring.base ?
			    oncpu_track_read(&th->tk, &th->ring, oc->scratch,
					     from_ns, to_ns) : ONCPU_UNKNOWN;
	}
}

void oncpu_catch_up(oncpu *oc, uint64_t to_ns)
{
	/* a window of nothing: the records only move each tracker on */
	for (size_t i = 0; i < oc->nth; i++)
		if (oc->th[i].ring.base)
			oncpu_track_read(&oc->th[i].tk, &oc->th[i].ring,
					 oc->scratch, to_ns, to_ns);
}

bool oncpu_last(const oncpu *oc, size_t i, pid_t tid, enum oncpu_state *st,
		uint64_t *since_ns)
{
	if (i >= oc->nth || oc->th[i].tid != tid || !oc->th[i].ring.base ||
	    oc->th[i].tk.gap)
		return false;
	const struct oncpu_track *tk = &oc->th[i].tk;
	*st = tk->last_ns ? (enum oncpu_state)tk->state : ONCPU_UNKNOWN;
	*since_ns = tk->last_ns ? tk->last_ns : oc->th[i].opened_ns;
	return true;
}

enum oncpu_state oncpu_state_of(const oncpu *oc, size_t i, pid_t tid)
{
	if (i >= oc->nth || oc->th[i].tid != tid)
		return ONCPU_UNKNOWN;
	return (enum oncpu_state)oc->th[i].state;
}

void oncpu_cut(oncpu *oc, uint64_t to_ns)
{
	for (size_t i = 0; i < oc->nth; i++) {
		struct oc_thread *th = &oc->th[i];
		enum oncpu_state st = ONCPU_UNKNOWN;
		th->cut_ok = th->ring.base &&
			     oncpu_track_cut(&th->tk, &th->ring, oc->scratch,
					     to_ns, &th->cut_used, &st);
		th->cut_state = (uint8_t)st;
	}
}

bool oncpu_cut_of(const oncpu *oc, size_t i, pid_t tid, uint64_t *used_ns,
		  enum oncpu_state *state)
{
	if (i >= oc->nth || oc->th[i].tid != tid || !oc->th[i].cut_ok)
		return false;
	*used_ns = oc->th[i].cut_used;
	*state = (enum oncpu_state)oc->th[i].cut_state;
	return true;
}

void oncpu_seed(oncpu *oc, size_t i, pid_t tid, enum oncpu_state state)
{
	if (i < oc->nth && oc->th[i].tid == tid && oc->th[i].ring.base)
		oncpu_track_seed(&oc->th[i].tk, state);
}

void oncpu_get_stats(const oncpu *oc, struct oncpu_stats *st)
{
	memset(st, 0, sizeof *st);
	for (size_t i = 0; i < oc->nth; i++) {
		const struct oc_thread *th = &oc->th[i];
		st->threads += th->ring.base != NULL;
		st->switches += th->tk.switches;
		st->lost += th->tk.lost;
		st->bad += th->tk.rs.bad;
	}
}
