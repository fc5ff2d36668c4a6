/* A CPython process's memory as the walker read it, in one file: what
 * py_capture writes from a live interpreter and the py_walk and py_offsets
 * harnesses replay (and mutate).  Little-endian:
 *
 *   "LPPYIMG1"
 *   u32 major, u32 minor      the interpreter's version: the generated table
 *                             up to 3.12, _Py_DebugOffsets read at runtime
 *                             from 3.13
 *   u64 interp_head_addr      2.7/3.6 (from _PyRuntime from 3.7)
 *   u64 tstate_current_addr   2.7/3.6, else 0
 *   u64 runtime               _PyRuntime, 0 before 3.7
 *   u64 code_type             PyCode_Type, 0 when unknown
 *   regions to the end: u64 addr, u32 len, len bytes
 *
 * The parser takes any bytes: a cut or lying region header ends the list. */
#ifndef LOUPE_FUZZ_PY_IMAGE_H
#define LOUPE_FUZZ_PY_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "memreader.h"
#include "python/pyproc.h"

#define PY_IMAGE_MAGIC "LPPYIMG1"
#define PY_IMAGE_HEADER 48
/* Regions taken from one image; the rest of a fuzzed file is ignored. */
#define PY_IMAGE_MAX_REGIONS 4096

struct py_image {
	uint32_t major, minor;
	uint64_t interp_head_addr, tstate_current_addr, runtime, code_type;
	mem_image *img;		/* the regions, in file order (first wins) */
	size_t nregions;
};

/* Parses data into im (im->img is new).  LP_OK, LP_EFORMAT (no magic or a
 * short header), LP_ENOMEM. */
int py_image_parse(const uint8_t *data, size_t len, struct py_image *im);
/* Adds the regions of data (an image file) to an existing mem_image. */
int py_image_add_regions(mem_image *img, const uint8_t *data, size_t len);
void py_image_free(struct py_image *im);

/* Sets up py over im as attach does: the layout from the table for
 * major.minor, or from 3.13 from the _Py_DebugOffsets block read through
 * the image's reader at runtime (LP_EFORMAT and err when it does not
 * validate); interp_head_addr from runtime when there is one. */
int py_image_proc(py_proc *py, const struct py_image *im, lp_error *err);

/* Writes the header and then each region with py_image_put_region. */
int py_image_put_header(FILE *fp, const struct py_image *im);
int py_image_put_region(FILE *fp, uint64_t addr, const void *data,
			uint32_t len);

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
uint8_t *py_image_slurp(const char *path, size_t *len);

#endif
