/* The walker over memory images: a live interpreter's memory is captured
 * (every region one sample read), replayed through a mem_image, then
 * corrupted at random for thousands of cases: the walker must never crash,
 * must finish in bounded time, must keep every bound, and must flag a
 * truncated stack when the frame chain is broken or loops. */
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
#include "python/pyproc.h"
#include "symbols.h"
#include "target.h"
#include "unit.h"

#define PYENV "/root/.pyenv/versions"

static const char *script =
	"import threading, time, sys\n"
	"def other():\n"
	"    while 1: time.sleep(0.01)\n"
	"def deep(n):\n"
	"    if n > 0: return deep(n - 1)\n"
	"    sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
	"    while 1: time.sleep(0.01)\n"
	"t = threading.Thread(target=other)\n"
	"t.daemon = True\n"
	"t.start()\n"
	"deep(20)\n";

struct snapshot {
	struct py_layout L;
	uint64_t interp_head_addr, tstate_current_addr, runtime, code_type;
	struct region *v;
	size_t n;
	/* What the live walker saw. */
	char stack[4096];
};

static void stack_text(struct py_thread *th, size_t n, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < th[i].nframes && o < len - 200; k++)
			o += (size_t)snprintf(out + o, len - o, "%s:%d;",
					      th[i].frames[k].func,
					      th[i].frames[k].line);
}

/* Runs the script under py, samples it once through a capturing reader. */
static int capture(const char *py, struct snapshot *snap)
{
	char path[] = "/tmp/loupe-py-walk-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, script, strlen(script)) < 0)
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
	lp_error err;
	if (r <= 0)
		goto out;
	usleep(50000);
	if (target_attach(&t, pid, &err) != LP_OK)
		goto out;
	target_refresh_threads(t);
	if (symbolizer_new(&s, pid, target_procfd(t)) != LP_OK ||
	    py_proc_attach(&live, t, s, &err) != LP_OK)
		goto out;
	struct capture cap;
	capture_init(&cap, live->reader);
	live->reader = &cap.base;
	struct py_thread *th;
	size_t n;
	/* Two samples: the first reads region by region, the second in the
	 * merged iovecs of the prefetch; the image gets both. */
	char second[sizeof snap->stack];
	if (py_proc_sample(live, &th, &n) != LP_OK)
		goto out;
	stack_text(th, n, snap->stack, sizeof snap->stack);
	if (py_proc_sample(live, &th, &n) != LP_OK)
		goto out;
	stack_text(th, n, second, sizeof second);
	ck_assert_str_eq(second, snap->stack);
	snap->L = live->L;
	snap->interp_head_addr = live->interp_head_addr;
	snap->tstate_current_addr = live->tstate_current_addr;
	snap->runtime = live->runtime;
	snap->code_type = live->code_type;
	snap->v = cap.v;
	snap->n = cap.n;
	ret = 0;
out:
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
	py->interp_head_addr = snap->interp_head_addr;
	py->tstate_current_addr = snap->tstate_current_addr;
	py->runtime = snap->runtime;
	py->code_type = snap->code_type;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Checks every bound on a sample's result. */
static void check_bounds(struct py_thread *th, size_t n)
{
	ck_assert_uint_le(n, (size_t)MAX_THREADS * MAX_INTERPRETERS);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_le(th[i].nframes, MAX_STACK_DEPTH);
		for (size_t k = 0; k < th[i].nframes; k++) {
			ck_assert_ptr_nonnull(th[i].frames[k].func);
			ck_assert_ptr_nonnull(th[i].frames[k].file);
			ck_assert_uint_le(strlen(th[i].frames[k].func),
					  4 * MAX_STRING_LEN);
			ck_assert_uint_le(strlen(th[i].frames[k].file),
					  4 * MAX_STRING_LEN);
		}
	}
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Reads a word from the regions (the test's own view of the image). */
static bool peek(const struct region *v, size_t n, uint64_t addr,
		 uint64_t *out, uint8_t **where)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= v[i].addr && addr + 8 <= v[i].addr + v[i].len) {
			*where = v[i].data + (addr - v[i].addr);
			memcpy(out, *where, 8);
			return true;
		}
	return false;
}

/* Addresses of the back-pointer fields of the frames of the first thread
 * state (in every region copy holding them). */
