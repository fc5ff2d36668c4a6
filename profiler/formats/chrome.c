/* Chrome's trace event format (the JSON that chrome://tracing and the
 * Perfetto UI load): per thread, a frame is a B/E slice that lasts while
 * consecutive samples of that thread keep it on their stack, from the first
 * sample that has it to the first one that does not.
 *
 * Choices:
 * - B/E pairs rather than X events: each thread's events come out in time
 *   order and nest by construction, which both viewers accept;
 * - a sample that does not count under the mode (off CPU in cpu mode) ends
 *   every open slice of its thread, and so does a gap of more than two
 *   periods (the thread was not sampled); the last slice of a thread lasts
 *   one period;
 * - timestamps are microseconds since the recording started, as the format
 *   requires, with ns precision;
 * - this is the one format whose size and memory grow with the samples: it
 *   needs the timeline (profile_keep_timeline);
 * - spans (the tracer's loop ticks and stalls) are X slices on a track of
 *   their own beside their thread's (SPAN_TRACK + tid, named "loop TID"),
 *   since they need not nest with the sample slices; a stall is coloured
 *   (cname, which chrome://tracing honours);
 * - events carry their sample's pid, so a recording of a process tree
 *   shows a track group per process (named by a process_name event) with
 *   a track per thread; opts.pid keeps one process. */
#include "formats/writer_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Track ids of spans: above any TID (PID_MAX_LIMIT is 2^22), so never a
 * real thread's. */
#define SPAN_TRACK (1 << 22)

struct tstate {
	int32_t pid, tid;
	uint32_t *open;		/* text ids, root first */
	size_t depth, cap;
	uint64_t last_ns;
};

struct chrome {
	FILE *fp;
	const profile *p;
	struct ftext ft;
	profile *texts;
	uint8_t *kind_of;	/* per text id: enum frame_kind + 1 */
	size_t kind_cap;
	struct tstate *th;
	size_t nth, thcap;
	bool first;
};

