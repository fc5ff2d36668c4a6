/* On-CPU detection from context-switch records (profiler/oncpu.c, over
 * profiler/perf_ring.c): made-up rings of PERF_RECORD_SWITCH records in
 * memory (in, out, lost, a record cut by the ring's end, records after the
 * stacks' window left for the next read), hostile rings (a head past the
 * size, sizes 0 or past the end, an unaligned tail, random bytes) that
 * must neither crash nor loop, the CPU time summed from the switches at
 * each cut (oncpu_track_cut), and the live events on this test's own
 * threads: the caller is on a CPU, a sleeper is not. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "oncpu.h"
#include "perf_ring.h"
#include "target.h"
#include "unit.h"

#define PAGE 4096u
#define DATA 4096u

/* A ring in plain memory: the control page, then DATA bytes. */
struct fake {
	unsigned char *mem;
	struct perf_ring r;
	unsigned char scratch[PERF_RING_MAX_RECORD];
	struct oncpu_track tk;
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof *f);
	ck_assert_ptr_nonnull(f);
	f->mem = aligned_alloc(PAGE, PAGE + DATA);
	ck_assert_ptr_nonnull(f->mem);
	memset(f->mem, 0, PAGE + DATA);
	f->r = (struct perf_ring){ f->mem, PAGE, DATA };
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->mem);
	free(f);
}

static struct perf_event_mmap_page *meta(struct fake *f)
{
	return (struct perf_event_mmap_page *)f->mem;
}

/* Writes len bytes at the ring's head, wrapping, and moves the head. */
static void put(struct fake *f, const void *p, size_t len)
{
	uint64_t head = meta(f)->data_head;
	for (size_t i = 0; i < len; i++)
		f->mem[PAGE + ((head + i) & (DATA - 1))] =
			((const unsigned char *)p)[i];
	meta(f)->data_head = head + len;
}

/* A switch record as the kernel writes it for sample_id_all with
 * TID | TIME: header, u32 pid, tid, u64 time. */
static void put_switch(struct fake *f, bool out, bool preempt, uint64_t t)
{
	struct {
		struct perf_event_header h;
		uint32_t pid, tid;
		uint64_t time;
	} rec = { { PERF_RECORD_SWITCH,
		    (uint16_t)((out ? PERF_RECORD_MISC_SWITCH_OUT : 0) |
			       (preempt ? PERF_RECORD_MISC_SWITCH_OUT_PREEMPT : 0)),
		    24 }, 7, 7, t };
	put(f, &rec, sizeof rec);
}

static void put_lost(struct fake *f, uint64_t n, uint64_t t)
{
	struct {
		struct perf_event_header h;
		uint64_t id, lost;
		uint32_t pid, tid;
		uint64_t time;
	} rec = { { PERF_RECORD_LOST, 0, 40 }, 1, n, 7, 7, t };
	put(f, &rec, sizeof rec);
}

static enum oncpu_state rd(struct fake *f, uint64_t from, uint64_t to)
{
	return oncpu_track_read(&f->tk, &f->r, f->scratch, from, to);
}

START_TEST(empty_ring_is_unknown)
{
	struct fake *f = fake_new();
	ck_assert_int_eq(rd(f, 100, 200), ONCPU_UNKNOWN);
	ck_assert_uint_eq(f->tk.rs.bad, 0);
	fake_free(f);
}
END_TEST

START_TEST(in_then_out)
{
	struct fake *f = fake_new();
	put_switch(f, false, false, 100);
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_ON);
	/* no new record: still on */
	ck_assert_int_eq(rd(f, 400, 500), ONCPU_ON);
	put_switch(f, true, true, 550);		/* preempted */
	ck_assert_int_eq(rd(f, 600, 700), ONCPU_PREEMPTED);
	put_switch(f, false, false, 800);
	put_switch(f, true, false, 850);	/* went to sleep */
	ck_assert_int_eq(rd(f, 900, 950), ONCPU_OFF);
	ck_assert_uint_eq(f->tk.switches, 4);
	ck_assert_uint_eq(meta(f)->data_tail, meta(f)->data_head);
	fake_free(f);
}
END_TEST

