/* The asyncio reader over memory images: a live interpreter running a
 * known task tree is read once through a capturing reader (every region
 * the reader touched is kept), the image is replayed through a mem_image
 * and must give the same tasks, names, tree and await chains; then the
 * image is corrupted at random for hundreds of cases per version: the
 * reader must never crash, must finish in bounded time and keep every
 * bound (tasks, chain depth, parents inside the task array, no parent
 * cycle). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "mem_capture.h"
#include "python/asyncio.h"
#include "python/asyncio_layout.h"
#include "python/pyproc.h"
#include "symbols.h"
#include "target.h"
#include "unit.h"

#define PYENV "/root/.pyenv/versions"

/* main gathers group (worker-1, worker-2 through gather) and waiter
 * (await leaf); consume in `async for` over agen, getter in Queue.get
 * (what it waits for is read: a full update); names from 3.8
 * (get_name), qualnames on 3.7. */
static const char *script =
	"import asyncio, sys\n"
	"def mk(c, n):\n"
	"    l = asyncio.get_event_loop()\n"
	"    return l.create_task(c, name=n) if sys.version_info >= (3, 8) else l.create_task(c)\n"
	"async def handle():\n"
	"    await asyncio.sleep(3600)\n"
	"async def worker():\n"
	"    await handle()\n"
	"async def group():\n"
	"    await asyncio.gather(mk(worker(), 'worker-1'), mk(worker(), 'worker-2'))\n"
	"async def leaf():\n"
	"    await asyncio.sleep(3600)\n"
	"async def waiter(t):\n"
	"    await t\n"
	"async def agen():\n"
	"    await asyncio.sleep(3600)\n"
	"    yield 1\n"
	"async def consume():\n"
	"    async for _ in agen():\n"
	"        pass\n"
	"async def getter(q):\n"
	"    await q.get()\n"
	"def ready():\n"
	"    sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
	"async def tree():\n"
	"    g = mk(group(), 'group')\n"
	"    w = mk(waiter(mk(leaf(), 'leaf')), 'waiter')\n"
	"    mk(consume(), 'consume'), mk(getter(asyncio.Queue()), 'getter')\n"
	"    asyncio.get_event_loop().call_later(0.2, ready)\n"
	"    await asyncio.gather(g, w)\n"
	"loop = asyncio.new_event_loop()\n"
	"asyncio.set_event_loop(loop)\n"
	"loop.run_until_complete(mk(tree(), 'main'))\n";

/* Five tasks looping on sleep(0) and one woken by its future, all in the
 * loop's ready queue (step wrappers, a wakeup) while the main task holds
 * the loop in time.sleep; one more task sleeps (waiting). */
static const char *ready_script =
	"import asyncio, sys, time\n"
	"steps = [0] * 5\n"
	"async def spin(k):\n"
	"    while True:\n"
	"        steps[k] += 1\n"
	"        await asyncio.sleep(0)\n"
	"async def woken(f):\n"
	"    await f\n"
	"async def block(f):\n"
	"    while not all(steps):\n"
	"        await asyncio.sleep(0)\n"
	"    f.set_result(None)\n"
	"    sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
	"    time.sleep(3600)\n"
	"loop = asyncio.new_event_loop()\n"
	"asyncio.set_event_loop(loop)\n"
	"fut = loop.create_future()\n"
	"for k in range(5):\n"
	"    loop.create_task(spin(k))\n"
	"loop.create_task(woken(fut))\n"
	"loop.create_task(asyncio.sleep(3600))\n"
	"loop.run_until_complete(block(fut))\n";
#define READY_TASKS 6