static size_t frame_links(const struct snapshot *snap, struct region *v,
			  uint64_t *frames, uint8_t **links[], size_t max)
{
	const struct py_layout *L = &snap->L;
	uint64_t interp, ts, fr;
	uint8_t *w;
	if (!peek(v, snap->n, snap->interp_head_addr, &interp, &w) ||
	    !peek(v, snap->n, interp + L->is_tstate_head, &ts, &w) ||
	    !peek(v, snap->n, ts + L->ts_frame, &fr, &w))
		return 0;
	if (L->frames == PY_FRAMES_CFRAME &&
	    !peek(v, snap->n, fr + L->cframe_current, &fr, &w))
		return 0;
	size_t n = 0;
	while (fr && n < max) {
		uint64_t back;
		if (!peek(v, snap->n, fr + L->fr_back, &back, &w))
			break;
		frames[n] = fr;
		/* Every copy of this word: the chunk copy and the frame's. */
		size_t k = 0;
		for (size_t i = 0; i < snap->n && k < 7; i++)
			if (fr + L->fr_back >= v[i].addr &&
			    fr + L->fr_back + 8 <= v[i].addr + v[i].len)
				links[n][k++] = v[i].data +
						(fr + L->fr_back - v[i].addr);
		links[n][k] = NULL;
		n++;
		fr = back;
	}
	return n;
}

static void put_links(uint8_t **where, uint64_t val)
{
	for (size_t k = 0; where[k]; k++)
		memcpy(where[k], &val, 8);
}

/* Replaces every "deep" that ends a string (at a NUL or at the end of a
 * region: the walker reads a name's text without its NUL) by "deeq". */
static void rename_deep(uint8_t *s, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if (memcmp(s + i, "deep", 4) == 0 &&
		    (i + 4 == len || s[i + 4] == 0))
			s[i + 3] = 'q';
}

/* Gives every code object on every thread's stack another co_version
 * (3.12/3.13), in every region copy holding it. */
static void renumber_codes(const struct snapshot *snap, struct region *v)
{
	const struct py_layout *L = &snap->L;
	uint64_t interp, ts, fr, code;
	uint8_t *w;
	ck_assert(peek(v, snap->n, snap->interp_head_addr, &interp, &w));
	ck_assert(peek(v, snap->n, interp + L->is_tstate_head, &ts, &w));
	size_t bumped = 0;
	for (int t = 0; ts && t < 16; t++) {
		ck_assert(peek(v, snap->n, ts + L->ts_frame, &fr, &w));
		if (L->frames == PY_FRAMES_CFRAME && fr)
			ck_assert(peek(v, snap->n, fr + L->cframe_current,
				       &fr, &w));
		for (int d = 0; fr && d < 256; d++) {
			if (!peek(v, snap->n, fr + L->fr_code, &code, &w))
				break;
			uint64_t at = (code & ~(uint64_t)3) + L->co_version;
			for (size_t i = 0; i < snap->n; i++)
				if (at >= v[i].addr &&
				    at + 4 <= v[i].addr + v[i].len) {
					v[i].data[at - v[i].addr] ^= 0x40;
					bumped++;
				}
			if (!peek(v, snap->n, fr + L->fr_back, &fr, &w))
				break;
		}
		if (!peek(v, snap->n, ts + L->ts_next, &ts, &w))
			break;
	}
	ck_assert_uint_gt(bumped, 20);
}

/* A code object made where a freed one was, with its name string where
 * the old name was (exec of generated code does this): the same addresses
 * hold another text, and a warm cache must name the new one. */
static void check_reused_names(const struct snapshot *snap, py_proc *py)
{
	struct region *v = regions_copy(snap->v, snap->n);
	for (size_t i = 0; i < snap->n; i++)
		rename_deep(v[i].data, v[i].len);
	/* 3.12/3.13 number each code object made: these are new ones. */
	uint64_t interp, gen;
	uint8_t *w;
	if (snap->L.co_version)
		renumber_codes(snap, v);
	/* 3.14+ count the code objects freed: the old one was. */
	if (snap->L.is_code_gen &&
	    peek(v, snap->n, snap->interp_head_addr, &interp, &w)) {
		uint64_t at = interp + snap->L.is_code_gen;
		ck_assert(peek(v, snap->n, at, &gen, &w));
		gen++;
		for (size_t i = 0; i < snap->n; i++)
			if (at >= v[i].addr && at + 8 <= v[i].addr + v[i].len)
				memcpy(v[i].data + (at - v[i].addr), &gen, 8);
	}
	char want[sizeof snap->stack], text[sizeof snap->stack];
	memcpy(want, snap->stack, sizeof want);
	for (char *p = want; (p = strstr(p, "deep:")); p += 5)
		p[3] = 'q';
	ck_assert_ptr_nonnull(strstr(want, "deeq:"));
	mem_image *im = regions_image(v, snap->n);
	mem_reader *old = py->reader;
	py->reader = mem_image_reader(im);
	struct py_thread *th;
	size_t n;
	for (int i = 0; i < 2; i++) {
		/* The process ran in between (the GIL changed hands): no
		 * thread keeps the frames of the last sample unread. */
		py->prev_gil_addr = 0;
		ck_assert_int_eq(py_proc_sample(py, &th, &n), LP_OK);
		stack_text(th, n, text, sizeof text);
		ck_assert_str_eq(text, want);
	}
	py->reader = old;
	py->prev_gil_addr = 0;
	mem_image_free(im);
	regions_free(v, snap->n);
}