/* A switch inside the window: the stack may be from either side. */
START_TEST(switch_in_window_is_off)
{
	struct fake *f = fake_new();
	put_switch(f, true, false, 100);
	put_switch(f, false, false, 250);	/* woke during the read */
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_OFF);
	/* and on from then on */
	ck_assert_int_eq(rd(f, 400, 500), ONCPU_ON);
	put_switch(f, true, false, 650);	/* slept during the read */
	ck_assert_int_eq(rd(f, 600, 700), ONCPU_OFF);
	fake_free(f);
}
END_TEST

/* Records after the window stay in the ring for the next read. */
START_TEST(later_records_wait)
{
	struct fake *f = fake_new();
	put_switch(f, false, false, 100);
	put_switch(f, true, false, 400);
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_ON);
	ck_assert_uint_eq(meta(f)->data_tail, 24);
	ck_assert_uint_eq(f->tk.switches, 1);
	ck_assert_int_eq(rd(f, 500, 600), ONCPU_OFF);
	ck_assert_uint_eq(meta(f)->data_tail, 48);
	fake_free(f);
}
END_TEST

/* Preempted, or back from a preemption, in the window: the stack is the
 * code it ran all the same (a deep stack's read outlasts a time slice). */
START_TEST(preempted_in_window_runs)
{
	struct fake *f = fake_new();
	put_switch(f, false, false, 610);
	put_switch(f, true, true, 650);
	ck_assert_int_eq(rd(f, 640, 660), ONCPU_PREEMPTED);
	put_switch(f, false, false, 720);
	put_switch(f, true, true, 740);
	put_switch(f, false, false, 760);
	ck_assert_int_eq(rd(f, 700, 800), ONCPU_ON);
	/* but a sleep in the window is not */
	put_switch(f, true, true, 820);
	put_switch(f, false, false, 830);
	put_switch(f, true, false, 840);
	put_switch(f, false, false, 850);
	ck_assert_int_eq(rd(f, 800, 900), ONCPU_OFF);
	ck_assert_int_eq(rd(f, 900, 1000), ONCPU_ON);
	/* nor a wake-up after a state not known */
	put_lost(f, 3, 1050);
	put_switch(f, false, false, 1150);
	ck_assert_int_eq(rd(f, 1100, 1200), ONCPU_OFF);
	/* a paused read: the window is one instant, a switch at it before
	 * the read */
	put_switch(f, true, false, 1300);
	put_switch(f, false, false, 1400);
	ck_assert_int_eq(rd(f, 1400, 1400), ONCPU_ON);
	fake_free(f);
}
END_TEST

/* Records the kernel dropped: unknown until the next switch. */
START_TEST(lost_is_unknown)
{
	struct fake *f = fake_new();
	put_switch(f, false, false, 100);
	put_lost(f, 12, 150);
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	ck_assert_uint_eq(f->tk.lost, 12);
	put_switch(f, false, false, 350);
	ck_assert_int_eq(rd(f, 400, 500), ONCPU_ON);
	fake_free(f);
}
END_TEST

/* ---- accounting: CPU time from the switches (oncpu_track_cut) ------- */

static bool cut(struct fake *f, uint64_t to, uint64_t *used,
		enum oncpu_state *st)
{
	return oncpu_track_cut(&f->tk, &f->r, f->scratch, to, used, st);
}

/* The runs between switches, cut at each tick; a run across a cut is
 * split between the two windows; preempted time is not CPU time. */
