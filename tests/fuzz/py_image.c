/* Memory images of a CPython process in one file (py_image.h). */
#include "py_image.h"

#include <stdlib.h>
#include <string.h>

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

int py_image_add_regions(mem_image *img, const uint8_t *data, size_t len)
{
	size_t off = PY_IMAGE_HEADER, n = 0;
	while (len >= 12 && off <= len - 12 && n < PY_IMAGE_MAX_REGIONS) {
		uint64_t addr = get64(data + off);
		uint32_t rlen = get32(data + off + 8);
		off += 12;
		if (rlen > len - off)
			break;
		if (mem_image_add(img, addr, data + off, rlen) != LP_OK)
			return LP_ENOMEM;
		off += rlen;
		n++;
	}
	return LP_OK;
}

int py_image_parse(const uint8_t *data, size_t len, struct py_image *im)
{
	memset(im, 0, sizeof *im);
	if (len < PY_IMAGE_HEADER || memcmp(data, PY_IMAGE_MAGIC, 8) != 0)
		return LP_EFORMAT;
	im->major = get32(data + 8);
	im->minor = get32(data + 12);
	im->interp_head_addr = get64(data + 16);
	im->tstate_current_addr = get64(data + 24);
	im->runtime = get64(data + 32);
	im->code_type = get64(data + 40);
	im->img = mem_image_new();
	if (!im->img)
		return LP_ENOMEM;
	if (py_image_add_regions(im->img, data, len) != LP_OK) {
		py_image_free(im);
		return LP_ENOMEM;
	}
	return LP_OK;
}

void py_image_free(struct py_image *im)
{
	mem_image_free(im->img);
	im->img = NULL;
}

int py_image_proc(py_proc *py, const struct py_image *im, lp_error *err)
{
	mem_reader *r = mem_image_reader(im->img);
	struct py_layout L;
	const struct py_layout *tab;
	if (im->major == 3 && im->minor >= 13) {
		/* as py_proc_attach: the cookie, then the whole block */
		uint8_t dbg[PY_DEBUG_OFFSETS_READ];
		uint64_t hex;
		if (mem_read(r, im->runtime, dbg, 8) != LP_OK ||
		    memcmp(dbg, "xdebugpy", 8) != 0)
			return lp_error_set(err, LP_EFORMAT, "no cookie");
		if (mem_read(r, im->runtime, dbg, sizeof dbg) != LP_OK)
			return lp_error_set(err, LP_EFAULT, "short block");
		int rc = py_layout_from_debug_offsets(dbg, sizeof dbg, &L, &hex,
						      err);
		if (rc != LP_OK)
			return rc;
		tab = &L;
	} else {
		tab = py_layout_table((int)im->major, (int)im->minor);
		if (!tab)
			return lp_error_set(err, LP_EUNSUPPORTED, "no table");
	}
	int rc = py_proc_init(py, r, tab);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "out of memory");
	py->runtime = im->runtime;
	py->interp_head_addr = im->runtime ? im->runtime + py->L.rt_interp_head :
					     im->interp_head_addr;
	py->tstate_current_addr = im->tstate_current_addr;
	py->code_type = im->code_type;
	return LP_OK;
}

static int put(FILE *fp, const void *p, size_t n)
{
	return fwrite(p, 1, n, fp) == n ? LP_OK : LP_EIO;
}

int py_image_put_header(FILE *fp, const struct py_image *im)
{
	int rc = put(fp, PY_IMAGE_MAGIC, 8);
	rc = rc ? rc : put(fp, &im->major, 4);
	rc = rc ? rc : put(fp, &im->minor, 4);
	rc = rc ? rc : put(fp, &im->interp_head_addr, 8);
	rc = rc ? rc : put(fp, &im->tstate_current_addr, 8);
	rc = rc ? rc : put(fp, &im->runtime, 8);
	rc = rc ? rc : put(fp, &im->code_type, 8);
	return rc;
}

int py_image_put_region(FILE *fp, uint64_t addr, const void *data,
			uint32_t len)
{
	int rc = put(fp, &addr, 8);
	rc = rc ? rc : put(fp, &len, 4);
	rc = rc ? rc : put(fp, data, len);
	return rc;
}

uint8_t *py_image_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rbe");
	if (!fp)
		return NULL;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *b = realloc(buf, cap);
			if (!b)
				goto fail;
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp))
		goto fail;
	fclose(fp);
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(fp);
	return NULL;
}
