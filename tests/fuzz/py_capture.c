/* Makes a seed image for the py_walk and py_offsets harnesses: runs a small
 * script under the given interpreter, attaches, takes two samples through a
 * reader that records every region read, and writes them (with the first
 * PY_DEBUG_OFFSETS_READ bytes of _PyRuntime) as a py_image file.
 *
 *   py_capture PYTHON OUT.img     (as root; tests/fuzz/run --make-seeds) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "py_image.h"
#include "symbols.h"
#include "target.h"

static const char *script =
	"import threading, time, sys\n"
	"def other():\n"
	"    while 1: time.sleep(0.01)\n"
	"class K(object):\n"
	"    def deep(self, n):\n"
	"        if n > 0: return self.deep(n - 1)\n"
	"        sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
	"        while 1: time.sleep(0.01)\n"
	"t = threading.Thread(target=other)\n"
	"t.daemon = True\n"
	"t.start()\n"
	"K().deep(8)\n";

struct region {
	uint64_t addr;
	uint32_t len;
	uint8_t *data;
};

struct capture {
	mem_reader base;
	mem_reader *inner;
	struct region v[65536];
	size_t n;
};

static void keep(struct capture *c, uint64_t addr, const void *data,
		 size_t len)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].addr == addr && c->v[i].len == len)
			return;
	if (c->n == sizeof c->v / sizeof c->v[0] || len > UINT32_MAX)
		return;
	struct region *r = &c->v[c->n++];
	r->addr = addr;
	r->len = (uint32_t)len;
	r->data = malloc(len ? len : 1);
	if (!r->data)
		abort();
	memcpy(r->data, data, len);
}

static int capture_readv(mem_reader *self, const struct remote_iov *iov,
			 size_t n)
{
	struct capture *c = (struct capture *)self;
	int rc = mem_readv(c->inner, iov, n);
	if (rc != LP_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		keep(c, iov[i].addr, iov[i].local, iov[i].len);
	return LP_OK;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: py_capture PYTHON OUT.img\n");
		return 2;
	}
	char path[] = "/tmp/loupe-fuzz-capture-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, script, strlen(script)) < 0)
		return 1;
	close(fd);
	int p[2];
	if (pipe(p) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(argv[1], argv[1], path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[16] = "";
	ssize_t got = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	int ret = 1;
	target *t = NULL;
	symbolizer *s = NULL;
	py_proc *live = NULL;
	static struct capture cap;
	lp_error err = { 0 };
	if (got <= 0) {
		fprintf(stderr, "py_capture: %s did not start\n", argv[1]);
		goto out;
	}
	usleep(100000);	/* into its sleep loop */
	if (target_attach(&t, pid, &err) != LP_OK ||
	    symbolizer_new(&s, pid, target_procfd(t)) != LP_OK ||
	    py_proc_attach(&live, t, s, &err) != LP_OK) {
		fprintf(stderr, "py_capture: cannot attach: %s\n", err.msg);
		goto out;
	}
	cap.base.readv = capture_readv;
	cap.inner = live->reader;
	if (live->runtime) {
		uint8_t dbg[PY_DEBUG_OFFSETS_READ];
		if (mem_read(live->reader, live->runtime, dbg, sizeof dbg) ==
		    LP_OK)
			keep(&cap, live->runtime, dbg, sizeof dbg);
	}
	live->reader = &cap.base;
	struct py_thread *th;
	size_t n;
	for (int i = 0; i < 2; i++)
		if (py_proc_sample(live, &th, &n) != LP_OK) {
			fprintf(stderr, "py_capture: sample failed\n");
			goto out;
		}
	struct py_image im = {
		.major = (uint32_t)live->L.major,
		.minor = (uint32_t)live->L.minor,
		.interp_head_addr = live->interp_head_addr,
		.tstate_current_addr = live->tstate_current_addr,
		.runtime = live->runtime,
		.code_type = live->code_type,
	};
	FILE *fp = fopen(argv[2], "wbe");
	if (!fp) {
		perror(argv[2]);
		goto out;
	}
	int rc = py_image_put_header(fp, &im);
	for (size_t i = 0; i < cap.n && !rc; i++)
		rc = py_image_put_region(fp, cap.v[i].addr, cap.v[i].data,
					 cap.v[i].len);
	if (fclose(fp) != 0 || rc) {
		perror(argv[2]);
		goto out;
	}
	size_t frames = 0;
	for (size_t i = 0; i < n; i++)
		frames += th[i].nframes;
	printf("%s: Python %s, %zu threads, %zu frames, %zu regions\n",
	       argv[2], py_proc_version(live), n, frames, cap.n);
	ret = 0;
out:
	if (live)
		live->reader = cap.inner ? cap.inner : live->reader;
	py_proc_free(live);
	if (s)
		symbolizer_free(s);
	if (t)
		target_free(t, false);
	for (size_t i = 0; i < cap.n; i++)
		free(cap.v[i].data);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
	return ret;
}
