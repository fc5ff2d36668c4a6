/* Interning (strings, frames, stacks) and aggregation of samples.
 *
 * A frame is interned once to an id; a stack is an interned array of frame
 * ids, root first; a sample is (time, pid, tid, stack id, flags, cpu ns,
 * task id).  The profile adds samples up per (stack, pid, tid, task) so its
 * memory grows with distinct stacks, not with time, unless the timeline is
 * kept (for formats that need time). */
#ifndef LOUPE_PROFILE_H
#define LOUPE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Id 0 is "none" for strings (the empty string), frames and stacks (the
 * empty stack); interning functions return PROFILE_NOID on allocation
 * failure, on an id that does not exist (a frame naming an unknown string,
 * a stack naming an unknown frame), on input beyond the MAX_INTERN_* bounds
 * and when the ids of a table would run out. */
#define PROFILE_NOID UINT32_MAX

enum frame_kind {
	FRAME_NATIVE = 0,
	FRAME_PYTHON = 1,
	FRAME_TASK = 2,		/* an asyncio task: func is its name */
	FRAME_THREAD = 3,	/* synthetic root: line is the TID, func the
				 * thread's name (or 0) */
	FRAME_PROCESS = 4,	/* synthetic root: line is the PID, func the
				 * command name (or 0) */
	FRAME_KIND_COUNT
};

struct frame {
	uint32_t kind;		/* enum frame_kind */
	uint32_t func;		/* string id */
	uint32_t file;		/* string id (source file, or 0) */
	uint32_t module;	/* string id (ELF module for native, or 0) */
	int32_t line;		/* source line, 0 when unknown */
	uint64_t offset;	/* native without a symbol (func 0): address as
				 * an offset into module; 0 otherwise */
};

enum sample_flags {
	SAMPLE_ON_CPU = 1,	/* the thread ran since it was last charged:
				 * cpu_weight periods of CPU time (the
				 * kernel's count), never "it was in state R" */
	SAMPLE_GIL = 2,		/* the thread held the GIL */
	SAMPLE_IDLE = 4,	/* waiting (sleep, poll, lock) */
	SAMPLE_TRUNCATED = 8,	/* the walk stopped before the stack's root */
};

struct sample {
	uint64_t time_ns;	/* since the recording started */
	int32_t pid, tid;
	uint32_t stack;		/* stack id */
	uint32_t flags;		/* enum sample_flags */
	uint64_t cpu_ns;	/* CPU time the thread used since its previous
				 * sample */
	uint32_t task;		/* string id of the asyncio task, 0 if none */
	uint32_t weight;	/* sampling periods this sample stands for: more
				 * than 1 after missed deadlines; 0 reads as 1 */
	uint32_t cpu_weight;	/* with SAMPLE_ON_CPU: sampling periods of CPU
				 * time the thread used that this sample is
				 * charged (the sampler carries the rest to
				 * the thread's next one); 0 reads as weight */
};

/* One aggregate: everything known of one (stack, pid, tid, task). */
struct profile_agg {
	uint32_t stack;
	int32_t pid, tid;
	uint32_t task;
	uint64_t samples;	/* wall samples (all) */
	uint64_t cpu_samples;	/* cpu_weight of samples with SAMPLE_ON_CPU */
	uint64_t gil_samples;	/* samples with SAMPLE_GIL */
	uint64_t idle_samples;	/* samples with SAMPLE_IDLE */
	uint64_t cpu_ns;	/* sum of cpu_ns */
};

/* A span of time on a thread that is not a sample: an event-loop tick or
 * stall from the tracer.  Kept in the order added; formats with a timeline
 * draw them (chrome) and the raw format keeps them. */
struct profile_span {
	uint64_t start_ns;	/* since the recording started */
	uint64_t dur_ns;
	int32_t pid, tid;
	uint32_t cat;		/* string id: kind ("tick", "stall") */
	uint32_t name;		/* string id: what is shown on the slice */
	uint32_t detail;	/* string id: free text (0: none) */
};

struct profile_thread {
	int32_t pid, tid;
	uint32_t name;		/* string id */
};

typedef struct profile profile;

profile *profile_new(void);
void profile_free(profile *p);
/* Empties p to what profile_new gives, keeping its tables' memory (a
 * scratch profile reused, not made again for each use).  LP_ENOMEM leaves
 * p to be freed. */
int profile_clear(profile *p);
/* Keep every sample in order (chrome trace, raw re-export with time). */
void profile_keep_timeline(profile *p, bool keep);

