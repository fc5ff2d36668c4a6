# Unit tests (Check), one fragment per area so that they grow apart, and the
# C programs the functional tests run against.
UNIT_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS) -iquote $(srcdir)/tests/unit
UNIT_LIBS = $(LOUPE_ENGINE_LIBS) $(CHECK_LIBS)

include $(srcdir)/tests/unit/core.mk
include $(srcdir)/tests/unit/elf.mk
include $(srcdir)/tests/unit/python.mk
include $(srcdir)/tests/unit/formats.mk
include $(srcdir)/tests/unit/top.mk
include $(srcdir)/tests/unit/ui.mk
include $(srcdir)/tests/unit/trace.mk
include $(srcdir)/tests/unit/daemon.mk
include $(srcdir)/tests/unit/fuzz.mk
include $(srcdir)/tests/targets/local.mk

EXTRA_DIST += tests/run tests/functional tests/fuzz

# tests/run asks which unit programs there are.
print-unit-tests:
	@echo $(filter tests/unit/check_%,$(TESTS))
.PHONY: print-unit-tests
