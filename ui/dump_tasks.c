#include "dump_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "formats/formats.h"
#include "options.h"
#include "session.h"

struct thread_snap {
	pid_t pid, tid;
	char name[64];
	char state;
	uint32_t flags, stack;
};

struct snap {
	struct thread_snap *v;
	size_t n, cap;
};

static void collect(void *ctx, const struct sampler_thread_view *v)
{
	struct snap *sn = ctx;
	if (sn->n == sn->cap) {
		size_t cap = sn->cap ? 2 * sn->cap : 16;
		struct thread_snap *nv = realloc(sn->v, cap * sizeof *nv);
		if (!nv)
			return;
		sn->v = nv;
		sn->cap = cap;
	}
	struct thread_snap *t = &sn->v[sn->n++];
	t->pid = v->pid;
	t->tid = v->tid;
	snprintf(t->name, sizeof t->name, "%s", v->name ? v->name : "");
	t->state = v->state;
	t->flags = v->flags;
	t->stack = v->stack;
}

/* ---- JSON ---- */

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_frame(const profile *p, const char *func, const char *file,
		       int line, const char *kind)
{
	printf("{\"kind\":\"%s\",\"func\":", kind);
	json_str(func);
	printf(",\"file\":");
	json_str(file ? file : "");
	printf(",\"line\":%d}", line);
	(void)p;
}

static void json_stack(const profile *p, uint32_t stack)
{
	size_t n;
	const uint32_t *fr = profile_stack(p, stack, &n);
	putchar('[');
	for (size_t i = n; i-- > 0;) {
		const struct frame *f = profile_frame(p, fr[i]);
		json_frame(p, profile_str(p, f->func),
			   f->kind == FRAME_PYTHON ? profile_str(p, f->file)
						   : profile_str(p, f->module),
			   f->line, f->kind == FRAME_PYTHON ? "python" : "native");
		if (i)
			putchar(',');
	}
	putchar(']');
}

static const char *state_name(int st)
{
	return st == AIO_CANCELLED ? "cancelled" :
	       st == AIO_FINISHED ? "finished" : "pending";
}

/* The threads of process pid as a JSON array. */
static void json_threads(const struct snap *sn, const profile *p,
			 const aio_reader *aio, pid_t pid)
{
	putchar('[');
	bool first = true;
	for (size_t i = 0; i < sn->n; i++) {
		const struct thread_snap *th = &sn->v[i];
		if (th->pid != pid)
			continue;
		const struct aio_task *run = aio ? aio_reader_running(aio, th->tid) : NULL;
		printf("%s{\"tid\":%d,\"name\":", first ? "" : ",", (int)th->tid);
		first = false;
		json_str(th->name);
		printf(",\"state\":\"%c\",\"active\":%s,\"gil\":%s,\"running_task\":",
		       th->state, th->flags & SAMPLE_ON_CPU ? "true" : "false",
		       th->flags & SAMPLE_GIL ? "true" : "false");
		if (run)
			printf("\"0x%llx\"", (unsigned long long)run->addr);
		else
			printf("null");
		printf(",\"frames\":");
		json_stack(p, th->stack);
		putchar('}');
	}
	putchar(']');
}

/* --subprocesses: every other process with its threads. */
static void json_subprocesses(const struct snap *sn, const profile *p,
			      sampler *s)
{
	printf(",\"subprocesses\":[");
	for (size_t i = 1; i < sampler_nprocs(s); i++) {
		struct sampler_proc_view v;
		sampler_proc_at(s, i, &v);
		printf("%s{\"pid\":%d,\"ppid\":%d,\"comm\":", i > 1 ? "," : "",
		       (int)v.pid, (int)v.ppid);
		json_str(v.comm);
		printf(",\"runtime\":");
		json_str(v.describe);
		printf(",\"state\":\"%c\",\"threads\":", v.state ? v.state : '?');
		json_threads(sn, p, NULL, v.pid);
		putchar('}');
	}
	putchar(']');
}