START_TEST(cut_sums_runs)
{
	struct fake *f = fake_new();
	uint64_t used;
	enum oncpu_state st;
	put_switch(f, false, false, 100);
	/* the first window has no cut before it: /proc's */
	ck_assert(!cut(f, 1000, &used, &st));
	put_switch(f, true, false, 1300);	/* ran 1000..1300 */
	put_switch(f, false, false, 1500);
	put_switch(f, true, true, 1600);	/* preempted: ran 1500..1600 */
	put_switch(f, false, false, 1900);	/* back: runs on */
	ck_assert(cut(f, 2000, &used, &st));
	ck_assert_uint_eq(used, 300 + 100 + 100);
	ck_assert_int_eq(st, ONCPU_ON);
	/* no switch: ran throughout */
	ck_assert(cut(f, 3000, &used, &st));
	ck_assert_uint_eq(used, 1000);
	put_switch(f, true, false, 3250);	/* asleep */
	ck_assert(cut(f, 4000, &used, &st));
	ck_assert_uint_eq(used, 250);
	ck_assert_int_eq(st, ONCPU_OFF);
	/* asleep throughout */
	ck_assert(cut(f, 5000, &used, &st));
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(st, ONCPU_OFF);
	/* a record after the cut waits for the next window */
	put_switch(f, false, false, 5400);
	ck_assert(cut(f, 5200, &used, &st));
	ck_assert_uint_eq(used, 0);
	ck_assert(cut(f, 6000, &used, &st));
	ck_assert_uint_eq(used, 600);
	fake_free(f);
}
END_TEST

/* Nothing known before the window: its first switch tells (an out: it ran
 * since the cut; an in: it did not); no switch at all: /proc's, and what
 * /proc said seeds the state. */
START_TEST(cut_state_from_first_switch_or_seed)
{
	struct fake *f = fake_new();
	uint64_t used;
	enum oncpu_state st;
	ck_assert(!cut(f, 1000, &used, &st));	/* no cut yet */
	put_switch(f, true, true, 1400);	/* ran until preempted */
	ck_assert(cut(f, 2000, &used, &st));
	ck_assert_uint_eq(used, 400);
	ck_assert_int_eq(st, ONCPU_PREEMPTED);

	struct fake *g = fake_new();
	ck_assert(!cut(g, 1000, &used, &st));
	put_switch(g, false, false, 1700);	/* off until then */
	ck_assert(cut(g, 2000, &used, &st));
	ck_assert_uint_eq(used, 300);
	ck_assert_int_eq(st, ONCPU_ON);
	fake_free(g);

	struct fake *h = fake_new();
	ck_assert(!cut(h, 1000, &used, &st));
	ck_assert(!cut(h, 2000, &used, &st));	/* no switch: not told */
	oncpu_track_seed(&h->tk, ONCPU_OFF);	/* /proc: asleep */
	ck_assert(cut(h, 3000, &used, &st));
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(st, ONCPU_OFF);
	put_switch(h, false, false, 3100);
	put_switch(h, true, false, 3150);
	ck_assert(cut(h, 4000, &used, &st));
	ck_assert_uint_eq(used, 50);
	fake_free(h);

	/* on throughout only from a window without a switch */
	struct fake *k = fake_new();
	ck_assert(!cut(k, 1000, &used, &st));
	ck_assert(!cut(k, 2000, &used, &st));
	oncpu_track_seed(&k->tk, ONCPU_ON);
	ck_assert(cut(k, 3000, &used, &st));
	ck_assert_uint_eq(used, 1000);
	ck_assert_int_eq(st, ONCPU_ON);
	fake_free(k);

	/* a switch after the cut, read after the seed: counted from the cut */
	struct fake *m = fake_new();
	ck_assert(!cut(m, 1000, &used, &st));
	ck_assert(!cut(m, 2000, &used, &st));
	put_switch(m, true, false, 2500);
	oncpu_track_seed(&m->tk, ONCPU_ON);
	ck_assert(cut(m, 3000, &used, &st));
	ck_assert_uint_eq(used, 500);
	ck_assert_int_eq(st, ONCPU_OFF);
	fake_free(f);
	fake_free(m);
}
END_TEST

/* Records lost: the window is /proc's, and so is the next until a switch
 * tells the state again; a seed over a lossy window is only ever off. */