static void put_ts(FILE *fp, uint64_t ns)
{
	fprintf(fp, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

static void sep(struct chrome *c)
{
	fputs(c->first ? "\n" : ",\n", c->fp);
	c->first = false;
}

static const char *cat_of(const struct chrome *c, uint32_t text)
{
	static const char *const names[] = { "native", "python", "task",
					     "thread", "process" };
	uint8_t k = text < c->kind_cap ? c->kind_of[text] : 0;
	return k && k <= 5 ? names[k - 1] : "other";
}

static void close_to(struct chrome *c, struct tstate *t, size_t depth,
		     uint64_t ns)
{
	while (t->depth > depth) {
		t->depth--;
		sep(c);
		fprintf(c->fp, "{\"ph\":\"E\",\"pid\":%" PRId32 ",\"tid\":%" PRId32
			",\"ts\":", t->pid, t->tid);
		put_ts(c->fp, ns);
		fputc('}', c->fp);
	}
}

static struct tstate *thread_of(struct chrome *c, int32_t pid, int32_t tid,
				size_t *hint)
{
	if (*hint < c->nth && c->th[*hint].tid == tid && c->th[*hint].pid == pid)
		return &c->th[*hint];
	for (size_t i = 0; i < c->nth; i++) {
		if (c->th[i].tid == tid && c->th[i].pid == pid) {
			*hint = i;
			return &c->th[i];
		}
	}
	if (c->nth == c->thcap) {
		size_t nc = c->thcap ? c->thcap * 2 : 16;
		struct tstate *n = realloc(c->th, nc * sizeof *n);
		if (!n)
			return NULL;
		c->th = n;
		c->thcap = nc;
	}
	c->th[c->nth] = (struct tstate){ .pid = pid, .tid = tid };
	*hint = c->nth;
	return &c->th[c->nth++];
}

static int note_kind(struct chrome *c, uint32_t text, uint32_t kind)
{
	if (text >= c->kind_cap) {
		size_t nc = c->kind_cap ? c->kind_cap : 256;
		while (nc <= text)
			nc *= 2;
		uint8_t *n = realloc(c->kind_of, nc);
		if (!n)
			return LP_ENOMEM;
		memset(n + c->kind_cap, 0, nc - c->kind_cap);
		c->kind_of = n;
		c->kind_cap = nc;
	}
	c->kind_of[text] = (uint8_t)(kind + 1);
	return LP_OK;
}

/* One sample: close what left the stack, open what came on it. */
static int step(struct chrome *c, const struct sample *s, bool counts,
		uint64_t period_ns, size_t *hint, uint32_t **buf, size_t *bcap)
{
	struct tstate *t = thread_of(c, s->pid, s->tid, hint);
	if (!t)
		return LP_ENOMEM;
	if (t->depth && s->time_ns > t->last_ns + 2 * period_ns)
		close_to(c, t, 0, t->last_ns + period_ns);
	if (!counts) {
		close_to(c, t, 0, s->time_ns);
		return LP_OK;
	}
	size_t n;
	const uint32_t *ids = profile_stack(c->p, s->stack, &n);
	if (n > *bcap) {
		uint32_t *nb = realloc(*buf, n * sizeof *nb);
		if (!nb)
			return LP_ENOMEM;
		*buf = nb;
		*bcap = n;
	}
	for (size_t j = 0; j < n; j++) {
		(*buf)[j] = ftext_get(&c->ft, ids[j]);
		if ((*buf)[j] == PROFILE_NOID)
			return LP_ENOMEM;
	}
	size_t common = 0;
	while (common < n && common < t->depth && t->open[common] == (*buf)[common])
		common++;
	close_to(c, t, common, s->time_ns);
	if (n > t->cap) {
		uint32_t *no = realloc(t->open, n * sizeof *no);
		if (!no)
			return LP_ENOMEM;
		t->open = no;
		t->cap = n;
	}
	for (size_t j = common; j < n; j++) {
		uint32_t text = (*buf)[j];
		const struct frame *f = profile_frame(c->p, ids[j]);
		if (note_kind(c, text, f ? f->kind : 0))
			return LP_ENOMEM;
		t->open[t->depth++] = text;
		sep(c);
		fprintf(c->fp, "{\"ph\":\"B\",\"pid\":%" PRId32 ",\"tid\":%" PRId32
			",\"ts\":", t->pid, t->tid);
		put_ts(c->fp, s->time_ns);
		fputs(",\"name\":", c->fp);
		json_string(c->fp, profile_str(c->texts, text));
		fprintf(c->fp, ",\"cat\":\"%s\"}", cat_of(c, text));
	}
	t->last_ns = s->time_ns;
	return LP_OK;
}

static bool track_named(const struct profile_span *sp, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (sp[j].pid == sp[i].pid && sp[j].tid == sp[i].tid)
			return true;
	return false;
}

static void write_spans(struct chrome *c, int32_t only_pid)
{
	size_t n;
	const struct profile_span *sp = profile_spans(c->p, &n);
	for (size_t i = 0; i < n; i++) {
		if (track_named(sp, i) || (only_pid && sp[i].pid != only_pid))
			continue;
		sep(c);
		fprintf(c->fp, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRId32
			",\"tid\":%" PRId64 ",\"args\":{\"name\":\"loop %" PRId32 "\"}}",
			sp[i].pid, (int64_t)SPAN_TRACK + sp[i].tid, sp[i].tid);
	}
	for (size_t i = 0; i < n; i++) {
		if (only_pid && sp[i].pid != only_pid)
			continue;
		const char *cat = profile_str(c->p, sp[i].cat);
		sep(c);
		fprintf(c->fp, "{\"ph\":\"X\",\"pid\":%" PRId32 ",\"tid\":%" PRId64
			",\"ts\":", sp[i].pid, (int64_t)SPAN_TRACK + sp[i].tid);
		put_ts(c->fp, sp[i].start_ns);
		fputs(",\"dur\":", c->fp);
		put_ts(c->fp, sp[i].dur_ns);
		fputs(",\"name\":", c->fp);
		json_string(c->fp, profile_str(c->p, sp[i].name));
		fputs(",\"cat\":", c->fp);
		json_string(c->fp, cat);
		if (strcmp(cat, "stall") == 0)
			fputs(",\"cname\":\"terrible\"", c->fp);
		if (sp[i].detail) {
			fputs(",\"args\":{\"detail\":", c->fp);
			json_string(c->fp, profile_str(c->p, sp[i].detail));
			fputc('}', c->fp);
		}
		fputc('}', c->fp);
	}
}

static int cmp_pid(const void *x, const void *y)
{
	int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
	return a < b ? -1 : a > b;
}

/* A recording of a process tree: a process_name per process (but the
 * target's, named already) from its command name, so that every
 * process's track group says what it runs.  The processes are those of the
 * samples, the threads and the spans. */
static int name_processes(struct chrome *c, const struct sample *tl,
			  size_t ns, long target, int32_t only_pid)
{
	size_t nt, nsp;
	const struct profile_thread *th = profile_threads(c->p, &nt);
	const struct profile_span *sp = profile_spans(c->p, &nsp);
	size_t cap = ns + nt + nsp;
	int32_t *pids = malloc((cap ? cap : 1) * sizeof *pids);
	if (!pids)
		return LP_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < ns; i++)
		if (!n || pids[n - 1] != tl[i].pid)
			pids[n++] = tl[i].pid;
	for (size_t i = 0; i < nt; i++)
		pids[n++] = th[i].pid;
	for (size_t i = 0; i < nsp; i++)
		pids[n++] = sp[i].pid;
	if (n > 1)
		qsort(pids, n, sizeof *pids, cmp_pid);
	for (size_t i = 0; i < n; i++) {
		if ((i && pids[i] == pids[i - 1]) || pids[i] == target ||
		    (only_pid && pids[i] != only_pid))
			continue;
		const char *comm = output_process_comm(c->p, pids[i]);
		sep(c);
		fprintf(c->fp, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%"
			PRId32 ",\"tid\":0,\"args\":{\"name\":", pids[i]);
		json_string(c->fp, comm ? comm : "process");
		fputs("}}", c->fp);
	}
	free(pids);
	return LP_OK;
}

int chrome_write(const profile *p, FILE *fp, const struct output_opts *o)
{
	size_t ns;
	const struct sample *tl = profile_timeline(p, &ns);
	if (!tl && profile_total_samples(p))
		return LP_EUNSUPPORTED;
	struct chrome c = { .fp = fp, .p = p, .first = true };
	uint32_t *buf = NULL;
	size_t bcap = 0, hint = 0;
	int rc = LP_ENOMEM;
	c.texts = profile_new();
	if (!c.texts || ftext_init(&c.ft, p, c.texts, o->lines))
		goto out;
	uint64_t period_ns = (uint64_t)(writer_period_s(p) * 1e9);
	char target[256];
	writer_target(p, target, sizeof target);
	fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"target\":", fp);
	json_string(fp, target);
	fprintf(fp, ",\"mode\":\"%s\",\"exporter\":\"loupe\"},\"traceEvents\":[",
		writer_mode_name(o->mode));
	/* names of processes and threads first */
	const char *comm = profile_meta(p, "target.comm");
	const char *pid = profile_meta(p, "target.pid");
	long pidn = pid ? strtol(pid, NULL, 10) : 0;
	if (comm && pidn > 0 && (!o->pid || o->pid == pidn)) {
		sep(&c);
		fprintf(fp, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%ld,"
			"\"tid\":0,\"args\":{\"name\":", pidn);
		json_string(fp, comm);
		fputs("}}", fp);
	}
	const char *sub = profile_meta(p, "subprocesses");
	if (sub && strcmp(sub, "on") == 0 &&
	    name_processes(&c, tl, ns, pidn, o->pid))
		goto out;
	size_t nt;
	const struct profile_thread *th = profile_threads(p, &nt);
	for (size_t i = 0; i < nt; i++) {
		if (!th[i].name || (o->pid && th[i].pid != o->pid))
			continue;
		sep(&c);
		fprintf(fp, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRId32
			",\"tid\":%" PRId32 ",\"args\":{\"name\":", th[i].pid,
			th[i].tid);
		json_string(fp, profile_str(p, th[i].name));
		fputs("}}", fp);
	}
	for (size_t i = 0; i < ns; i++) {
		const struct sample *s = &tl[i];
		if (o->pid && s->pid != o->pid)
			continue;
		struct profile_agg one = {
			.pid = s->pid,
			.samples = 1,
			.cpu_samples = !!(s->flags & SAMPLE_ON_CPU),
			.gil_samples = !!(s->flags & SAMPLE_GIL),
			.idle_samples = !!(s->flags & SAMPLE_IDLE),
		};
		if (step(&c, s, output_weight(&one, o) > 0, period_ns, &hint,
			 &buf, &bcap))
			goto out;
	}
	for (size_t i = 0; i < c.nth; i++)
		close_to(&c, &c.th[i], 0, c.th[i].last_ns + period_ns);
	write_spans(&c, o->pid);
	fputs("\n]}\n", fp);
	rc = ferror(fp) ? LP_EIO : LP_OK;
out:
	for (size_t i = 0; i < c.nth; i++)
		free(c.th[i].open);
	free(c.th);
	free(c.kind_of);
	free(buf);
	ftext_fini(&c.ft);
	profile_free(c.texts);
	return rc;
}
