dist_noinst_SCRIPTS += tools/setup tools/demo tools/bench tools/get-python3.14
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
