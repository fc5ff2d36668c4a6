/* The control protocol's decoding (ui/ctl/ctl_proto.c), as the daemon reads a
 * connection: frames decoded from the start of what arrived, the input fed
 * whole and in two parts (a frame that needs more bytes must need them
 * whatever the cut), a request's argv parsed, and what parses encoded again
 * to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ctl_proto.h"

/* Decodes the frames of buf one after the other, as ctl_server does with
 * its buffer; checks each result against the header it came from. */
static void decode_all(const uint8_t *buf, size_t len, uint64_t max_body)
{
	size_t off = 0;
	for (int guard = 0; off < len && guard < 1024; guard++) {
		struct ctl_frame f;
		lp_error err;
		uint8_t *copy = malloc(len - off);	/* exact size: ASan sees */
		if (!copy)
			return;
		memcpy(copy, buf + off, len - off);
		int rc = ctl_decode(copy, len - off, max_body, &f, &err);
		if (rc == CTL_AGAIN || rc == LP_EFORMAT) {
			/* a prefix of an incomplete frame is incomplete too,
			 * and a refused frame stays refused with more bytes */
			if (rc == CTL_AGAIN && len - off > 1) {
				struct ctl_frame g;
				if (ctl_decode(copy, len - off - 1, max_body, &g,
					       &err) != CTL_AGAIN)
					abort();
			}
			free(copy);
			return;
		}
		if (rc != LP_OK || f.frame_len > len - off ||
		    f.frame_len != CTL_HEADER_LEN + (size_t)f.len ||
		    f.len > max_body || f.body != copy + CTL_HEADER_LEN ||
		    f.type < CTL_REQUEST || f.type > CTL_REPLY_ERROR)
			abort();
		if (f.type == CTL_REQUEST) {
			char **argv;
			int argc;
			if (ctl_parse_request(f.body, f.len, &argv, &argc,
					      &err) == LP_OK) {
				if (argc < 1 || argc > CTL_MAX_ARGS ||
				    argv[argc] || !argv[0][0])
					abort();
				uint8_t *enc;
				size_t elen;
				if (ctl_encode_request(argc, argv, &enc,
						       &elen) != LP_OK)
					abort();
				if (elen != f.frame_len ||
				    memcmp(enc, copy, elen) != 0)
					abort();
				free(enc);
				free(argv);
			} else if (argv || argc) {
				abort();
			}
		} else {
			(void)ctl_reply_status(&f);
			uint8_t *enc;
			size_t elen;
			if (f.len >= 4) {
				if (ctl_encode_reply(f.type, ctl_reply_status(&f),
						     f.body + 4, f.len - 4, &enc,
						     &elen) != LP_OK)
					abort();
				if (elen != f.frame_len ||
				    memcmp(enc, copy, elen) != 0)
					abort();
				free(enc);
			}
		}
		free(copy);
		off += f.frame_len;
	}
}

FUZZ_ONE(ctl_proto)
{
	/* both bounds the code uses: a request's, a reply's */
	decode_all(data, size, CTL_MAX_REQUEST);
	decode_all(data, size, CTL_MAX_REPLY);
	/* the body alone, as a request */
	char **argv;
	int argc;
	lp_error err;
	uint8_t *body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	if (ctl_parse_request(body, size, &argv, &argc, &err) == LP_OK) {
		for (int i = 0; i < argc; i++)
			if (!argv[i] || strlen(argv[i]) >= size)
				abort();
		free(argv);
	}
	free(body);
	return 0;
}
