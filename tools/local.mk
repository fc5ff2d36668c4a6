dist_noinst_SCRIPTS += tools/setup tools/demo tools/bench tools/get-python
# Which source files call each other (tests/functional/test_call_pairs.py).
dist_noinst_SCRIPTS += tools/call-pairs
noinst_PROGRAMS += tools/demo-app
tools_demo_app_SOURCES = tools/demo-app.c
tools_demo_app_CFLAGS = -O2 -g

# loupe-bench: engine micro benchmarks (tools/bench runs them), and the
# native target it unwinds, built without frame pointers.
noinst_PROGRAMS += tools/loupe-bench tools/loupe-bench-target
tools_loupe_bench_SOURCES = tools/bench-src/bench.c tools/bench-src/bench.h \
	tools/bench-src/bench_native.c tools/bench-src/bench_perf.c \
	tools/bench-src/bench_floor.c
tools_loupe_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tools/bench-src
tools_loupe_bench_CFLAGS = $(AM_CFLAGS) -O2
tools_loupe_bench_LDADD = $(LOUPE_ENGINE_LIBS)
tools_loupe_bench_SOURCES += $(LOUPE_UNWIND_SIGMASK)
tools_loupe_bench_target_SOURCES = tools/bench-src/bench_target.c
tools_loupe_bench_target_CFLAGS = -O2 -fomit-frame-pointer -fno-inline \
	-fno-optimize-sibling-calls

# The loopback HTTP client of tools/bench's trace section.
noinst_PROGRAMS += tools/loupe-http-load
tools_loupe_http_load_SOURCES = tools/bench-src/http_load.c
tools_loupe_http_load_CFLAGS = -O2
noinst_PROGRAMS += tools/loupe-poll-cost
tools_loupe_poll_cost_SOURCES = tools/bench-src/poll_cost.c
tools_loupe_poll_cost_CFLAGS = -O2

# Shell completion, installed under the name of the command it completes
# (bash-completion loads completions/CMD on first use of CMD).
bashcompletion_DATA = tools/loupe
CLEANFILES += tools/loupe
EXTRA_DIST += tools/loupe.bash-completion
tools/loupe: tools/loupe.bash-completion
	$(AM_V_GEN)$(MKDIR_P) tools && cp $(srcdir)/tools/loupe.bash-completion $@

# The systemd unit for 'loupe daemon', with this build's path to loupe.
# Installed, never enabled: the administrator chooses to run the agent.
systemdsystemunit_DATA = tools/loupe.service
CLEANFILES += tools/loupe.service
EXTRA_DIST += tools/loupe.service.in
tools/loupe.service: tools/loupe.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tools && \
	sed -e 's|@bindir[@]|$(bindir)|g' $(srcdir)/tools/loupe.service.in > $@.tmp && \
	mv $@.tmp $@
dist_noinst_SCRIPTS += tools/soak-daemon