START_TEST(cut_lost_is_procs)
{
	struct fake *f = fake_new();
	uint64_t used;
	enum oncpu_state st;
	put_switch(f, false, false, 100);
	ck_assert(!cut(f, 1000, &used, &st));
	ck_assert(cut(f, 2000, &used, &st));
	ck_assert_uint_eq(used, 1000);
	put_lost(f, 3, 2500);
	ck_assert(!cut(f, 3000, &used, &st));
	oncpu_track_seed(&f->tk, ONCPU_ON);	/* not quiet: refused */
	ck_assert(!cut(f, 4000, &used, &st));
	put_switch(f, true, false, 4200);	/* ran since the cut */
	ck_assert(cut(f, 5000, &used, &st));
	ck_assert_uint_eq(used, 200);
	ck_assert_int_eq(st, ONCPU_OFF);
	fake_free(f);
}
END_TEST

/* A tick's states lean on "no switch since": a loss leaves a gap that
 * only the next switch record closes (oncpu_last then says nothing), and a
 * catch-up read (a window of nothing) moves the tracker on without calling
 * anything a sleep. */
START_TEST(lost_leaves_a_gap)
{
	struct fake *f = fake_new();
	put_switch(f, true, false, 100);
	ck_assert_int_eq(rd(f, 150, 150), ONCPU_OFF);
	ck_assert(!f->tk.gap);
	ck_assert_uint_eq(f->tk.last_ns, 100);
	put_lost(f, 3, 200);
	rd(f, 250, 250);
	ck_assert(f->tk.gap);
	ck_assert_uint_eq(f->tk.last_ns, 0);
	put_switch(f, false, false, 300);
	ck_assert_int_eq(rd(f, 350, 350), ONCPU_ON);
	ck_assert(!f->tk.gap);
	ck_assert_uint_eq(f->tk.last_ns, 300);
	fake_free(f);
}
END_TEST

/* Other records (none we ask for, but a kernel may add some) are skipped;
 * a record cut by the ring's end is joined. */
START_TEST(wrap_and_other_records)
{
	struct fake *f = fake_new();
	/* start 8 bytes before the end: every record wraps once */
	meta(f)->data_head = meta(f)->data_tail = 2 * DATA - 8;
	struct {
		struct perf_event_header h;
		uint64_t x[3];
	} other = { { PERF_RECORD_COMM, 0, 32 }, { 1, 2, 3 } };
	put(f, &other, sizeof other);
	put_switch(f, false, false, 100);
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_ON);
	ck_assert_uint_eq(f->tk.rs.joined, 1);
	ck_assert_uint_eq(f->tk.rs.bad, 0);
	/* a long run of records around the ring, read a few at a time */
	for (uint64_t t = 1000; t < 1000 + 3 * DATA; t += 10) {
		put_switch(f, true, true, t);
		put_switch(f, false, false, t + 5);
		ck_assert_int_eq(rd(f, t + 6, t + 7), ONCPU_ON);
	}
	ck_assert_uint_eq(f->tk.rs.bad, 0);
	fake_free(f);
}
END_TEST

