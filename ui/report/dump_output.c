/* loupe dump's output: every thread's stack (like py-spy dump), the
 * asyncio task tree (like `python -m asyncio pstree`), or JSON. */
#include "dump_output.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "formats/formats.h"
#include "formats/writer_util.h"
#include "text_escape.h"

struct thread_snap {
	pid_t pid, tid;
	char name[64];		/* Python's name, else the OS name */
	char os_name[32];	/* the OS name (comm) */
	char state;
	uint32_t flags, stack;
	const char *unreadable;	/* a static reason, or NULL */
	struct frame_locals *locals;	/* by stack position, or NULL */
};

struct snap {
	struct thread_snap *v;
	size_t n, cap;
	bool locals;		/* --locals */
	const profile *p;
};

/* ---- --locals: each Python frame's variables ---- */

struct frame_locals {
	bool python;		/* a Python frame whose locals were read */
	bool changed;		/* it ran other code when read again */
	size_t n;
	struct py_local *v;
};

static void locals_free(struct frame_locals *fl, size_t n)
{
	for (size_t i = 0; fl && i < n; i++)
		free(fl[i].v);
	free(fl);
}

/* The locals of every Python frame of v's stack, by position in the
 * profile stack (root first), paired with the walk's frames (leaf first)
 * in order and by name.  NULL without Python or memory. */
static struct frame_locals *read_locals(const profile *p,
					const struct sampler_thread_view *v)
{
	static struct py_local buf[MAX_PY_LOCALS];
	size_t n;
	const uint32_t *ids = profile_stack(p, v->stack, &n);
	if (!v->py || !v->pyth || n == 0)
		return NULL;
	struct frame_locals *fl = calloc(n, sizeof *fl);
	if (!fl)
		return NULL;
	const struct py_thread *pt = v->pyth;
	size_t j = 0;
	for (size_t i = n; i-- > 0;) {
		const struct frame *f = profile_frame(p, ids[i]);
		if (f->kind != FRAME_PYTHON || !f->file)
			continue;
		while (j < pt->nframes && !pt->frames[j].file)
			j++;	/* "[N frames omitted]" */
		if (j >= pt->nframes)
			break;
		const struct py_frame *pf = &pt->frames[j++];
		if (!pf->func || strcmp(pf->func, profile_str(p, f->func)) != 0)
			continue;
		lp_error err = { 0 };
		size_t k = 0;
		bool changed = false;
		if (py_frame_locals(v->py, pf, buf, MAX_PY_LOCALS, &k, &changed,
				    &err) != LP_OK)
			break;
		fl[i].python = true;
		fl[i].changed = changed;
		if (k && (fl[i].v = malloc(k * sizeof *buf)) != NULL) {
			memcpy(fl[i].v, buf, k * sizeof *buf);
			fl[i].n = k;
		}
	}
	return fl;
}

static void print_locals(FILE *out, const struct frame_locals *fl)
{
	if (!fl || !fl->python)
		return;
	if (fl->changed) {
		fprintf(out, "        Locals: <changed>\n");
		return;
	}
	if (!fl->n)
		return;
	fprintf(out, "        Locals:\n");
	for (size_t i = 0; i < fl->n; i++) {
		char a[TEXT_ESCAPE_MAX], b[TEXT_ESCAPE_MAX];
		fprintf(out, "            %s: %s\n",
			text_escape(fl->v[i].name, a, sizeof a),
			text_escape(fl->v[i].repr, b, sizeof b));
	}
}

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
	snprintf(t->name, sizeof t->name, "%s",
		 v->py_name ? v->py_name : v->name ? v->name : "");
	snprintf(t->os_name, sizeof t->os_name, "%s", v->name ? v->name : "");
	t->state = v->state;
	t->unreadable = v->unreadable;
	t->flags = v->flags;
	t->stack = v->stack;
	t->locals = sn->locals ? read_locals(sn->p, v) : NULL;
}

/* ---- JSON ---- */

