/* A progress bar on stderr for report and diff reading large recordings.
 * It appears only on a terminal, without -q, and only for large inputs (or
 * once reading has taken long enough to be worth watching): a small file
 * shows nothing. */
#ifndef LOUPE_UI_PROGRESS_H
#define LOUPE_UI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress {
	const char *label;
	uint64_t total;		/* bytes of all inputs */
	uint64_t base;		/* bytes of the inputs already read */
	uint64_t start_ns, drawn_ns;
	size_t shown;		/* columns on screen */
	bool on;		/* stderr is a terminal and not quiet */
};

void progress_init(struct progress *pg, const char *label, uint64_t total,
		   bool quiet);
/* Bytes of the current input read so far (a raw_progress_fn). */
void progress_update(void *pg, uint64_t done, uint64_t total);
/* The current input is read: the next one's bytes count from here. */
void progress_next(struct progress *pg, uint64_t bytes);
/* Erases the bar. */
void progress_end(struct progress *pg);

/* Size of the file at path, 0 when it cannot be known. */
uint64_t progress_file_size(const char *path);

/* Formats the bar (tests): at most width columns. */
void progress_format(char *buf, size_t len, size_t width, const char *label,
		     uint64_t done, uint64_t total);

#endif