static void print_json(const struct snap *sn, const profile *p,
		       const aio_reader *aio, target *t, sampler *s)
{
	printf("{\"pid\":%d,\"comm\":", (int)target_pid(t));
	json_str(target_comm(t));
	printf(",\"runtime\":");
	json_str(sampler_describe(s));
	printf(",\"threads\":");
	json_threads(sn, p, aio, target_pid(t));	if (aio) {
		size_t n, dropped;
		const struct aio_task *tk = aio_reader_tasks(aio, &n, &dropped);
		printf(",\"tasks_dropped\":%zu,\"tasks\":[", dropped);
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"id\":\"0x%llx\",\"name\":", i ? "," : "",
			       (unsigned long long)tk[i].addr);
			json_str(tk[i].name);
			printf(",\"state\":\"%s\",\"running\":%s,\"thread\":",
			       state_name(tk[i].state),
			       tk[i].running ? "true" : "false");
			if (tk[i].tid)
				printf("%d", (int)tk[i].tid);
			else
				printf("null");
			printf(",\"loop\":\"0x%llx\",\"awaited_by\":",
			       (unsigned long long)tk[i].loop);
			if (tk[i].parent >= 0)
				printf("\"0x%llx\"", (unsigned long long)tk[tk[i].parent].addr);
			else
				printf("null");
			printf(",\"truncated\":%s,\"await_chain\":[",
			       tk[i].truncated ? "true" : "false");
			for (size_t k = 0; k < tk[i].nframes; k++) {
				const struct py_frame *f = &tk[i].frames[k];
				if (k)
					putchar(',');
				json_frame(p, f->func, f->file, f->line, "python");
			}
			printf("]}");
		}
		printf("]");
	}
	if (sampler_nprocs(s) > 1)
		json_subprocesses(sn, p, s);
	printf("}\n");
}

/* ---- text ---- */

static void print_stack(const profile *p, uint32_t stack, const char *indent)
{
	size_t n;
	const uint32_t *fr = profile_stack(p, stack, &n);
	for (size_t i = n; i-- > 0;) {
		char buf[2048];
		format_frame(p, fr[i], true, buf, sizeof buf);
		printf("%s%s\n", indent, buf);
	}
	if (!n)
		printf("%s(no frames)\n", indent);
}

struct tree {
	const struct aio_task *tk;
	size_t n;
	int *first, *next;	/* children lists by parent */
};

static int by_name(const void *x, const void *y, void *ctx)
{
	const struct aio_task *tk = ctx;
	int a = *(const int *)x, b = *(const int *)y;
	int c = strcmp(tk[a].name ? tk[a].name : "", tk[b].name ? tk[b].name : "");
	return c ? c : (tk[a].addr > tk[b].addr) - (tk[a].addr < tk[b].addr);
}

static void print_task(const struct tree *tr, int i, const char *prefix,
		       bool last, unsigned depth)
{
	const struct aio_task *t = &tr->tk[i];
	printf("%s%s (T) %s", prefix, last ? "└──" : "├──", t->name ? t->name : "?");
	if (t->running)
		printf("  [running on thread %d]", (int)t->tid);
	if (t->truncated)
		printf("  [truncated]");
	printf("\n");
	char sub[1024];
	snprintf(sub, sizeof sub, "%s%s", prefix, last ? "    " : "│   ");
	int kids = tr->first[i];
	for (size_t k = 0; k < t->nframes; k++) {
		const struct py_frame *f = &t->frames[k];
		printf("%s%s  %s%s (%s:%d)\n", sub, kids >= 0 ? "│" : " ",
		       k ? "→ " : "", f->func, f->file, f->line);
	}
	if (depth >= MAX_AWAIT_DEPTH) {
		if (kids >= 0)
			printf("%s└── ...\n", sub);
		return;
	}
	for (int c = kids; c >= 0; c = tr->next[c])
		print_task(tr, c, sub, tr->next[c] < 0, depth + 1);
}