static void json_frame_open(FILE *out, const char *func, const char *file,
			    int line, const char *kind)
{
	fprintf(out, "{\"kind\":\"%s\",\"func\":", kind);
	json_string(out, func);
	fprintf(out, ",\"file\":");
	json_string(out, file ? file : "");
	fprintf(out, ",\"line\":%d", line);
}

static void json_frame(FILE *out, const profile *p, const char *func, const char *file,
		       int line, const char *kind)
{
	json_frame_open(out, func, file, line, kind);
	fputc('}', out);
	(void)p;
}

/* ,"locals":[{"name","type","repr"}] (or "locals_changed":true) */
static void json_locals(FILE *out, const struct frame_locals *fl)
{
	if (!fl || !fl->python)
		return;
	if (fl->changed) {
		fprintf(out, ",\"locals_changed\":true,\"locals\":[]");
		return;
	}
	fprintf(out, ",\"locals\":[");
	for (size_t i = 0; i < fl->n; i++) {
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_string(out, fl->v[i].name);
		fprintf(out, ",\"type\":");
		json_string(out, fl->v[i].type);
		fprintf(out, ",\"repr\":");
		json_string(out, fl->v[i].repr);
		fputc('}', out);
	}
	fputc(']', out);
}

static void json_stack(FILE *out, const profile *p, uint32_t stack,
		       const struct frame_locals *locals)
{
	size_t n;
	const uint32_t *fr = profile_stack(p, stack, &n);
	fputc('[', out);
	for (size_t i = n; i-- > 0;) {
		const struct frame *f = profile_frame(p, fr[i]);
		json_frame_open(out, profile_str(p, f->func),
				f->kind == FRAME_PYTHON ? profile_str(p, f->file)
							: profile_str(p, f->module),
				f->line, f->kind == FRAME_PYTHON ? "python" : "native");
		if (locals)
			json_locals(out, &locals[i]);
		fputc('}', out);
		if (i)
			fputc(',', out);
	}
	fputc(']', out);
}

static const char *state_name(int st)
{
	return st == AIO_CANCELLED ? "cancelled" :
	       st == AIO_FINISHED ? "finished" : "pending";
}

static const char *const wait_kinds[] = {
	[AIO_WAIT_NONE] = "none", [AIO_WAIT_SLEEP] = "sleep",
	[AIO_WAIT_FUTURE] = "future", [AIO_WAIT_TASK] = "task",
	[AIO_WAIT_GATHER] = "gather", [AIO_WAIT_QUEUE_GET] = "queue_get",
	[AIO_WAIT_QUEUE_PUT] = "queue_put", [AIO_WAIT_EVENT] = "event",
	[AIO_WAIT_LOCK] = "lock", [AIO_WAIT_SEMAPHORE] = "semaphore",
	[AIO_WAIT_CONDITION] = "condition", [AIO_WAIT_SOCKET] = "socket",
};

/* The task at addr among tk[0..n), or NULL. */
static const struct aio_task *task_at(const struct aio_task *tk, size_t n,
				      uint64_t addr)
{
	for (size_t i = 0; addr && i < n; i++)
		if (tk[i].addr == addr)
			return &tk[i];
	return NULL;
}