/* Sets the word at addr in every region copy holding it. */
static size_t set_word(struct region *v, size_t n, uint64_t addr,
		       uint64_t val)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (addr >= v[i].addr && addr + 8 <= v[i].addr + v[i].len) {
			memcpy(v[i].data + (addr - v[i].addr), &val, 8);
			k++;
		}
	return k;
}

/* A reader over two images of one process, b a later instant than a: in
 * its one armed call, the first iovec holding the word at `word` is copied
 * from a, every other from b.  The kernel copies the iovecs of one
 * process_vm_readv one after another while the target runs: one call is
 * not one instant either. */
struct tearing {
	mem_reader base;
	mem_reader *a, *b;
	uint64_t word;
	bool armed;
};

static int tearing_readv(mem_reader *self, const struct remote_iov *iov,
			 size_t n)
{
	struct tearing *t = (struct tearing *)self;
	bool from_a = t->armed;
	int ret = LP_OK;
	for (size_t i = 0; i < n; i++) {
		bool holds = iov[i].addr <= t->word &&
			     t->word + 8 <= iov[i].addr + iov[i].len;
		int rc = mem_readv(from_a && holds ? t->a : t->b, &iov[i], 1);
		if (holds)
			from_a = false;
		if (rc != LP_OK)
			ret = rc;
	}
	if (!from_a)
		t->armed = false;
	return ret;
}

/* The size the frame of the code object at code takes on the data stack
 * (the test's own reading of the layout), 0 when unknown. */
static uint64_t frame_size(const struct snapshot *snap, struct region *v,
			   uint64_t code)
{
	const struct py_layout *L = &snap->L;
	uint64_t a, b;
	uint8_t *w;
	code &= ~(uint64_t)3;
	if (L->co_framesize)
		return peek(v, snap->n, code + L->co_framesize, &a, &w) ?
			       (uint32_t)a * 8ull : 0;
	if (L->co_stacksize &&
	    peek(v, snap->n, code + L->co_stacksize, &a, &w) &&
	    peek(v, snap->n, code + L->co_nlocalsplus, &b, &w))
		return ((uint32_t)a + (uint64_t)(uint32_t)b) * 8 + L->fr_size;
	return 0;
}

/* The first thread's leaf and its caller returned and the caller's caller
 * called another function, whose frame took the caller's place (b), while
 * one read copied the word that points to the leaf before and the frames
 * after: the old leaf's frame is still there, over a frame of another size.
 * The walk must not join them (a stack that never was) but read again and
 * give b's stack.  Returns 1 when the frame sizes told, 0 when another
 * check did, -1 for versions whose frames are objects of their own. */
