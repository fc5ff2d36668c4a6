#include "memreader.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

int mem_read_u64(mem_reader *r, uint64_t addr, uint64_t *out)
{
	return mem_read(r, addr, out, sizeof *out);
}

struct image_region {
	uint64_t addr;
	size_t len;
	unsigned char *data;
};

struct mem_image {
	mem_reader reader;	/* first, so a mem_reader* is a mem_image* */
	struct image_region *regions;
	size_t n, cap;
};

static int image_read_one(const mem_image *img, const struct remote_iov *v)
{
	for (size_t i = 0; i < img->n; i++) {
		const struct image_region *r = &img->regions[i];
		if (v->addr < r->addr || v->addr - r->addr > r->len ||
		    v->len > r->len - (v->addr - r->addr))
			continue;
		memcpy(v->local, r->data + (v->addr - r->addr), v->len);
		return LP_OK;
	}
	return LP_EFAULT;
}

static int image_readv(mem_reader *self, const struct remote_iov *iov, size_t n)
{
	const mem_image *img = (const mem_image *)self;
	int rc = LP_OK;
	for (size_t i = 0; i < n; i++)
		if (image_read_one(img, &iov[i]) != LP_OK)
			rc = LP_EFAULT;
	return rc;
}

mem_image *mem_image_new(void)
{
	mem_image *img = calloc(1, sizeof *img);
	if (img)
		img->reader.readv = image_readv;
	return img;
}

void mem_image_free(mem_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->n; i++)
		free(img->regions[i].data);
	free(img->regions);
	free(img);
}

int mem_image_add(mem_image *img, uint64_t addr, const void *data, size_t len)
{
	if (img->n == img->cap) {
		size_t cap = img->cap ? img->cap * 2 : 8;
		struct image_region *r = realloc(img->regions, cap * sizeof *r);
		if (!r)
			return LP_ENOMEM;
		img->regions = r;
		img->cap = cap;
	}
	unsigned char *copy = malloc(len ? len : 1);
	if (!copy)
		return LP_ENOMEM;
	memcpy(copy, data, len);
	img->regions[img->n++] = (struct image_region){ addr, len, copy };
	return LP_OK;
}

mem_reader *mem_image_reader(mem_image *img)
{
	return &img->reader;
}