struct snapshot {
	int ready;			/* tasks told ready (-1: not known) */
	struct py_layout L;
	struct aio_layout A;		/* the reader's, as it was live */
	char version[32];
	uint64_t interp_head_addr, runtime, code_type;
	struct region *v;
	size_t n;
	char text[8192];
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name<parent>:func:line,func:line" per task, sorted, joined by ';'. */
static void tasks_text(const aio_reader *a, char *out, size_t len)
{
	size_t n;
	const struct aio_task *t = aio_reader_tasks(a, &n, NULL);
	char **lines = calloc(n + 1, sizeof *lines);
	ck_assert_ptr_nonnull(lines);
	for (size_t i = 0; i < n; i++) {
		char buf[2048];
		size_t o = (size_t)snprintf(buf, sizeof buf, "%s<%s>", t[i].name,
			t[i].parent >= 0 ? t[t[i].parent].name : "");
		for (size_t k = 0; k < t[i].nframes && o < sizeof buf - 300; k++)
			o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s:%d",
					      k ? "," : ":", t[i].frames[k].func,
					      t[i].frames[k].line);
		lines[i] = strdup(buf);
	}
	qsort(lines, n, sizeof *lines, cmp_str);
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		o += (size_t)snprintf(out + o, len - o, "%s;", lines[i]);
		if (o >= len)
			o = len - 1;
		free(lines[i]);
	}
	free(lines);
}

/* The tasks an update told ready, -1 when it could not tell. */
static int count_ready(aio_reader *a)
{
	size_t n;
	const struct aio_task *t = aio_reader_tasks(a, &n, NULL);
	int r = 0;
	for (size_t i = 0; i < n; i++)
		r += t[i].ready;
	return aio_reader_ready_known(a) ? r : -1;
}

static int capture_script(const char *py, struct snapshot *snap,
			  const char *src, bool ready);

static int capture(const char *py, struct snapshot *snap)
{
	return capture_script(py, snap, script, false);
}