START_TEST(hostile_rings)
{
	struct fake *f = fake_new();
	/* a head far past the ring's size */
	meta(f)->data_head = 10 * DATA;
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	ck_assert_uint_eq(f->tk.rs.bad, 1);
	ck_assert_uint_eq(meta(f)->data_tail, 10 * DATA);
	/* a record of size 0 */
	struct perf_event_header z = { PERF_RECORD_SWITCH, 0, 0 };
	put(f, &z, sizeof z);
	put_switch(f, false, false, 100);
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	ck_assert_uint_eq(f->tk.rs.bad, 2);
	ck_assert_uint_eq(meta(f)->data_tail, meta(f)->data_head);
	/* a size past the head, and one not a multiple of 8 */
	struct perf_event_header big = { PERF_RECORD_SWITCH, 0, 4000 };
	put(f, &big, sizeof big);
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	struct perf_event_header odd = { PERF_RECORD_SWITCH, 0, 12 };
	put(f, &odd, sizeof odd);
	put(f, &odd, sizeof odd);
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	ck_assert_uint_eq(f->tk.rs.bad, 4);
	/* a switch record too short for its time stamp */
	struct perf_event_header shrt = { PERF_RECORD_SWITCH, 0, 16 };
	put(f, &shrt, sizeof shrt);
	put(f, &shrt, sizeof shrt);
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	ck_assert_uint_eq(f->tk.switches, 0);
	/* an unaligned tail (the kernel's head is ours to trust, the tail
	 * is ours to keep: a corrupt one must not read past the data) */
	meta(f)->data_tail = meta(f)->data_head - 3;
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	ck_assert_uint_eq(meta(f)->data_tail, meta(f)->data_head);
	/* a tail ahead of the head */
	meta(f)->data_tail = meta(f)->data_head + 64;
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	ck_assert_uint_eq(meta(f)->data_tail, meta(f)->data_head);
	/* random bytes and random positions: every read ends */
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < DATA; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(f->mem + PAGE + i, &x, 8);
		}
		meta(f)->data_tail = (x >> 7) & ~7ull;
		meta(f)->data_head = meta(f)->data_tail +
				     (round % 3 ? (x & (DATA - 1)) : x);
		rd(f, x >> 20, (x >> 20) + 1000);
	}
	fake_free(f);
}
END_TEST

/* A ring that is not one: no data, or a size not a power of two. */
START_TEST(bad_geometry)
{
	struct fake *f = fake_new();
	put_switch(f, false, false, 100);
	f->r.data_len = 3000;
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	f->r.data_len = 0;
	ck_assert_int_eq(rd(f, 200, 300), ONCPU_UNKNOWN);
	fake_free(f);
}
END_TEST

/* ---- live: this test's own threads ---------------------------------- */

static atomic_int stop_sleeper;
static atomic_int sleeper_tid;

static void *sleeper(void *arg)
{
	(void)arg;
	atomic_store(&sleeper_tid, (int)syscall(SYS_gettid));
	struct timespec ts = { 0, 2000000 };
	while (!atomic_load(&stop_sleeper))
		nanosleep(&ts, NULL);
	return NULL;
}

static size_t index_of(target *t, pid_t tid)
{
	for (size_t i = 0; i < target_nthreads(t); i++)
		if (target_thread_at(t, i)->tid == tid)
			return i;
	return (size_t)-1;
}

START_TEST(live_threads)
{
	pthread_t th;
	atomic_store(&stop_sleeper, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, sleeper, NULL), 0);
	while (!atomic_load(&sleeper_tid))
		usleep(1000);
	lp_error err = { 0 };
	target *t = NULL;
	ck_assert_int_eq(target_attach(&t, getpid(), &err), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	oncpu *oc = NULL;
	int rc = oncpu_new(&oc, t, &err);
	if (rc == LP_EPERM || rc == LP_EUNSUPPORTED) {
		atomic_store(&stop_sleeper, 1);
		pthread_join(th, NULL);
		target_free(t, true);
		unit_skip("perf events refused here: %s", err.msg);
	}
	ck_assert_msg(rc == LP_OK, "%s", err.msg);
	pid_t me = (pid_t)syscall(SYS_gettid), sl = atomic_load(&sleeper_tid);
	size_t im = index_of(t, me), is = index_of(t, sl);
	ck_assert(im != (size_t)-1 && is != (size_t)-1);
	/* The caller is on a CPU while it asks (unless preempted in the
	 * window: a few tries); the sleeper is asleep nearly always.  On a
	 * busy box both states may be seen before the sleeper has run at
	 * all (4 switches, all the caller's): tries go on until more. */
	bool me_on = false, sl_off = false;
	struct oncpu_stats st;
	memset(&st, 0, sizeof st);
	for (int k = 0; k < 50 && !(me_on && sl_off && st.switches > 4); k++) {
		usleep(5000);	/* switches of both */
		uint64_t now = clock_mono_ns();
		oncpu_read(oc, now, now);
		me_on |= oncpu_state_of(oc, im, me) == ONCPU_ON;
		sl_off |= oncpu_state_of(oc, is, sl) == ONCPU_OFF;
		oncpu_get_stats(oc, &st);
	}
	ck_assert(me_on);
	ck_assert(sl_off);
	/* a stale index answers nothing */
	ck_assert_int_eq(oncpu_state_of(oc, im, me + 100000), ONCPU_UNKNOWN);
	ck_assert_int_eq(oncpu_state_of(oc, 100000, me), ONCPU_UNKNOWN);
	oncpu_get_stats(oc, &st);
	ck_assert_uint_ge(st.threads, 2);
	ck_assert_uint_gt(st.switches, 4);
	ck_assert_uint_eq(st.bad, 0);
	/* the sleeper ends: the next sync drops its event */
	atomic_store(&stop_sleeper, 1);
	pthread_join(th, NULL);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	oncpu_sync(oc);
	oncpu_get_stats(oc, &st);
	ck_assert_uint_eq(st.threads, target_nthreads(t));
	oncpu_free(oc);
	target_free(t, true);
}
END_TEST