static int check_torn_read(const struct snapshot *snap)
{
	const struct py_layout *L = &snap->L;
	if (L->frames == PY_FRAMES_OBJECT)
		return -1;
	struct region *v = regions_copy(snap->v, snap->n);
	uint64_t frames[64], interp, ts, word, callerc, code = 0;
	uint8_t *store[64][8], **links[64], *w;
	for (int i = 0; i < 64; i++)
		links[i] = store[i];
	size_t nf = frame_links(snap, v, frames, links, 64);
	ck_assert_uint_gt(nf, 2);
	ck_assert(peek(v, snap->n, snap->interp_head_addr, &interp, &w));
	ck_assert(peek(v, snap->n, interp + L->is_tstate_head, &ts, &w));
	word = ts + L->ts_frame;
	if (L->frames == PY_FRAMES_CFRAME) {
		uint64_t cf;
		ck_assert(peek(v, snap->n, word, &cf, &w));
		word = cf + L->cframe_current;
	}
	/* the leaf sits where its caller's frame ends */
	ck_assert(peek(v, snap->n, frames[1] + L->fr_code, &callerc, &w));
	uint64_t size = frame_size(snap, v, callerc);
	ck_assert_uint_eq(frames[0] - frames[1], size);
	for (size_t k = 2; k < nf && !code; k++) {
		uint64_t c;
		ck_assert(peek(v, snap->n, frames[k] + L->fr_code, &c, &w));
		if (frame_size(snap, v, c) && frame_size(snap, v, c) != size)
			code = c;
	}
	ck_assert_uint_ne(code, 0);
	ck_assert_uint_gt(set_word(v, snap->n, word, frames[1]), 0);
	ck_assert_uint_gt(set_word(v, snap->n, frames[1] + L->fr_code, code),
			  0);
	mem_image *later = regions_image(v, snap->n);
	mem_image *now = regions_image(snap->v, snap->n);

	/* b's stack, read alone */
	py_proc fresh;
	replay_init(&fresh, snap, later);
	struct py_thread *th;
	size_t n;
	char want[sizeof snap->stack], text[sizeof snap->stack];
	ck_assert_int_eq(py_proc_sample(&fresh, &th, &n), LP_OK);
	stack_text(th, n, want, sizeof want);
	py_proc_fini(&fresh);
	ck_assert_str_ne(want, snap->stack);

	struct tearing tr = { { tearing_readv, 0 }, mem_image_reader(now),
			      mem_image_reader(later), word, true };
	py_proc warm;
	py_proc *py = &warm;
	replay_init(py, snap, now);
	for (int i = 0; i < 3; i++) {
		/* warm on a: the code objects checked, the regions kept */
		py->prev_gil_addr = 0;
		ck_assert_int_eq(py_proc_sample(py, &th, &n), LP_OK);
		stack_text(th, n, text, sizeof text);
		ck_assert_str_eq(text, snap->stack);
	}
	ck_assert_uint_eq(py->adjacent_bad, 0);
	ck_assert_uint_gt(py->adjacent_ok, 0);
	py->reader = &tr.base;
	py->prev_gil_addr = 0;	/* no thread keeps its last frames */
	uint64_t retries = py->walk_retries;
	ck_assert_int_eq(py_proc_sample(py, &th, &n), LP_OK);
	stack_text(th, n, text, sizeof text);
	ck_assert(!tr.armed);
	ck_assert_str_eq(text, want);
	ck_assert_uint_gt(py->walk_retries, retries);
	int by_size = py->adjacent_bad > 0;
	py_proc_fini(py);
	mem_image_free(now);
	mem_image_free(later);
	regions_free(v, snap->n);
	return by_size;
}

/* An image of the snapshot with the word at offset off of the first
 * thread's k-th frame from the leaf set to val. */
static mem_image *image_with_frame_word(const struct snapshot *snap,
					size_t k, uint32_t off, uint64_t val)
{
	struct region *v = regions_copy(snap->v, snap->n);
	uint64_t frames[64];
	uint8_t *store[64][8], **links[64];
	for (int i = 0; i < 64; i++)
		links[i] = store[i];
	ck_assert_uint_gt(frame_links(snap, v, frames, links, 64), k + 2);
	ck_assert_uint_gt(set_word(v, snap->n, frames[k] + off, val), 0);
	mem_image *img = regions_image(v, snap->n);
	regions_free(v, snap->n);
	return img;
}

/* The first thread's leaf returned while the read copied it, and 3.14+
 * cleared its code as it popped it: the sample has its caller as the leaf,
 * and is not lost. */
static void check_popped_leaf(const struct snapshot *snap)
{
	const struct py_layout *L = &snap->L;
	if (L->frames == PY_FRAMES_OBJECT)
		return;
	mem_image *img = image_with_frame_word(snap, 0, L->fr_code, 0);
	py_proc py;
	replay_init(&py, snap, img);
	struct py_thread *th;
	size_t n;
	char text[sizeof snap->stack];
	ck_assert_int_eq(py_proc_sample(&py, &th, &n), LP_OK);
	stack_text(th, n, text, sizeof text);
	const char *rest = strchr(snap->stack, ';');
	ck_assert_ptr_nonnull(rest);
	ck_assert_str_eq(text, rest + 1);
	ck_assert_uint_eq(py.walk_failed, 0);
	py_proc_fini(&py);
	mem_image_free(img);
}

/* Up to 3.10 frames are objects: a caller's frame object, reused for
 * another call after its callee's frame was copied, counts one reference
 * (its new call's), where a caller counts two (its callee's f_back too).
 * Such a chain is torn, not a stack; the live snapshot's callers all count
 * two or more (replay exact, above). */
static void check_reused_caller(const struct snapshot *snap)
{
	const struct py_layout *L = &snap->L;
	if (L->frames != PY_FRAMES_OBJECT)
		return;
	mem_image *img = image_with_frame_word(snap, 1, 0, 1);
	py_proc py;
	replay_init(&py, snap, img);
	struct py_thread *th;
	size_t n;
	ck_assert_int_eq(py_proc_sample(&py, &th, &n), LP_OK);
	ck_assert_uint_ge(n, 1);
	ck_assert(th[0].truncated);
	py_proc_fini(&py);
	mem_image_free(img);
}