/* A task's "waits_for" object (null when not known or running). */
static void json_wait(FILE *out, const struct aio_wait *w,
		      const struct aio_task *tk, size_t n)
{
	if (w->kind <= AIO_WAIT_NONE || w->kind > AIO_WAIT_SOCKET) {
		fprintf(out, "null");
		return;
	}
	fprintf(out, "{\"kind\":\"%s\"", wait_kinds[w->kind]);
	if (w->type) {
		fprintf(out, ",\"type\":");
		json_string(out, w->type);
	}
	if (w->obj)
		fprintf(out, ",\"object\":\"0x%llx\"", (unsigned long long)w->obj);
	const struct aio_task *t = w->kind == AIO_WAIT_TASK ?
		task_at(tk, n, w->obj) : NULL;
	if (t) {
		fprintf(out, ",\"task\":");
		json_string(out, t->name ? t->name : "");
	}
	if (w->kind == AIO_WAIT_QUEUE_GET || w->kind == AIO_WAIT_QUEUE_PUT) {
		fprintf(out, ",\"items\":");
		w->items >= 0 ? fprintf(out, "%lld", (long long)w->items) :
				fprintf(out, "null");
		fprintf(out, ",\"maxsize\":");
		w->maxsize >= 0 ? fprintf(out, "%lld", (long long)w->maxsize) :
				  fprintf(out, "null");
	}
	if (w->kind == AIO_WAIT_SEMAPHORE && w->items >= 0)
		fprintf(out, ",\"value\":%lld", (long long)w->items);
	if (w->kind == AIO_WAIT_SLEEP) {
		fprintf(out, ",\"seconds_left\":");
		isnan(w->left) ? fprintf(out, "null") :
				 fprintf(out, "%.3f", w->left);
		fprintf(out, ",\"delay\":");
		isnan(w->delay) ? fprintf(out, "null") :
				  fprintf(out, "%.3f", w->delay);
	}
	if (w->kind == AIO_WAIT_SOCKET) {
		fprintf(out, ",\"call\":");
		json_string(out, w->what ? w->what : "");
		fprintf(out, ",\"fd\":");
		w->fd >= 0 ? fprintf(out, "%d", w->fd) : fprintf(out, "null");
	}
	fputc('}', out);
}

/* The threads of process pid as a JSON array. */
static void json_threads(FILE *out, const struct snap *sn, const profile *p,
			 const aio_reader *aio, pid_t pid)
{
	fputc('[', out);
	bool first = true;
	for (size_t i = 0; i < sn->n; i++) {
		const struct thread_snap *th = &sn->v[i];
		if (th->pid != pid)
			continue;
		const struct aio_task *run = aio ? aio_reader_running(aio, th->tid) : NULL;
		fprintf(out, "%s{\"tid\":%d,\"name\":", first ? "" : ",", (int)th->tid);
		first = false;
		json_string(out, th->name);
		fprintf(out, ",\"os_name\":");
		json_string(out, th->os_name);
		fprintf(out, ",\"state\":\"%c\",\"active\":%s,\"gil\":%s,\"running_task\":",
		       th->state, th->flags & SAMPLE_ON_CPU ? "true" : "false",
		       th->flags & SAMPLE_GIL ? "true" : "false");
		if (run)
			fprintf(out, "\"0x%llx\"", (unsigned long long)run->addr);
		else
			fprintf(out, "null");
		if (th->unreadable) {
			fprintf(out, ",\"unreadable\":");
			json_string(out, th->unreadable);
		}
		fprintf(out, ",\"frames\":");
		json_stack(out, p, th->stack, th->locals);
		fputc('}', out);
	}
	fputc(']', out);
}

/* --subprocesses: every other process with its threads. */
static void json_subprocesses(FILE *out, const struct snap *sn, const profile *p,
			      sampler *s)
{
	fprintf(out, ",\"subprocesses\":[");
	for (size_t i = 1; i < sampler_nprocs(s); i++) {
		struct sampler_proc_view v;
		sampler_proc_at(s, i, &v);
		fprintf(out, "%s{\"pid\":%d,\"ppid\":%d,\"comm\":", i > 1 ? "," : "",
		       (int)v.pid, (int)v.ppid);
		json_string(out, v.comm);
		fprintf(out, ",\"runtime\":");
		json_string(out, v.describe);
		fprintf(out, ",\"state\":\"%c\",\"threads\":", v.state ? v.state : '?');
		json_threads(out, sn, p, NULL, v.pid);
		fputc('}', out);
	}
	fputc(']', out);
}