/* The CPU time summed from this thread's own switches, against what the
 * kernel says it used (its CPU clock), over windows of work and sleep. */
START_TEST(live_cut_is_cpu_time)
{
	lp_error err = { 0 };
	target *t = NULL;
	ck_assert_int_eq(target_attach(&t, getpid(), &err), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	oncpu *oc = NULL;
	int rc = oncpu_new(&oc, t, &err);
	if (rc == LP_EPERM || rc == LP_EUNSUPPORTED) {
		target_free(t, true);
		unit_skip("perf events refused here: %s", err.msg);
	}
	ck_assert_msg(rc == LP_OK, "%s", err.msg);
	pid_t me = (pid_t)syscall(SYS_gettid);
	size_t im = index_of(t, me);
	ck_assert(im != (size_t)-1);
	uint64_t used, sum = 0;
	enum oncpu_state st;
	oncpu_cut(oc, clock_mono_ns());
	/* a sleep: its in and out tell the state from then on */
	usleep(2000);
	oncpu_cut(oc, clock_mono_ns());
	uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	int told = 0;
	for (int k = 0; k < 6; k++) {
		uint64_t end = clock_mono_ns() + 15000000;
		while (clock_mono_ns() < end)
			;	/* work */
		usleep(5000);	/* and a sleep */
		oncpu_cut(oc, clock_mono_ns());
		if (oncpu_cut_of(oc, im, me, &used, &st)) {
			sum += used;
			told++;
		}
	}
	uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	ck_assert_int_eq(told, 6);
	/* the kernel's clock and the switches' stamps: within 5% and the
	 * few microseconds around each cut */
	ck_assert_msg(sum + cpu / 20 + 200000 >= cpu && sum <= cpu + cpu / 20 + 200000,
		      "switches say %llu ns, the CPU clock %llu ns",
		      (unsigned long long)sum, (unsigned long long)cpu);
	oncpu_free(oc);
	target_free(t, true);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("oncpu");
	TCase *tc = tcase_create("rings");
	tcase_add_test(tc, empty_ring_is_unknown);
	tcase_add_test(tc, in_then_out);
	tcase_add_test(tc, switch_in_window_is_off);
	tcase_add_test(tc, later_records_wait);
	tcase_add_test(tc, preempted_in_window_runs);
	tcase_add_test(tc, lost_is_unknown);
	tcase_add_test(tc, cut_sums_runs);
	tcase_add_test(tc, cut_state_from_first_switch_or_seed);
	tcase_add_test(tc, cut_lost_is_procs);
	tcase_add_test(tc, wrap_and_other_records);
	tcase_add_test(tc, hostile_rings);
	tcase_add_test(tc, lost_leaves_a_gap);
	tcase_add_test(tc, bad_geometry);
	suite_add_tcase(s, tc);
	TCase *tl = tcase_create("live");
	tcase_set_timeout(tl, 30);
	tcase_add_test(tl, live_threads);
	tcase_add_test(tl, live_cut_is_cpu_time);
	suite_add_tcase(s, tl);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
