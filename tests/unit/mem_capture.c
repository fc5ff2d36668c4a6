#include "mem_capture.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static int capture_readv(mem_reader *self, const struct remote_iov *iov,
			 size_t n)
{
	struct capture *c = (struct capture *)self;
	int rc = mem_readv(c->inner, iov, n);
	if (rc != LP_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 256;
			c->v = realloc(c->v, c->cap * sizeof *c->v);
			ck_assert_ptr_nonnull(c->v);
		}
		struct region *r = &c->v[c->n++];
		r->addr = iov[i].addr;
		r->len = iov[i].len;
		r->data = malloc(iov[i].len);
		ck_assert_ptr_nonnull(r->data);
		memcpy(r->data, iov[i].local, iov[i].len);
	}
	return LP_OK;
}

void capture_init(struct capture *c, mem_reader *inner)
{
	*c = (struct capture){ .base = { capture_readv, 0 }, .inner = inner };
}

mem_image *regions_image(const struct region *v, size_t n)
{
	mem_image *img = mem_image_new();
	ck_assert_ptr_nonnull(img);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(mem_image_add(img, v[i].addr, v[i].data,
					       v[i].len), LP_OK);
	return img;
}

struct region *regions_copy(const struct region *v, size_t n)
{
	struct region *c = calloc(n ? n : 1, sizeof *c);
	ck_assert_ptr_nonnull(c);
	for (size_t i = 0; i < n; i++) {
		c[i] = v[i];
		c[i].data = malloc(v[i].len);
		ck_assert_ptr_nonnull(c[i].data);
		memcpy(c[i].data, v[i].data, v[i].len);
	}
	return c;
}

void regions_free(struct region *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}
