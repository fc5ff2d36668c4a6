#include "tasks.h"

#include <stdlib.h>
#include <string.h>

#include "bounds.h"

/* Slots of the cache task -> interned stack (a power of two, twice the
 * task bound so probes stay short). */
#define STACK_CACHE (2 * MAX_ASYNCIO_TASKS)
#define STACK_PROBE 16

struct stack_slot {
	uint64_t addr;		/* task object, 0 free */
	uint32_t gen;		/* aio_task.gen it was built from */
	uint32_t stack;		/* task frame over the await chain */
	uint32_t task;		/* string id of the name */
	uint32_t root_func, root_file;	/* outermost coroutine's ids */
};

struct task_sampler {
	aio_reader *aio;
	profile *p;
	uint64_t ticks;			/* tasks_emit calls */
	struct stack_slot *slots;
	uint32_t ids[MAX_AWAIT_DEPTH + 1];
};

int tasks_new(task_sampler **out, py_proc *py, profile *p, lp_error *err)
{
	*out = NULL;
	task_sampler *ts = calloc(1, sizeof *ts);
	if (!ts)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	ts->p = p;
	ts->slots = calloc(STACK_CACHE, sizeof *ts->slots);
	int rc = ts->slots ? aio_reader_new(&ts->aio, py, err)
			   : lp_error_set(err, LP_ENOMEM, "out of memory");
	if (rc != LP_OK) {
		tasks_free(ts);
		return rc;
	}
	*out = ts;
	return LP_OK;
}

void tasks_free(task_sampler *ts)
{
	if (!ts)
		return;
	aio_reader_free(ts->aio);
	free(ts->slots);
	free(ts);
}

void tasks_watch_ready(task_sampler *ts, bool on)
{
	aio_reader_watch_ready(ts->aio, on);
}

int tasks_update(task_sampler *ts, const struct py_thread *threads,
		 size_t nthreads, bool full, lp_error *err)
{
	return aio_reader_update(ts->aio, threads, nthreads, full, err);
}

const aio_reader *tasks_reader(const task_sampler *ts)
{
	return ts->aio;
}

static uint32_t py_frame_id(profile *p, const struct py_frame *f)
{
	struct frame fr = {
		.kind = FRAME_PYTHON,
		.func = profile_intern_cstr(p, f->func ? f->func : "<unknown>"),
		.file = profile_intern_cstr(p, f->file ? f->file : ""),
		.line = f->line,
	};
	if (fr.func == PROFILE_NOID || fr.file == PROFILE_NOID)
		return PROFILE_NOID;
	return profile_intern_frame(p, &fr);
}

/* The cached stack of task t, built again when its chain changed. */
static const struct stack_slot *task_slot(task_sampler *ts,
					  const struct aio_task *t)
{
	size_t h = (size_t)((t->addr >> 4) * 0x9e3779b97f4a7c15ull >> 40) &
		   (STACK_CACHE - 1);
	struct stack_slot *s = NULL;
	for (size_t k = 0; k < STACK_PROBE; k++) {
		struct stack_slot *c = &ts->slots[(h + k) & (STACK_CACHE - 1)];
		if (c->addr == t->addr || !c->addr) {
			s = c;
			break;
		}
	}
	if (!s)
		s = &ts->slots[h];	/* full run: replace the first */
	if (s->addr == t->addr && s->gen == t->gen)
		return s;
	struct frame tf = { .kind = FRAME_TASK,
			    .func = profile_intern_cstr(ts->p, t->name ? t->name : "<task>") };
	if (tf.func == PROFILE_NOID)
		return NULL;
	size_t n = 0;
	ts->ids[n] = profile_intern_frame(ts->p, &tf);
	if (ts->ids[n++] == PROFILE_NOID)
		return NULL;
	for (size_t i = 0; i < t->nframes && n < MAX_AWAIT_DEPTH + 1; i++) {
		ts->ids[n] = py_frame_id(ts->p, &t->frames[i]);
		if (ts->ids[n++] == PROFILE_NOID)
			return NULL;
	}
	uint32_t stack = profile_intern_stack(ts->p, ts->ids, n);
	if (stack == PROFILE_NOID)
		return NULL;
	*s = (struct stack_slot){ t->addr, t->gen, stack, tf.func, 0, 0 };
	if (t->nframes) {
		s->root_func = profile_intern_cstr(ts->p, t->frames[0].func ?
						   t->frames[0].func : "");
		s->root_file = profile_intern_cstr(ts->p, t->frames[0].file ?
						   t->frames[0].file : "");
	}
	return s;
}