static void print_json(FILE *out, const struct snap *sn, const profile *p,
		       const aio_reader *aio, target *t, sampler *s)
{
	fprintf(out, "{\"pid\":%d,\"comm\":", (int)target_pid(t));
	json_string(out, target_comm(t));
	fprintf(out, ",\"runtime\":");
	json_string(out, sampler_describe(s));
	fprintf(out, ",\"threads\":");
	json_threads(out, sn, p, aio, target_pid(t));	if (aio) {
		size_t n, dropped;
		const struct aio_task *tk = aio_reader_tasks(aio, &n, &dropped);
		fprintf(out, ",\"tasks_dropped\":%zu,\"awaiters_dropped\":%zu,"
			"\"tasks\":[", dropped, aio_reader_awaiters_dropped(aio));
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "%s{\"id\":\"0x%llx\",\"name\":", i ? "," : "",
			       (unsigned long long)tk[i].addr);
			json_string(out, tk[i].name);
			fprintf(out, ",\"state\":\"%s\",\"running\":%s,\"thread\":",
			       state_name(tk[i].state),
			       tk[i].running ? "true" : "false");
			if (tk[i].tid)
				fprintf(out, "%d", (int)tk[i].tid);
			else
				fprintf(out, "null");
			/* awaited_by: every awaiter; parent: the one the
			 * tree and the recordings use (what awaited_by
			 * was before it became a list) */
			fprintf(out, ",\"loop\":\"0x%llx\",\"awaited_by\":[",
			       (unsigned long long)tk[i].loop);
			for (size_t k = 0; k < tk[i].nawaited_by; k++)
				fprintf(out, "%s\"0x%llx\"", k ? "," : "",
					(unsigned long long)tk[tk[i].awaited_by[k]].addr);
			fprintf(out, "],\"parent\":");
			if (tk[i].parent >= 0)
				fprintf(out, "\"0x%llx\"", (unsigned long long)tk[tk[i].parent].addr);
			else
				fprintf(out, "null");
			fprintf(out, ",\"truncated\":%s,\"waits_for\":",
				tk[i].truncated ? "true" : "false");
			json_wait(out, &tk[i].wait, tk, n);
			fprintf(out, ",\"await_chain\":[");
			for (size_t k = 0; k < tk[i].nframes; k++) {
				const struct py_frame *f = &tk[i].frames[k];
				if (k)
					fputc(',', out);
				json_frame(out, p, f->func, f->file, f->line, "python");
			}
			fprintf(out, "]}");
		}
		fprintf(out, "]");
	}
	if (sampler_nprocs(s) > 1)
		json_subprocesses(out, sn, p, s);
	fprintf(out, "}\n");
}

/* ---- text ---- */

static void print_stack(FILE *out, const profile *p, uint32_t stack,
			const char *unreadable, const char *indent)
{
	size_t n;
	const uint32_t *fr = profile_stack(p, stack, &n);
	for (size_t i = n; i-- > 0;) {
		char buf[2048];
		format_frame(p, fr[i], true, buf, sizeof buf);
		fprintf(out, "%s", indent);
		text_fputs(buf, out);
		fputc('\n', out);
	}
	if (unreadable)
		fprintf(out, "%s(stack not readable: %s)\n", indent, unreadable);
	else if (!n)
		fprintf(out, "%s(no frames)\n", indent);
}

/* The task graph drawn as a tree: a task under each task awaiting it,
 * drawn whole the first time and as one line marked "(see above)" after,
 * so that a task awaited by several (a diamond, a TaskGroup's owner and
 * its siblings) is shown everywhere without its subtree repeated. */
struct tree {
	const struct aio_task *tk;
	size_t n;
	int *first;		/* by awaiter: its first awaited link */
	int *link_task, *link_next;	/* per link: awaited task, next */
	bool *shown;
};

static int by_name(const void *x, const void *y, void *ctx)
{
	const struct aio_task *tk = ctx;
	int a = *(const int *)x, b = *(const int *)y;
	/* in number order, as created: Task-3 before Task-991 before Task-1001 */
	int c = strverscmp(tk[a].name ? tk[a].name : "", tk[b].name ? tk[b].name : "");
	return c ? c : (tk[a].addr > tk[b].addr) - (tk[a].addr < tk[b].addr);
}