/* Copies iovecs one after another, as the kernel does, from a until the
 * byte at address at, from b from that byte on: the target changed at
 * that instant of the read. */
struct sequential {
	mem_reader base;
	mem_reader *a, *b;
	uint64_t at;
	bool switched;
};

static int sequential_readv(mem_reader *self, const struct remote_iov *iov,
			    size_t n)
{
	struct sequential *sq = (struct sequential *)self;
	int ret = LP_OK;
	for (size_t i = 0; i < n; i++) {
		struct remote_iov v = iov[i];
		if (!sq->switched && sq->at >= v.addr && sq->at < v.addr + v.len) {
			struct remote_iov head = { v.addr, v.local, sq->at - v.addr };
			if (head.len && mem_readv(sq->a, &head, 1) != LP_OK)
				ret = LP_EFAULT;
			v = (struct remote_iov){ sq->at, (uint8_t *)v.local + head.len,
						 v.len - head.len };
			sq->switched = true;
		}
		if (mem_readv(sq->switched ? sq->b : sq->a, &v, 1) != LP_OK)
			ret = LP_EFAULT;
	}
	return ret;
}

/* Up to 3.10: a frame's caller returned, and its object was reused by a
 * call of another function (a), before the read copied the frame (b).  The
 * frames are copied callee first, so the caller's copy is the later one and
 * the stack is b's.  Copied by address, a caller below its callee was
 * copied first: a's caller under b's frame, a stack that never was. */
static void check_caller_copied_after(const struct snapshot *snap)
{
	const struct py_layout *L = &snap->L;
	if (L->frames != PY_FRAMES_OBJECT)
		return;
	struct region *v = regions_copy(snap->v, snap->n);
	uint64_t frames[64], other_code;
	uint8_t *store[64][8], **links[64], *w;
	for (int i = 0; i < 64; i++)
		links[i] = store[i];
	size_t nf = frame_links(snap, v, frames, links, 64);
	ck_assert_uint_gt(nf, 3);
	size_t k = 0;	/* a frame whose caller lies below it, not the root */
	while (k + 3 < nf && frames[k + 1] > frames[k])
		k++;
	ck_assert(peek(v, snap->n, frames[nf - 1] + L->fr_code, &other_code, &w));
	regions_free(v, snap->n);
	if (k + 3 >= nf)
		return;	/* every caller above its callee: nothing to tell */
	mem_image *before = image_with_frame_word(snap, k + 1, L->fr_code, other_code);
	mem_image *now = regions_image(snap->v, snap->n);
	py_proc py;
	replay_init(&py, snap, now);
	struct py_thread *th;
	size_t n;
	char text[sizeof snap->stack];
	for (int i = 0; i < 3; i++) {
		py.prev_gil_addr = 0;
		ck_assert_int_eq(py_proc_sample(&py, &th, &n), LP_OK);
	}
	struct sequential sq = { { sequential_readv, 0 }, mem_image_reader(before),
				 mem_image_reader(now), frames[k], false };
	py.reader = &sq.base;
	py.prev_gil_addr = 0;
	ck_assert_int_eq(py_proc_sample(&py, &th, &n), LP_OK);
	ck_assert(sq.switched);
	stack_text(th, n, text, sizeof text);
	ck_assert_str_eq(text, snap->stack);
	py_proc_fini(&py);
	mem_image_free(before);
	mem_image_free(now);
}

/* A layout whose frame sizes are wrong (a version no table knows, read
 * with its predecessor's): the check of frames against their callers' sizes
 * stops within a few samples, and then every stack is read. */
static void check_wrong_sizes(const struct snapshot *snap)
{
	struct snapshot wrong = *snap;
	if (wrong.L.co_framesize)
		wrong.L.co_framesize -= 4;	/* co_nlocalsplus */
	else if (wrong.L.co_stacksize)
		wrong.L.co_stacksize -= 4;	/* co_kwonlyargcount */
	else
		return;
	mem_image *img = regions_image(snap->v, snap->n);
	py_proc py;
	replay_init(&py, &wrong, img);
	struct py_thread *th;
	size_t n;
	char text[sizeof snap->stack];
	int exact = 0;
	for (int i = 0; i < 40; i++) {
		py.prev_gil_addr = 0;
		ck_assert_int_eq(py_proc_sample(&py, &th, &n), LP_OK);
		stack_text(th, n, text, sizeof text);
		exact = strcmp(text, snap->stack) == 0 ? exact + 1 : 0;
	}
	ck_assert_uint_gt(py.adjacent_bad, 0);
	ck_assert_int_ge(exact, 20);
	py_proc_fini(&py);
	mem_image_free(img);
}