int tasks_thread_stack(task_sampler *ts, pid_t tid, uint32_t *frames,
		       size_t *n, size_t cap, uint32_t *task)
{
	*task = 0;
	const struct aio_task *t = aio_reader_running(ts->aio, tid);
	if (!t || !cap)
		return LP_OK;
	const struct stack_slot *s = task_slot(ts, t);
	struct frame tf = { .kind = FRAME_TASK, .func = s ? s->task : 0 };
	uint32_t task_frame = s ? profile_intern_frame(ts->p, &tf) : PROFILE_NOID;
	if (task_frame == PROFILE_NOID)
		return LP_ENOMEM;
	/* Drop the loop machinery above the task's outermost coroutine
	 * (run_forever, _run_once, Handle._run, Task.__step). */
	size_t from = 0;
	bool found = !s->root_func;
	for (size_t i = 0; i < *n && !found; i++) {
		const struct frame *f = profile_frame(ts->p, frames[i]);
		if (f && f->kind == FRAME_PYTHON && f->func == s->root_func &&
		    f->file == s->root_file) {
			from = i;
			found = true;
		}
	}
	/* The loop's current task and the stack are not read at one
	 * instant: a stack without the task's coroutine was taken between
	 * two steps of it, in the loop's own code, and is no task's. */
	if (!found)
		return LP_OK;
	size_t m = *n - from;
	if (m + 1 > cap)
		m = cap - 1;
	memmove(frames + 1, frames + from, m * sizeof *frames);
	frames[0] = task_frame;
	*task = s->task;
	*n = m + 1;
	return LP_OK;
}

int tasks_emit(task_sampler *ts, int32_t pid, uint64_t rel_ns, uint32_t weight,
	       task_sink sink, void *sink_ctx, uint64_t *added)
{
	size_t n;
	const struct aio_task *t = aio_reader_tasks(ts->aio, &n, NULL);
	/* Past MAX_TASK_SAMPLES suspended tasks, each is sampled every k-th
	 * tick (in turn, by its place in the list) with k times the weight:
	 * the same totals in expectation, at most MAX_TASK_SAMPLES samples
	 * a tick. */
	uint64_t k = (n + MAX_TASK_SAMPLES - 1) / MAX_TASK_SAMPLES;
	if (k == 0)
		k = 1;
	uint64_t w = (uint64_t)(weight ? weight : 1) * k;
	uint64_t phase = ts->ticks++ % k;
	for (size_t i = 0; i < n; i++) {
		if (t[i].running || i % k != phase)
			continue;
		const struct stack_slot *s = task_slot(ts, &t[i]);
		if (!s)
			return LP_ENOMEM;
		struct sample smp = {
			.time_ns = rel_ns,
			.pid = pid,
			.tid = t[i].tid ? t[i].tid : pid,
			.stack = s->stack,
			.flags = SAMPLE_IDLE,
			.task = s->task,
			.weight = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w,
		};
		if (profile_add_sample(ts->p, &smp) != LP_OK)
			return LP_ENOMEM;
		(*added)++;
		int rc = sink ? sink(sink_ctx, ts->p, &smp) : LP_OK;
		if (rc != LP_OK)
			return rc;
	}
	return LP_OK;
}