static int print_tree(const aio_reader *aio)
{
	size_t n, dropped;
	const struct aio_task *tk = aio_reader_tasks(aio, &n, &dropped);
	printf("\nasyncio: %zu task%s%s\n", n, n == 1 ? "" : "s",
	       n ? "" : " (no event loop with pending tasks)");
	if (dropped)
		printf("(%zu more tasks left out: at most %d are followed)\n",
		       dropped, MAX_ASYNCIO_TASKS);
	if (!n)
		return 0;
	int *order = malloc(n * sizeof *order);
	int *first = malloc(n * sizeof *first);
	int *next = malloc(n * sizeof *next);
	if (!order || !first || !next) {
		free(order);
		free(first);
		free(next);
		cli_error("out of memory");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		order[i] = (int)i;
		first[i] = next[i] = -1;
	}
	qsort_r(order, n, sizeof *order, by_name, (void *)tk);
	/* children lists in name order: insert from the back */
	int roots = -1;
	for (size_t k = n; k-- > 0;) {
		int i = order[k];
		int *head = tk[i].parent >= 0 ? &first[tk[i].parent] : &roots;
		next[i] = *head;
		*head = i;
	}
	struct tree tr = { tk, n, first, next };
	for (int r = roots; r >= 0; r = next[r])
		print_task(&tr, r, "", next[r] < 0, 0);
	free(order);
	free(first);
	free(next);
	return 0;
}

int dump_tasks(sampler *s, target *t, profile *p, bool tasks, bool json)
{
	struct snap sn = { 0 };
	lp_error err = { 0 };
	fflush(stdout);
	if (sampler_snapshot(s, collect, &sn, &err) != LP_OK) {
		cli_error("%s", err.msg);
		free(sn.v);
		return 1;
	}
	session_warn(s);
	const aio_reader *aio = tasks ? sampler_tasks(s) : NULL;
	int status = 0;
	if (json) {
		print_json(&sn, p, aio, t, s);
	} else {
		printf("Process %d: %s\n%s (%s)\n", (int)target_pid(t),
		       target_comm(t), sampler_describe(s), target_exe(t));
		size_t ntasks = 0;
		if (aio) {
			aio_reader_tasks(aio, &ntasks, NULL);
			status = print_tree(aio);
		}
		/* the running task's thread, or every thread when there is
		 * no task (no asyncio, or task mode could not go on) */
		for (size_t i = 0; i < sn.n && !status; i++) {
			if (sn.v[i].pid != target_pid(t))
				continue;
			const struct aio_task *run =
				aio ? aio_reader_running(aio, sn.v[i].tid) : NULL;
			if (ntasks && !run)
				continue;
			printf("\nThread %d \"%s\"%s%s:\n", (int)sn.v[i].tid,
			       sn.v[i].name, run ? " running task " : "",
			       run && run->name ? run->name : "");
			print_stack(p, sn.v[i].stack, "    ");
		}
		/* --subprocesses: the others' threads (their tasks are not
		 * read: task mode follows the first process) */
		for (size_t k = 1; k < sampler_nprocs(s) && !status; k++) {
			struct sampler_proc_view v;
			sampler_proc_at(s, k, &v);
			printf("\nProcess %d: %s (parent %d)\n%s\n", (int)v.pid,
			       v.comm, (int)v.ppid, v.describe);
			for (size_t i = 0; i < sn.n; i++) {
				if (sn.v[i].pid != v.pid)
					continue;
				printf("\nThread %d \"%s\":\n", (int)sn.v[i].tid,
				       sn.v[i].name);
				print_stack(p, sn.v[i].stack, "    ");
			}
		}
	}
	fflush(stdout);
	free(sn.v);
	return status;
}