/* One version: replay, random corruption, targeted chain breaks. */
static int fuzz_version(const char *label, const struct snapshot *snap,
			int cases)
{
	/* Replay equals the live sample. */
	mem_image *img = regions_image(snap->v, snap->n);
	py_proc py;
	replay_init(&py, snap, img);
	struct py_thread *th;
	size_t n;
	char text[4096];
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(py_proc_sample(&py, &th, &n), LP_OK);
		stack_text(th, n, text, sizeof text);
		ck_assert_str_eq(text, snap->stack);
	}
	check_reused_names(snap, &py);
	int torn = check_torn_read(snap);
	check_wrong_sizes(snap);
	check_popped_leaf(snap);
	check_reused_caller(snap);
	check_caller_copied_after(snap);
	/* The walker's own cost, without the system call: warm samples over
	 * the image. */
	double start = now_ms();
	int iters = UNIT_CASES(20000);
	for (int i = 0; i < iters; i++)
		py_proc_sample(&py, &th, &n);
	double walk_us = (now_ms() - start) * 1e3 / iters;
	py_proc_fini(&py);
	mem_image_free(img);

	double worst = 0;
	size_t truncated = 0;
	for (int c = 0; c < cases; c++) {
		struct region *v = regions_copy(snap->v, snap->n);
		int muts = 1 + (int)(rnd() % 8);
		for (int m = 0; m < muts; m++) {
			struct region *r = &v[rnd() % snap->n];
			size_t off = (size_t)(rnd() % r->len);
			uint64_t val;
			switch (rnd() % 5) {
			case 0:	/* bit flip */
				r->data[off] ^= (uint8_t)(1u << (rnd() % 8));
				continue;
			case 1:	/* random word */
				val = rnd();
				break;
			case 2:	/* pointer into another region */
				val = v[rnd() % snap->n].addr + rnd() % 256;
				break;
			case 3:	/* small or negative length */
				val = (uint64_t)(int64_t)((int)(rnd() % 64) - 8);
				break;
			default: /* huge length */
				val = (uint64_t)1 << (rnd() % 63);
				break;
			}
			off &= ~(size_t)7;
			if (off + 8 <= r->len)
				memcpy(r->data + off, &val, 8);
		}
		mem_image *im = regions_image(v, snap->n);
		replay_init(&py, snap, im);
		for (int s = 0; s < 2; s++) {
			double t0 = now_ms();
			int rc = py_proc_sample(&py, &th, &n);
			double dt = now_ms() - t0;
			if (dt > worst)
				worst = dt;
			if (getenv("PY_WALK_DEBUG") && dt > 5) {
				size_t nf = 0;
				for (size_t i = 0; i < n; i++)
					nf += th[i].nframes;
				printf("slow %.1f ms: %zu threads %zu frames "
				       "%llu reads\n", dt, n, nf,
				       (unsigned long long)py.last_reads);
			}
			ck_assert_int_eq(rc, LP_OK);
			check_bounds(th, n);
			for (size_t i = 0; i < n; i++)
				truncated += th[i].truncated;
		}
		py_proc_fini(&py);
		mem_image_free(im);
		regions_free(v, snap->n);
	}
	ck_assert_msg(worst < 1000, "%s: a sample took %.1f ms", label, worst);

	/* Targeted: a back pointer to an earlier frame (cycle), to itself,
	 * to an unreadable address: truncated, bounded. */
	int broken = 0;
	for (int c = 0; c < UNIT_CASES(300); c++) {
		struct region *v = regions_copy(snap->v, snap->n);
		uint64_t frames[64];
		uint8_t *store[64][8];
		uint8_t **links[64];
		for (int i = 0; i < 64; i++)
			links[i] = store[i];
		size_t nf = frame_links(snap, v, frames, links, 64);
		ck_assert_uint_gt(nf, 2);
		size_t k = (size_t)(rnd() % (nf - 1));
		int kind = (int)(rnd() % 3);
		uint64_t val = kind == 0 ? frames[rnd() % (k + 1)] :
			       kind == 1 ? frames[k] :
					   0x1000 + (rnd() % 0x100000) * 8;
		put_links(links[k], val);
		mem_image *im = regions_image(v, snap->n);
		replay_init(&py, snap, im);
		for (int s = 0; s < 2; s++) {
			ck_assert_int_eq(py_proc_sample(&py, &th, &n), LP_OK);
			check_bounds(th, n);
			/* The first thread state is the one we broke. */
			ck_assert_uint_ge(n, 1);
			ck_assert_msg(th[0].truncated, "%s: chain broken at "
				      "frame %zu (kind %d) not flagged", label,
				      k, kind);
		}
		broken++;
		py_proc_fini(&py);
		mem_image_free(im);
		regions_free(v, snap->n);
	}
	printf("%s: replay exact (%.2f us/sample over the image), %d random "
	       "cases (%zu truncated threads), %d broken chains flagged, worst "
	       "sample %.2f ms%s\n", label, walk_us, cases, truncated, broken,
	       worst, torn < 0 ? "" : torn ? ", torn read told by frame sizes" :
					     ", torn read told otherwise");
	return torn;
}