/* The last line of a chain: what the task waits for there, in words
 * ("sleep 1.98s left", "waiting: get from Queue at 0x.. (3 items)"). */
static void wait_text(const struct aio_wait *w, const struct aio_task *tk,
		      size_t n, char *buf, size_t size)
{
	/* names cut at 200 bytes: a line, not a page */
	char ty[200], nm[200];
	text_escape(w->type ? w->type : "?", ty, sizeof ty);
	unsigned long long o = (unsigned long long)w->obj;
	const struct aio_task *t;
	buf[0] = '\0';
	switch (w->kind) {
	case AIO_WAIT_SLEEP:
		/* a timer past its time: the event loop has not got round
		 * to it, which is worth saying as such */
		if (!isnan(w->left) && w->left <= -0.005)
			snprintf(buf, size, "sleep over %.2fs ago, not resumed yet "
				 "(the event loop is behind)", -w->left);
		else if (!isnan(w->left))
			snprintf(buf, size, "sleep %.2fs left",
				 w->left > 0 ? w->left : 0.0);
		else if (!isnan(w->delay))
			snprintf(buf, size, "sleep of %.2fs (time left not known)",
				 w->delay);
		else
			snprintf(buf, size, "sleep (time left not known)");
		break;
	case AIO_WAIT_QUEUE_GET:
	case AIO_WAIT_QUEUE_PUT: {
		char it[48] = "", mx[48] = "";
		if (w->items >= 0)
			snprintf(it, sizeof it, " (%lld item%s", (long long)w->items,
				 w->items == 1 ? "" : "s");
		if (w->items >= 0 && w->maxsize > 0)
			snprintf(mx, sizeof mx, ", maxsize %lld", (long long)w->maxsize);
		snprintf(buf, size, "waiting: %s %s at 0x%llx%s%s%s",
			 w->kind == AIO_WAIT_QUEUE_GET ? "get from" : "put into",
			 ty, o, it, mx, w->items >= 0 ? ")" : "");
		break;
	}
	case AIO_WAIT_SEMAPHORE:
		if (w->items >= 0) {
			snprintf(buf, size, "waiting: %s at 0x%llx (value %lld)",
				 ty, o, (long long)w->items);
			break;
		}
		/* fall through */
	case AIO_WAIT_EVENT:
	case AIO_WAIT_LOCK:
	case AIO_WAIT_CONDITION:
		snprintf(buf, size, "waiting: %s at 0x%llx", ty, o);
		break;
	case AIO_WAIT_FUTURE:
		snprintf(buf, size, "waiting: %s at 0x%llx (no task owns it)",
			 ty, o);
		break;
	case AIO_WAIT_GATHER:
		snprintf(buf, size, "waiting: gather at 0x%llx", o);
		break;
	case AIO_WAIT_TASK:
		t = task_at(tk, n, w->obj);
		snprintf(buf, size, "waiting: task %s at 0x%llx",
			 text_escape(t && t->name ? t->name : "?", nm, sizeof nm), o);
		break;
	case AIO_WAIT_SOCKET:
		text_escape(w->what ? w->what : "socket", nm, sizeof nm);
		if (w->fd >= 0)
			snprintf(buf, size, "waiting: %s on fd %d", nm, w->fd);
		else
			snprintf(buf, size, "waiting: %s", nm);
		break;
	default:
		break;
	}
}

