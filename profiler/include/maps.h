/* /proc/PID/maps: which file backs which address range of the target. */
#ifndef LOUPE_MAPS_H
#define LOUPE_MAPS_H

#include <stddef.h>
#include <stdint.h>

enum { MAP_PERM_R = 1, MAP_PERM_W = 2, MAP_PERM_X = 4, MAP_PERM_P = 8 };

struct map_entry {
	uint64_t start, end;	/* [start, end) in the target */
	uint64_t offset;	/* file offset of start */
	uint64_t inode;
	unsigned dev_major, dev_minor;
	unsigned perms;		/* MAP_PERM_* */
	int deleted;		/* the file was unlinked (" (deleted)" stripped
				 * from path); read it through map_files/ */
	const char *path;	/* "" for anonymous; "[stack]", "[heap]"... */
};

struct maps {
	struct map_entry *v;	/* sorted by start */
	size_t n;
	char *strings;		/* backing store of the paths */
};

/* Parses the text of a maps file.  Lines that do not parse are skipped.
 * Returns LP_OK or LP_ENOMEM; out must be zeroed or fini'ed. */
int maps_parse(const char *text, size_t len, struct maps *out);
/* Reads and parses maps relative to a /proc/PID directory fd. */
int maps_read(int procfd, struct maps *out);
void maps_fini(struct maps *m);
/* The entry containing addr, or NULL. */
const struct map_entry *maps_find(const struct maps *m, uint64_t addr);
/* The first mapping of the file whose basename starts with prefix, or NULL.*/
const struct map_entry *maps_find_file(const struct maps *m, const char *prefix);

#endif
