/* The _Py_DebugOffsets loader (profiler/python/layout.c) fed through the
 * remote-memory reader: the input is what a 3.13+ process holds at the
 * start of _PyRuntime, placed there in a memory image and read as
 * py_proc_attach reads it (the cookie, then PY_DEBUG_OFFSETS_READ bytes).
 * A block that validates is then trusted by the walker, so it is used at
 * once to sample the live 3.13 or 3.14 capture of the py_walk corpus (the
 * one of its minor version), whose own block the input replaces: a layout
 * that passes validation must not make the walker read out of bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "bounds.h"
#include "py_image.h"

#ifndef LOUPE_FUZZ_IMAGES	/* build.mk and the unit test say where */
#define LOUPE_FUZZ_IMAGES "tests/fuzz/corpus/py_walk"
#endif

/* Where the block is put when no capture is at hand. */
#define RUNTIME_ADDR 0x7f0000001000ull

/* The captures of 3.13 and 3.14, from the py_walk corpus. */
static struct {
	uint8_t *data;
	size_t len;
	uint64_t runtime, code_type;
} base[2];

static void load(int i, const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	base[i].data = py_image_slurp(path, &base[i].len);
	struct py_image im;
	if (!base[i].data || py_image_parse(base[i].data, base[i].len, &im)) {
		fprintf(stderr, "fuzz_py_offsets: no image %s: the loader "
			"is fuzzed without a walk for it\n", path);
		free(base[i].data);
		base[i].data = NULL;
		return;
	}
	base[i].runtime = im.runtime;
	base[i].code_type = im.code_type;
	py_image_free(&im);
}

FUZZ_INIT(py_offsets)
{
	const char *dir = getenv("LOUPE_FUZZ_IMAGES");
	if (!dir)
		dir = LOUPE_FUZZ_IMAGES;
	load(0, dir, "3.13.img");
	load(1, dir, "3.14.img");
	return 0;
}

/* What validation promises the walker (walk.c): every field it reads from
 * a local copy lies inside the copy (frames: fr_size bytes; str headers:
 * uni_ascii_size; bytes headers: bytes_data; the GIL: from its holder word
 * to the end of locked); the arena the copies live in would hide an
 * over-read from ASan, so it is checked here. */
static const char *unwalkable(const struct py_layout *L)
{
	uint64_t rel = (uint64_t)L->gil_locked - L->gil_holder;
	if (L->major != 3 || L->minor < 13)
		return "version";
	if (L->fr_size < 16 || L->fr_size > 256 || L->co_code_adaptive > 1024)
		return "frame or code size";
	if ((uint64_t)L->fr_back + 8 > L->fr_size ||
	    (uint64_t)L->fr_code + 8 > L->fr_size ||
	    (uint64_t)L->fr_lasti + 8 > L->fr_size ||
	    (uint64_t)L->fr_owner + 1 > L->fr_size)
		return "a frame field past the frame copy (fr_size)";
	if ((uint64_t)L->uni_state + 4 > L->uni_ascii_size ||
	    (uint64_t)L->uni_len + 8 > L->uni_ascii_size)
		return "a str field past the str header copy (uni_ascii_size)";
	if ((uint64_t)L->bytes_len + 8 > L->bytes_data)
		return "bytes ob_size past the bytes header copy (bytes_data)";
	if (L->gil_locked > L->gil_holder && rel < 8)
		return "the GIL's locked word inside its holder word";
	return NULL;
}

FUZZ_ONE(py_offsets)
{
	uint64_t hex = 0;
	if (size >= 16)
		memcpy(&hex, data + 8, sizeof hex);
	int minor = (int)((hex >> 16) & 0xff);
	int which = minor <= 13 ? 0 : 1;
	struct py_image im = { .major = 3, .minor = 13, .runtime = RUNTIME_ADDR };
	if (base[which].data) {
		im.runtime = base[which].runtime;
		im.code_type = base[which].code_type;
	}
	im.img = mem_image_new();
	if (!im.img)
		return 0;
	/* the input first: its bytes win over the capture's own block */
	if (mem_image_add(im.img, im.runtime, data, size) != LP_OK ||
	    (base[which].data &&
	     py_image_add_regions(im.img, base[which].data,
				  base[which].len) != LP_OK)) {
		py_image_free(&im);
		return 0;
	}
	py_proc py;
	lp_error err;
	if (py_image_proc(&py, &im, &err) == LP_OK) {
		const char *why = unwalkable(&py.L);
		if (why) {
			fprintf(stderr, "validated layout not walkable: %s\n",
				why);
			abort();
		}
		for (int s = 0; s < 2 && base[which].data; s++) {
			struct py_thread *th;
			size_t n;
			if (py_proc_sample(&py, &th, &n) == LP_OK)
				for (size_t i = 0; i < n; i++)
					if (th[i].nframes > MAX_STACK_DEPTH)
						abort();
		}
		py_proc_fini(&py);
	}
	py_image_free(&im);
	return 0;
}