START_TEST(test_fuzz_versions)
{
	static const char *const versions[] = {
		"2.7.18", "3.6.15", "3.8.18", "3.10.13", "3.11.7", "3.12.1",
		"3.13.0", "debian-3.14", "debian-3.15",
	};
	int done = 0, rooted = 0, by_size = 0;
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		char bin[256];
		bool deb = strncmp(versions[i], "debian-", 7) == 0;
		int maj = versions[i][deb ? 7 : 0] - '0';
		int min = atoi(versions[i] + (deb ? 9 : 2));
		if (strncmp(versions[i], "debian-", 7) == 0)
			snprintf(bin, sizeof bin,
				 "/opt/loupe-py3%d/usr/bin/python3.%d", min, min);
		else
			snprintf(bin, sizeof bin, PYENV "/%s/bin/python%d.%d",
				 versions[i], maj, min);
		if (access(bin, X_OK) != 0) {
			printf("SKIP %s: not installed\n", bin);
			continue;
		}
		struct snapshot snap;
		memset(&snap, 0, sizeof snap);
		ck_assert_msg(capture(bin, &snap) == 0, "capture %s", bin);
		int torn = fuzz_version(versions[i], &snap, UNIT_CASES(2000));
		rooted += torn >= 0;
		by_size += torn > 0;
		regions_free(snap.v, snap.n);
		done++;
	}
	if (!done)
		unit_skip("no interpreter installed");
	if (rooted)
		ck_assert_int_gt(by_size, 0);
}
END_TEST