uint32_t profile_intern_str(profile *p, const char *s, size_t len);
uint32_t profile_intern_cstr(profile *p, const char *s);
uint32_t profile_intern_frame(profile *p, const struct frame *f);
/* frames[0] is the root.  n may be 0 (the empty stack, id 0). */
uint32_t profile_intern_stack(profile *p, const uint32_t *frames, size_t n);

/* Returns 0, LP_ENOMEM, or LP_EINVAL when s names an unknown stack or task
 * string or would take the profile's total samples or CPU ns past 2^64 - 1
 * (so that no sum of aggregates wraps).  Allocates only when a new (stack, pid, tid, task) appears, when a
 * table grows, or to append to the timeline when it is kept. */
int profile_add_sample(profile *p, const struct sample *s);
/* Adds an aggregate as a whole (the .loupe reader replaying AGG records):
 * sums into the aggregate of the same key.  Does not touch the timeline.
 * LP_EINVAL as profile_add_sample, and for more CPU, GIL or idle samples
 * than samples. */
int profile_add_agg(profile *p, const struct profile_agg *a);
/* Names a thread (the last name given wins). */
int profile_set_thread(profile *p, int32_t pid, int32_t tid, const char *name);
/* Free-form metadata (target, rate, mode, interpreter version...). */
int profile_set_meta(profile *p, const char *key, const char *value);
const char *profile_meta(const profile *p, const char *key);
/* Wall-clock time the recording started (unix ns), 0 when unknown. */
void profile_set_start_ns(profile *p, uint64_t unix_ns);
uint64_t profile_start_ns(const profile *p);

/* Appends a span.  LP_EINVAL when a string id is unknown, LP_ENOMEM. */
int profile_add_span(profile *p, const struct profile_span *sp);
const struct profile_span *profile_spans(const profile *p, size_t *n);

/* Drops every sample, aggregate and span, keeps the interned tables. */
void profile_reset_samples(profile *p);

/* Adds p's samples (its timeline when p keeps one and q can keep one
 * whole, else its aggregates), spans, thread names and metadata to q,
 * only pid's when pid >= 0: one process of a recording (report -p), the
 * daemon's windows and its current one (ctl snapshot).  p's metadata
 * replaces q's of the same key; q starts at the earlier start.  LP_OK or
 * LP_ENOMEM (q then holds part of p). */
int profile_merge(profile *q, const profile *p, int32_t pid);

/* Read access. */
size_t profile_nstrs(const profile *p);
size_t profile_nframes(const profile *p);
size_t profile_nstacks(const profile *p);
/* Strings stay at the same address for the life of the profile; frame,
 * stack, aggregate, thread and timeline pointers are valid until the next
 * call that interns or adds.  Unknown ids give NULL (n = 0). */
const char *profile_str(const profile *p, uint32_t id);
size_t profile_str_len(const profile *p, uint32_t id);
const struct frame *profile_frame(const profile *p, uint32_t id);
const uint32_t *profile_stack(const profile *p, uint32_t id, size_t *n);
const struct profile_agg *profile_aggs(const profile *p, size_t *n);
/* The sums of every aggregate's counts (stack, pid, tid and task 0): what a
 * recording's summary and report's header say. */
struct profile_agg profile_agg_sum(const profile *p);
const struct profile_thread *profile_threads(const profile *p, size_t *n);
/* String id of a thread's name, 0 when unnamed. */
uint32_t profile_thread_name(const profile *p, int32_t pid, int32_t tid);
/* Timeline (only when kept). */
const struct sample *profile_timeline(const profile *p, size_t *n);
/* Whether the timeline holds everything in the aggregates (nothing was
 * added as a whole aggregate or before the timeline was kept). */
bool profile_timeline_whole(const profile *p);
size_t profile_nmeta(const profile *p);
void profile_meta_at(const profile *p, size_t i, const char **key,
		     const char **value);
/* The same as string ids (for the .loupe writer). */
void profile_meta_ids(const profile *p, size_t i, uint32_t *key,
		      uint32_t *value);
uint64_t profile_total_samples(const profile *p);
/* Bytes the profile holds allocated (capacities, not use): for tests and the
 * daemon's memory accounting. */
size_t profile_memory(const profile *p);

/* Per-function figures: own = the function is the leaf, total = it is
 * anywhere on the stack (counted once per stack even under recursion). */
struct profile_func_stats {
	uint32_t frame;		/* a frame id naming the function */
	uint64_t own_samples, total_samples;
	uint64_t own_cpu_samples, total_cpu_samples;
	uint64_t own_cpu_ns, total_cpu_ns;
};
/* Fills a malloc'ed array (caller frees) keyed by function: with
 * by_line false, frames that differ only by line count as one function. */
int profile_func_stats(const profile *p, bool by_line,
		       struct profile_func_stats **out, size_t *n);

#endif