static void print_task(FILE *out, const struct tree *tr, int i, const char *prefix,
		       bool last, unsigned depth)
{
	const struct aio_task *t = &tr->tk[i];
	fprintf(out, "%s%s (T) ", prefix, last ? "└──" : "├──");
	text_fputs(t->name ? t->name : "?", out);
	if (tr->shown[i]) {
		fprintf(out, "  (see above)\n");
		return;
	}
	tr->shown[i] = true;
	if (t->running)
		fprintf(out, "  [running on thread %d]", (int)t->tid);
	if (t->truncated)
		fprintf(out, "  [truncated]");
	if (t->nawaited_by > 1)
		fprintf(out, "  [awaited by %zu tasks]", t->nawaited_by);
	fprintf(out, "\n");
	char sub[1024];
	snprintf(sub, sizeof sub, "%s%s", prefix, last ? "    " : "│   ");
	int kids = tr->first[i];
	for (size_t k = 0; k < t->nframes; k++) {
		const struct py_frame *f = &t->frames[k];
		fprintf(out, "%s%s  %s", sub, kids >= 0 ? "│" : " ", k ? "→ " : "");
		text_fputs(f->func, out);
		fputs(" (", out);
		text_fputs(f->file, out);
		fprintf(out, ":%d)\n", f->line);
	}
	char wt[1024];
	wait_text(&t->wait, tr->tk, tr->n, wt, sizeof wt);
	if (wt[0])
		fprintf(out, "%s%s  %s%s\n", sub, kids >= 0 ? "│" : " ",
			t->nframes ? "→ " : "", wt);
	if (depth >= MAX_AWAIT_DEPTH) {
		if (kids >= 0)
			fprintf(out, "%s└── ...\n", sub);
		return;
	}
	for (int l = kids; l >= 0; l = tr->link_next[l])
		print_task(out, tr, tr->link_task[l], sub, tr->link_next[l] < 0,
			   depth + 1);
}

static int print_tree(FILE *out, const aio_reader *aio)
{
	size_t n, dropped;
	const struct aio_task *tk = aio_reader_tasks(aio, &n, &dropped);
	fprintf(out, "\nasyncio: %zu task%s%s\n", n, n == 1 ? "" : "s",
	       n ? "" : " (no event loop with pending tasks)");
	if (dropped)
		fprintf(out, "(%zu more tasks left out: at most %d are followed)\n",
		       dropped, MAX_ASYNCIO_TASKS);
	if (aio_reader_awaiters_dropped(aio))
		fprintf(out, "(%zu awaiters left out: at most %d per task)\n",
			aio_reader_awaiters_dropped(aio), MAX_TASK_AWAITERS);
	if (!n)
		return 0;
	size_t nlinks = 0;
	for (size_t i = 0; i < n; i++)
		nlinks += tk[i].nawaited_by;
	int *order = malloc(n * sizeof *order);
	int *first = malloc(n * sizeof *first);
	int *link_task = malloc((nlinks + 1) * sizeof *link_task);
	int *link_next = malloc((nlinks + 1) * sizeof *link_next);
	bool *shown = calloc(n, sizeof *shown);
	int rc = 0;
	if (!order || !first || !link_task || !link_next || !shown) {
		rc = LP_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		order[i] = (int)i;
		first[i] = -1;
	}
	qsort_r(order, n, sizeof *order, by_name, (void *)tk);
	/* each awaiter's list in name order: insert from the back */
	size_t l = 0;
	for (size_t k = n; k-- > 0;) {
		int i = order[k];
		for (size_t j = 0; j < tk[i].nawaited_by && l < nlinks; j++) {
			int by = tk[i].awaited_by[j];
			link_task[l] = i;
			link_next[l] = first[by];
			first[by] = (int)l++;
		}
	}
	struct tree tr = { tk, n, first, link_task, link_next, shown };
	/* the roots (awaited by none), then what only a cycle reaches */
	int last = -1;
	for (size_t k = 0; k < n; k++)
		if (!tk[order[k]].nawaited_by)
			last = order[k];
	for (size_t k = 0; k < n; k++)
		if (!tk[order[k]].nawaited_by)
			print_task(out, &tr, order[k], "", order[k] == last, 0);
	for (size_t k = 0; k < n; k++)
		if (!shown[order[k]])
			print_task(out, &tr, order[k], "", true, 0);
out:
	free(order);
	free(first);
	free(link_task);
	free(link_next);
	free(shown);
	return rc;
}