/* The 3.13 _Py_DebugOffsets parser agrees with the generated 3.13 table. */
START_TEST(test_debug_offsets_313)
{
	const struct py_layout *gen = NULL;
	for (size_t i = 0; i < py_layouts_count; i++)
		if (py_layouts_all[i]->major == 3 &&
		    py_layouts_all[i]->minor == 13)
			gen = py_layouts_all[i];
	if (!gen)
		unit_skip("no 3.13 table");
	ck_assert_ptr_null(py_layout_table(3, 13));
	const char *bin = PYENV "/3.13.0/bin/python3.13";
	if (access(bin, X_OK) != 0)
		unit_skip("%s: not installed", bin);
	struct snapshot snap;
	memset(&snap, 0, sizeof snap);
	ck_assert_int_eq(capture(bin, &snap), 0);
	const struct py_layout *d = &snap.L;
	ck_assert_uint_eq(d->rt_interp_head, gen->rt_interp_head);
	ck_assert_uint_eq(d->is_next, gen->is_next);
	ck_assert_uint_eq(d->is_tstate_head, gen->is_tstate_head);
	ck_assert_int_eq(d->gil, gen->gil);
	ck_assert_uint_eq(d->is_gil_ptr, gen->is_gil_ptr);
	ck_assert_uint_eq(d->gil_holder, gen->gil_holder);
	ck_assert_uint_eq(d->gil_locked, gen->gil_locked);
	ck_assert_uint_eq(d->is_size, gen->is_size);
	ck_assert_uint_eq(d->ts_size, gen->ts_size);
	ck_assert_uint_eq(d->ts_next, gen->ts_next);
	ck_assert_uint_eq(d->ts_frame, gen->ts_frame);
	ck_assert_uint_eq(d->ts_native_tid, gen->ts_native_tid);
	ck_assert_uint_eq(d->ts_chunk, gen->ts_chunk);
	ck_assert_uint_eq(d->fr_back, gen->fr_back);
	ck_assert_uint_eq(d->fr_code, gen->fr_code);
	ck_assert_uint_eq(d->fr_lasti, gen->fr_lasti);
	ck_assert_uint_eq(d->fr_owner, gen->fr_owner);
	ck_assert_uint_eq(d->fr_size, gen->fr_size);
	ck_assert_uint_eq(d->co_name, gen->co_name);
	ck_assert_uint_eq(d->co_qualname, gen->co_qualname);
	ck_assert_uint_eq(d->co_filename, gen->co_filename);
	ck_assert_uint_eq(d->co_firstlineno, gen->co_firstlineno);
	ck_assert_uint_eq(d->co_linetable, gen->co_linetable);
	ck_assert_uint_eq(d->co_code_adaptive, gen->co_code_adaptive);
	ck_assert_uint_eq(d->co_version, gen->co_version);
	ck_assert_uint_eq(d->co_framesize, gen->co_framesize);
	ck_assert_uint_eq(d->gil_cond, gen->gil_cond);	/* a fact, as co_version */
	ck_assert_uint_eq(d->uni_ascii_size, gen->uni_ascii_size);
	ck_assert_uint_eq(d->uni_compact_size, gen->uni_compact_size);
	ck_assert_uint_eq(d->uni_state, gen->uni_state);
	ck_assert_uint_eq(d->uni_len, gen->uni_len);
	ck_assert_uint_eq(d->uni_kind_shift, gen->uni_kind_shift);
	ck_assert_uint_eq(d->uni_compact_bit, gen->uni_compact_bit);
	ck_assert_uint_eq(d->uni_ascii_bit, gen->uni_ascii_bit);
	ck_assert_uint_eq(d->bytes_len, gen->bytes_len);
	ck_assert_uint_eq(d->bytes_data, gen->bytes_data);
	/* dump --locals */
	ck_assert_uint_eq(d->co_localsplusnames, gen->co_localsplusnames);
	ck_assert_uint_eq(d->co_localspluskinds, gen->co_localspluskinds);
	ck_assert_uint_eq(d->fr_localsplus, gen->fr_localsplus);
	ck_assert_uint_eq(d->ob_size, gen->ob_size);
	ck_assert_uint_eq(d->tuple_items, gen->tuple_items);
	ck_assert_uint_eq(d->tp_name, gen->tp_name);
	ck_assert_uint_eq(d->tp_flags, gen->tp_flags);
	ck_assert_uint_eq(d->float_val, gen->float_val);
	ck_assert_uint_eq(d->dict_used, gen->dict_used);
	ck_assert_uint_eq(d->set_used, gen->set_used);
	ck_assert_uint_eq(d->cell_ref, gen->cell_ref);
	ck_assert_uint_eq(d->long_size, gen->long_size);
	ck_assert_uint_eq(d->long_digit, gen->long_digit);
	ck_assert_uint_eq(d->long_tagged, gen->long_tagged);
	ck_assert_uint_eq(d->long_shift, gen->long_shift);
	regions_free(snap.v, snap.n);
}
END_TEST

/* Debug-offset blocks that must be refused, not guessed from. */
START_TEST(test_debug_offsets_reject)
{
	uint8_t buf[PY_DEBUG_OFFSETS_READ];
	struct py_layout L;
	uint64_t hex;
	lp_error err;
	memset(buf, 0, sizeof buf);
	ck_assert_int_eq(py_layout_from_debug_offsets(buf, sizeof buf, &L,
						      &hex, &err), LP_EFORMAT);
	memcpy(buf, "xdebugpy", 8);
	uint64_t v = 0x030d00f0;	/* 3.13.0 final, every size 0 */
	memcpy(buf + 8, &v, 8);
	ck_assert_int_eq(py_layout_from_debug_offsets(buf, sizeof buf, &L,
						      &hex, &err), LP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "does not validate"));
	for (int i = 0; i < 2000; i++) {
		for (size_t k = 16; k < sizeof buf; k++)
			buf[k] = (uint8_t)(rnd() % 4 ? 0 : rnd());
		int rc = py_layout_from_debug_offsets(buf, sizeof buf, &L, &hex,
						      &err);
		/* LP_EUNSUPPORTED: a free_threaded word that is not 0 */
		ck_assert(rc == LP_OK || rc == LP_EFORMAT ||
			  rc == LP_EUNSUPPORTED);
	}
}
END_TEST

START_TEST(test_tables)
{
	ck_assert_ptr_nonnull(py_layout_table(2, 7));
	for (int m = 6; m <= 12; m++)
		ck_assert_msg(py_layout_table(3, m), "no table for 3.%d", m);
	ck_assert_ptr_null(py_layout_table(3, 14));
	ck_assert_ptr_null(py_layout_table(4, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("py_walk");
	TCase *tc = tcase_create("walk");
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_debug_offsets_reject);
	tcase_add_test(tc, test_debug_offsets_313);
	tcase_add_test(tc, test_fuzz_versions);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
