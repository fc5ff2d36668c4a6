# The fuzz harnesses (tests/fuzz) replayed over their committed corpora by
# the tree's compiler (tests/fuzz/run fuzzes them with clang).
check_PROGRAMS += tests/unit/check_fuzz_corpus
TESTS += tests/unit/check_fuzz_corpus
tests_unit_check_fuzz_corpus_SOURCES = tests/unit/check_fuzz_corpus.c \
	tests/fuzz/fuzz.h tests/fuzz/py_image.c tests/fuzz/py_image.h \
	tests/fuzz/fuzz_raw_reader.c tests/fuzz/fuzz_daemon_config.c \
	tests/fuzz/fuzz_ctl_proto.c tests/fuzz/fuzz_http_query.c \
	tests/fuzz/fuzz_py_offsets.c tests/fuzz/fuzz_py_walk.c \
	ui/daemon/daemon_config.c ui/daemon/daemon_config.h ui/cli/units.c ui/cli/units.h \
	ui/ctl/ctl_proto.c ui/ctl/ctl_proto.h $(DAEMON_HTTP_QUERY_SOURCES)
tests_unit_check_fuzz_corpus_CPPFLAGS = $(UNIT_CPPFLAGS) \
	-iquote $(srcdir)/tests/fuzz -DFUZZ_REPLAY \
	-DLOUPE_FUZZ_CORPUS='"$(abs_top_srcdir)/tests/fuzz/corpus"' \
	-DLOUPE_FUZZ_IMAGES='"$(abs_top_srcdir)/tests/fuzz/corpus/py_walk"'
tests_unit_check_fuzz_corpus_LDADD = $(UNIT_LIBS)