/* ---- plain text: every thread, like py-spy dump ---- */

struct plain {
	FILE *out;
	const profile *p;
	const sampler *s;
	unsigned threads;
	pid_t pid;		/* the process of the last thread printed */
	bool locals;		/* --locals */
};

static void print_frame(FILE *out, const profile *p, uint32_t id)
{
	const struct frame *f = profile_frame(p, id);
	const char *func = profile_str(p, f->func);
	char a[TEXT_ESCAPE_MAX], b[TEXT_ESCAPE_MAX];
	text_escape(func, a, sizeof a);
	const char *mod = f->module ? profile_str(p, f->module) : NULL;
	size_t ml = mod ? strlen(mod) : 0;
	if (f->kind == FRAME_PYTHON && !f->file)
		fprintf(out, "    %s\n", a);	/* [N frames omitted] */
	else if (f->kind == FRAME_PYTHON)
		fprintf(out, "    %s (%s:%d)\n", a,
			text_escape(profile_str(p, f->file), b, sizeof b), f->line);
	/* "module+0x..." (no symbol) names its module already; a function
	 * merely starting with it (Rust's crate::f in crate) does not */
	else if (mod && (strncmp(func, mod, ml) != 0 || func[ml] != '+'))
		fprintf(out, "    %s (%s)\n", a, text_escape(mod, b, sizeof b));
	else
		fprintf(out, "    %s\n", a);
}

static void print_thread(void *ctx, const struct sampler_thread_view *v)
{
	struct plain *d = ctx;
	FILE *out = d->out;
	size_t n;
	const uint32_t *frames = profile_stack(d->p, v->stack, &n);
	if (v->pid != d->pid && sampler_nprocs(d->s) > 1) {
		/* --subprocesses: a header per process, the root's printed
		 * before the snapshot */
		struct sampler_proc_view pv = { 0 };
		for (size_t i = 0; i < sampler_nprocs(d->s); i++) {
			sampler_proc_at(d->s, i, &pv);
			if (pv.pid == v->pid)
				break;
		}
		char comm[TEXT_ESCAPE_MAX];
		if (d->pid)
			fprintf(out, "\nProcess %d: %s (parent %d)\n%s\n", (int)v->pid,
				text_escape(pv.comm ? pv.comm : "?", comm, sizeof comm),
				(int)pv.ppid, pv.describe ? pv.describe : "");
		d->threads = 0;
	}
	d->pid = v->pid;
	char name[TEXT_ESCAPE_MAX], os[TEXT_ESCAPE_MAX * 2] = "";
	if (v->py_name && v->name && strcmp(v->py_name, v->name) != 0) {
		/* Python's name, the OS name beside it */
		char e[TEXT_ESCAPE_MAX];
		snprintf(os, sizeof os, " (OS name \"%s\")",
			 text_escape(v->name, e, sizeof e));
	}
	fprintf(out, "%sThread %d (%s%s): \"%s\"%s state %c%s\n", d->threads ? "\n" : "",
		(int)v->tid, v->flags & SAMPLE_ON_CPU ? "active" : "idle",
		v->flags & SAMPLE_GIL ? ", gil" : "",
		text_escape(v->py_name ? v->py_name : v->name, name, sizeof name),
		os, v->state,
		v->flags & SAMPLE_TRUNCATED ? " [truncated]" : "");
	struct frame_locals *fl = d->locals ? read_locals(d->p, v) : NULL;
	for (size_t i = n; i-- > 0;) {
		print_frame(out, d->p, frames[i]);
		if (fl)
			print_locals(out, &fl[i]);
	}
	locals_free(fl, n);
	if (v->unreadable)
		fprintf(out, "    (stack not readable: %s)\n", v->unreadable);
	else if (n == 0)
		fprintf(out, "    (no frames)\n");
	d->threads++;
}

