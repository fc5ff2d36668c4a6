/* A harness's entry points: libFuzzer's names in the fuzz build
 * (build.mk); with FUZZ_REPLAY, one name per harness, so that the unit
 * test replaying the committed corpora (tests/unit/check_fuzz_corpus.c)
 * links all of them into one program built by the tree's own compiler. */
#ifndef LOUPE_FUZZ_H
#define LOUPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef FUZZ_REPLAY
#define FUZZ_INIT(name) int fuzz_init_##name(int *argc, char ***argv)
#define FUZZ_ONE(name) int fuzz_one_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_INIT(name) int LLVMFuzzerInitialize(int *argc, char ***argv)
#define FUZZ_ONE(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

FUZZ_ONE(raw_reader);
FUZZ_INIT(raw_reader);
FUZZ_ONE(daemon_config);
FUZZ_ONE(ctl_proto);
FUZZ_ONE(http_query);
FUZZ_ONE(py_offsets);
FUZZ_INIT(py_offsets);
FUZZ_ONE(py_walk);

#endif