static int capture_script(const char *py, struct snapshot *snap,
			  const char *src, bool ready)
{
	char path[] = "/tmp/loupe-py-asyncio-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, src, strlen(src)) < 0)
		return -1;
	close(fd);
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(py, py, path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[16] = "";
	ssize_t r = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	int ret = -1;
	target *t = NULL;
	symbolizer *s = NULL;
	py_proc *live = NULL;
	aio_reader *a = NULL;
	lp_error err;
	if (r <= 0)
		goto out;
	if (target_attach(&t, pid, &err) != LP_OK)
		goto out;
	target_refresh_threads(t);
	if (symbolizer_new(&s, pid, target_procfd(t)) != LP_OK ||
	    py_proc_attach(&live, t, s, &err) != LP_OK)
		goto out;
	struct capture cap;
	capture_init(&cap, live->reader);
	live->reader = &cap.base;
	if (aio_reader_new(&a, live, &err) != LP_OK) {
		fprintf(stderr, "%s: %s\n", py, err.msg);
		goto out;
	}
	snap->ready = -1;
	if (ready) {
		aio_reader_watch_ready(a, true);
		if (aio_reader_update(a, NULL, 0, true, &err) == LP_OK)
			snap->ready = count_ready(a);
	}
	tasks_text(a, snap->text, sizeof snap->text);
	ck_assert_ptr_nonnull(aio_reader_layout(a));
	snap->A = *aio_reader_layout(a);
	snap->L = live->L;
	memcpy(snap->version, live->version, sizeof snap->version);
	snap->interp_head_addr = live->interp_head_addr;
	snap->runtime = live->runtime;
	snap->code_type = live->code_type;
	snap->v = cap.v;
	snap->n = cap.n;
	ret = 0;
out:
	aio_reader_free(a);
	py_proc_free(live);
	if (s)
		symbolizer_free(s);
	if (t)
		target_free(t, false);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
	return ret;
}

static void replay_init(py_proc *py, const struct snapshot *snap,
			mem_image *img)
{
	ck_assert_int_eq(py_proc_init(py, mem_image_reader(img), &snap->L),
			 LP_OK);
	memcpy(py->version, snap->version, sizeof py->version);
	py->interp_head_addr = snap->interp_head_addr;
	py->runtime = snap->runtime;
	py->code_type = snap->code_type;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void check_bounds(const aio_reader *a)
{
	size_t n, dropped;
	const struct aio_task *t = aio_reader_tasks(a, &n, &dropped);
	ck_assert_uint_le(n, MAX_ASYNCIO_TASKS);
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(t[i].name);
		ck_assert_uint_le(t[i].nframes, MAX_AWAIT_DEPTH);
		ck_assert_int_lt(t[i].parent, (int)n);
		for (size_t k = 0; k < t[i].nframes; k++) {
			ck_assert_ptr_nonnull(t[i].frames[k].func);
			ck_assert_ptr_nonnull(t[i].frames[k].file);
		}
		/* no parent cycle: the chain up ends within n steps */
		int p = t[i].parent;
		size_t d = 0;
		while (p >= 0 && d <= n)
			p = t[p].parent, d++;
		ck_assert_uint_le(d, n);
	}
}

static void fuzz_version(const char *label, const struct snapshot *snap,
			 int cases)
{
	mem_image *img = regions_image(snap->v, snap->n);
	py_proc py;
	replay_init(&py, snap, img);
	aio_reader *a;
	lp_error err;
	ck_assert_int_eq(aio_reader_new_with(&a, &py, &snap->A, &err), LP_OK);
	char text[sizeof snap->text];
	tasks_text(a, text, sizeof text);
	ck_assert_str_eq(text, snap->text);
	/* an update within the budget keeps the same picture */
	ck_assert_int_eq(aio_reader_update(a, NULL, 0, false, &err), LP_OK);
	tasks_text(a, text, sizeof text);
	ck_assert_str_eq(text, snap->text);
	aio_reader_free(a);
	py_proc_fini(&py);
	mem_image_free(img);

	double worst = 0;
	size_t failed = 0;
	for (int c = 0; c < cases; c++) {
		struct region *v = regions_copy(snap->v, snap->n);
		int muts = 1 + (int)(rnd() % 8);
		for (int m = 0; m < muts; m++) {
			struct region *r = &v[rnd() % snap->n];
			size_t off = (size_t)(rnd() % r->len);
			if (rnd() % 2) {
				r->data[off] ^= (uint8_t)(1u << (rnd() % 8));
			} else if (off + 8 <= r->len) {
				/* a word pointing elsewhere in the image, or
				 * anywhere */
				const struct region *o = &snap->v[rnd() % snap->n];
				uint64_t val = rnd() % 3 ? o->addr + (rnd() % o->len)
							 : rnd();
				memcpy(r->data + off, &val, 8);
			}
		}
		img = regions_image(v, snap->n);
		replay_init(&py, snap, img);
		double t0 = now_ms();
		if (aio_reader_new_with(&a, &py, &snap->A, &err) == LP_OK) {
			check_bounds(a);
			aio_reader_update(a, NULL, 0, false, &err);
			check_bounds(a);
			aio_reader_free(a);
		} else {
			failed++;
		}
		double dt = now_ms() - t0;
		if (dt > worst)
			worst = dt;
		py_proc_fini(&py);
		mem_image_free(img);
		regions_free(v, snap->n);
	}
	fprintf(stderr, "%s: %zu regions, %d corrupted images (%zu refused), "
		"worst %.1f ms\n", label, snap->n, cases, failed, worst);
	/* the layout's object facts garbage (a table or a process that lies
	 * about dicts and ints) over the true image: bounded all the same */
	for (int c = 0; c < cases / 4; c++) {
		struct aio_layout A = snap->A;
		uint32_t *f[] = { &A.obj.dict_keys, &A.obj.dict_values,
				  &A.obj.values_pre, &A.obj.dk_size,
				  &A.obj.dk_log2_index_bytes, &A.obj.dk_kind,
				  &A.obj.dk_nentries, &A.obj.dk_indices,
				  &A.obj.dk_general.size, &A.obj.dk_general.key,
				  &A.obj.dk_unicode.value, &A.obj.managed_dict,
				  &A.obj.managed_values, &A.obj.long_size,
				  &A.obj.long_digit };
		size_t nf = sizeof f / sizeof f[0];
		for (int m = 1 + (int)(rnd() % 4); m > 0; m--)
			*f[rnd() % nf] = (uint32_t)(rnd() % 3 ? rnd() % 72 : rnd());
		A.obj.values_kind = (int)(rnd() % 5);
		A.obj.long_tagged = (int)(rnd() % 2);
		img = regions_image(snap->v, snap->n);
		replay_init(&py, snap, img);
		if (aio_reader_new_with(&a, &py, &A, &err) == LP_OK) {
			check_bounds(a);
			aio_reader_update(a, NULL, 0, false, &err);
			check_bounds(a);
			aio_reader_free(a);
		}
		py_proc_fini(&py);
		mem_image_free(img);
	}
	/* a garbage set can list MAX_ASYNCIO_TASKS bogus tasks, each read
	 * and failed in turn over a mem_image (a linear search of regions):
	 * bounded, if slow on a loaded machine */
	ck_assert(worst < 10000);
}

static void run_python(const char *minor, const char *py);

static void run_version(const char *minor)
{
	char pattern[256], py[512];
	snprintf(pattern, sizeof pattern, "ls -d %s/%s.*/bin/python%s 2>/dev/null | tail -1",
		 PYENV, minor, minor);
	FILE *f = popen(pattern, "r");
	ck_assert_ptr_nonnull(f);
	py[0] = '\0';
	if (!fgets(py, sizeof py, f))
		py[0] = '\0';
	pclose(f);
	py[strcspn(py, "\n")] = '\0';
	if (!py[0])
		unit_skip("CPython %s: not under %s", minor, PYENV);
	run_python(minor, py);
}

static void run_python(const char *minor, const char *py)
{
	struct snapshot snap = { 0 };
	ck_assert_msg(capture(py, &snap) == 0, "capture of %s failed", py);
	/* the live read saw the whole tree */
	bool named = strcmp(minor, "3.7") != 0;
	ck_assert_msg(strstr(snap.text, named ? "worker-1<group>:worker:8,handle:6,sleep:"
						: "worker<group>:worker:8,handle:6,sleep:"),
		      "%s: %s", minor, snap.text);
	ck_assert_msg(strstr(snap.text, named ? "leaf<waiter>:leaf:12,sleep:"
						: "leaf<waiter>:leaf:12,sleep:"),
		      "%s: %s", minor, snap.text);
	ck_assert_msg(strstr(snap.text, named ? "waiter<main>:waiter:14;"
						: "waiter<tree>:waiter:14;"),
		      "%s: %s", minor, snap.text);
	/* through the async generator's asend (asyncio.c chain_step) */
	ck_assert_msg(strstr(snap.text, "consume<>:consume:19,agen:16,sleep:"),
		      "%s: %s", minor, snap.text);
	/* the object facts a process's own description gives (3.14+:
	 * ma_keys, lv_tag, ob_digit from _Py_DebugOffsets) are those the
	 * generator found by value in the same version's objects */
	const struct aio_objects *O = aio_objects_for(snap.A.minor);
	ck_assert_ptr_nonnull(O);
	if (snap.A.lists) {
		ck_assert_int_eq(O->minor, snap.A.minor);
		ck_assert_uint_eq(snap.A.obj.dict_keys, O->dict_keys);
		ck_assert_uint_eq(snap.A.obj.dict_values, O->dict_values);
		ck_assert_uint_eq(snap.A.obj.long_size, O->long_size);
		ck_assert_uint_eq(snap.A.obj.long_digit, O->long_digit);
		ck_assert_int_eq(snap.A.obj.long_tagged, O->long_tagged);
	}
	ck_assert(memcmp(&snap.A.obj, O, sizeof *O) == 0);
	fuzz_version(minor, &snap, UNIT_CASES(300));
	regions_free(snap.v, snap.n);
}

/* The ready tasks: the loop's deque of Handles read live, then again
 * over the memory image of what the live read saw. */
static void ready_python(const char *minor, const char *py)
{
	struct snapshot snap = { 0 };
	ck_assert_msg(capture_script(py, &snap, ready_script, true) == 0,
		      "capture of %s failed", py);
	ck_assert_msg(snap.ready == READY_TASKS, "%s: %d ready live", minor,
		      snap.ready);
	mem_image *img = regions_image(snap.v, snap.n);
	py_proc rp;
	replay_init(&rp, &snap, img);
	aio_reader *a;
	lp_error err;
	ck_assert_int_eq(aio_reader_new_with(&a, &rp, &snap.A, &err), LP_OK);
	aio_reader_watch_ready(a, true);
	ck_assert_int_eq(aio_reader_update(a, NULL, 0, true, &err), LP_OK);
	ck_assert_msg(count_ready(a) == READY_TASKS, "%s: %d ready replayed",
		      minor, count_ready(a));
	aio_reader_free(a);
	py_proc_fini(&rp);
	mem_image_free(img);
	/* the deque's and the handles' facts garbage over the true image:
	 * bounded, never more tasks ready than there are */
	for (int c = 0; c < 200; c++) {
		struct aio_layout A = snap.A;
		uint32_t *f[] = { &A.obj.deque_left, &A.obj.deque_lindex,
				  &A.obj.block_data, &A.obj.block_next,
				  &A.obj.block_len, &A.obj.handle_callback,
				  &A.obj.cb_task[0], &A.obj.cb_task[1] };
		size_t nf = sizeof f / sizeof f[0];
		for (int m = 1 + (int)(rnd() % 3); m > 0; m--)
			*f[rnd() % nf] = (uint32_t)(rnd() % 3 ? rnd() % 600 : rnd());
		img = regions_image(snap.v, snap.n);
		replay_init(&rp, &snap, img);
		if (aio_reader_new_with(&a, &rp, &A, &err) == LP_OK) {
			aio_reader_watch_ready(a, true);
			aio_reader_update(a, NULL, 0, true, &err);
			size_t n;
			aio_reader_tasks(a, &n, NULL);
			ck_assert_int_le(count_ready(a), (int)n);
			aio_reader_free(a);
		}
		py_proc_fini(&rp);
		mem_image_free(img);
	}
	regions_free(snap.v, snap.n);
}

static void ready_version(const char *minor)
{
	char pattern[256], py[512];
	snprintf(pattern, sizeof pattern, "ls -d %s/%s.*/bin/python%s 2>/dev/null | tail -1",
		 PYENV, minor, minor);
	FILE *f = popen(pattern, "r");
	ck_assert_ptr_nonnull(f);
	py[0] = '\0';
	if (!fgets(py, sizeof py, f))
		py[0] = '\0';
	pclose(f);
	py[strcspn(py, "\n")] = '\0';
	if (!py[0])
		unit_skip("CPython %s: not under %s", minor, PYENV);
	ready_python(minor, py);
}

START_TEST(ready_38) { ready_version("3.8"); } END_TEST
START_TEST(ready_311) { ready_version("3.11"); } END_TEST
START_TEST(ready_313) { ready_version("3.13"); } END_TEST
START_TEST(ready_314)
{
	const char *py = getenv("LOUPE_PY314") ? getenv("LOUPE_PY314") :
			 "/opt/loupe-py314/usr/bin/python3.14";
	if (access(py, X_OK) != 0)
		unit_skip("%s not found (run tools/get-python 3.14)", py);
	ready_python("3.14", py);
}
END_TEST

START_TEST(asyncio_37) { run_version("3.7"); } END_TEST
START_TEST(asyncio_310) { run_version("3.10"); } END_TEST
START_TEST(asyncio_311) { run_version("3.11"); } END_TEST
START_TEST(asyncio_312) { run_version("3.12"); } END_TEST
START_TEST(asyncio_313) { run_version("3.13"); } END_TEST

/* 3.14: tasks in linked lists, offsets from the process (the layout the
 * live reader built is given to the replay). */
START_TEST(asyncio_314)
{
	const char *py = getenv("LOUPE_PY314") ? getenv("LOUPE_PY314") :
			 "/opt/loupe-py314/usr/bin/python3.14";
	if (access(py, X_OK) != 0)
		unit_skip("%s not found (run tools/get-python 3.14)", py);
	run_python("3.14", py);
}
END_TEST

START_TEST(asyncio_315)
{
	const char *py = getenv("LOUPE_PY315") ? getenv("LOUPE_PY315") :
			 "/opt/loupe-py315/usr/bin/python3.15";
	if (access(py, X_OK) != 0)
		unit_skip("%s not found (run tools/get-python 3.15)", py);
	run_python("3.15", py);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("py_asyncio");
	TCase *tc = tcase_create("replay");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, asyncio_37);
	tcase_add_test(tc, asyncio_310);
	tcase_add_test(tc, asyncio_311);
	tcase_add_test(tc, asyncio_312);
	tcase_add_test(tc, asyncio_313);
	tcase_add_test(tc, asyncio_314);
	tcase_add_test(tc, asyncio_315);
	tcase_add_test(tc, ready_38);
	tcase_add_test(tc, ready_311);
	tcase_add_test(tc, ready_313);
	tcase_add_test(tc, ready_314);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