static void print_header(FILE *out, target *t, sampler *s)
{
	char comm[TEXT_ESCAPE_MAX], exe[TEXT_ESCAPE_MAX];
	fprintf(out, "Process %d: %s\n%s (%s)\n", (int)target_pid(t),
		text_escape(target_comm(t), comm, sizeof comm), sampler_describe(s),
		text_escape(target_exe(t), exe, sizeof exe));
}

int dump_write(FILE *out, sampler *s, target *t, profile *p, bool tasks,
	       bool json, lp_error *err)
{
	return dump_write_locals(out, s, t, p, tasks, json, false, err);
}

int dump_write_locals(FILE *out, sampler *s, target *t, profile *p,
		      bool tasks, bool json, bool locals, lp_error *err)
{
	if (!tasks && !json) {
		print_header(out, t, s);
		struct plain d = { out, p, s, 0, target_pid(t), locals };
		fflush(out);
		return sampler_snapshot(s, print_thread, &d, err);
	}
	struct snap sn = { 0 };
	sn.locals = locals;
	sn.p = p;
	fflush(out);
	int rc = sampler_snapshot(s, collect, &sn, err);
	if (rc != LP_OK) {
		for (size_t i = 0; i < sn.n; i++) {
			size_t nf = 0;
			profile_stack(p, sn.v[i].stack, &nf);
			locals_free(sn.v[i].locals, nf);
		}
		free(sn.v);
		return rc;
	}
	const aio_reader *aio = tasks ? sampler_tasks(s) : NULL;
	if (json) {
		print_json(out, &sn, p, aio, t, s);
	} else {
		print_header(out, t, s);
		size_t ntasks = 0;
		if (aio) {
			aio_reader_tasks(aio, &ntasks, NULL);
			rc = print_tree(out, aio);
		}
		/* the running task's thread, or every thread when there is
		 * no task (no asyncio, or task mode could not go on) */
		for (size_t i = 0; i < sn.n && !rc; i++) {
			if (sn.v[i].pid != target_pid(t))
				continue;
			const struct aio_task *run =
				aio ? aio_reader_running(aio, sn.v[i].tid) : NULL;
			if (ntasks && !run)
				continue;
			char a[TEXT_ESCAPE_MAX], b[TEXT_ESCAPE_MAX];
			fprintf(out, "\nThread %d \"%s\"%s%s:\n", (int)sn.v[i].tid,
				text_escape(sn.v[i].name, a, sizeof a),
				run ? " running task " : "",
				text_escape(run && run->name ? run->name : "", b, sizeof b));
			print_stack(out, p, sn.v[i].stack, sn.v[i].unreadable,
				    "    ");
		}
		/* --subprocesses: the others' threads (their tasks are not
		 * read: task mode follows the first process) */
		for (size_t k = 1; k < sampler_nprocs(s) && !rc; k++) {
			struct sampler_proc_view v;
			sampler_proc_at(s, k, &v);
			char comm[TEXT_ESCAPE_MAX];
			fprintf(out, "\nProcess %d: %s (parent %d)\n%s\n", (int)v.pid,
				text_escape(v.comm, comm, sizeof comm), (int)v.ppid,
				v.describe);
			for (size_t i = 0; i < sn.n; i++) {
				if (sn.v[i].pid != v.pid)
					continue;
				char a[TEXT_ESCAPE_MAX];
				fprintf(out, "\nThread %d \"%s\":\n", (int)sn.v[i].tid,
					text_escape(sn.v[i].name, a, sizeof a));
				print_stack(out, p, sn.v[i].stack, sn.v[i].unreadable,
				    "    ");
			}
		}
	}
	fflush(out);
	for (size_t i = 0; i < sn.n; i++) {
		size_t nf = 0;
		profile_stack(p, sn.v[i].stack, &nf);
		locals_free(sn.v[i].locals, nf);
	}
	free(sn.v);
	if (rc)
		lp_error_set(err, rc, "out of memory");
	return rc;
}
