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

# The direction engine <- tracer <- ui as the include paths enforce it
# (Makefile.am), run by make check: each part's path reaches what it may
# include and not what it may not.  The probe is in a directory of its own,
# so that only the include path finds headers.
check-local: check-layering
check-layering:
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	try() { printf '#include "%s"\n' "$$2" > "$$d/probe.c" && \
		$(CC) $$1 $(LIBUNWIND_CFLAGS) $(LIBELF_CFLAGS) -fsyntax-only \
		"$$d/probe.c" 2>/dev/null; } && \
	may() { try "$$2" "$$3" || { echo "layering: $$1 cannot include $$3" >&2; exit 1; }; } && \
	may_not() { ! try "$$2" "$$3" || { echo "layering: $$1 can include $$3" >&2; exit 1; }; } && \
	for h in sampler.h python/asyncio.h sampler_int.h; do may engine "$(PROFILER_CPPFLAGS)" $$h; done && \
	for h in tracer.h tracefs.h options.h; do may_not engine "$(PROFILER_CPPFLAGS)" $$h; done && \
	for h in sampler.h tracer.h tracefs.h; do may tracer "$(TRACER_CPPFLAGS)" $$h; done && \
	for h in python/asyncio.h sampler_int.h options.h; do may_not tracer "$(TRACER_CPPFLAGS)" $$h; done && \
	for h in sampler.h python/py.h task_view.h tracer.h options.h daemon_store.h; do may ui "$(UI_CPPFLAGS)" $$h; done && \
	for h in python/asyncio.h sampler_int.h tracefs.h; do may_not ui "$(UI_CPPFLAGS)" $$h; done && \
	echo "layering: the engine, the tracer and ui/ include only along engine <- tracer <- ui"
.PHONY: check-layering
