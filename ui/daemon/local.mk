# loupe daemon's parts (config, matching, HTTP endpoint, the loop, its ctl
# handlers, views and traces, the engine backend).  Each is its own file with
# one job; the unit tests link them one by one.
DAEMON_CORE_SOURCES = \
	ui/daemon/daemon_config.c ui/daemon/daemon_config.h \
	ui/daemon/daemon_match.c ui/daemon/daemon_match.h
loupe_SOURCES += $(DAEMON_CORE_SOURCES)

# The pprof / metrics HTTP endpoint, on libmicrohttpd; its query string
# checks are pure (check_daemon_http_query, the fuzz harness).
DAEMON_HTTP_QUERY_SOURCES = ui/daemon/daemon_http_query.c ui/daemon/daemon_http_query.h
DAEMON_HTTP_SOURCES = ui/daemon/daemon_http.c ui/daemon/daemon_http.h $(DAEMON_HTTP_QUERY_SOURCES)
loupe_SOURCES += $(DAEMON_HTTP_SOURCES)
loupe_CPPFLAGS += $(MHD_CFLAGS)
loupe_LDADD += $(MHD_LIBS)

# The daemon's loop over a sampling backend (daemon_backend.h); loupe
# daemon runs it over the engine (daemon_engine.c: a sampler per target,
# all in the loop); check_daemon drives it with a fake backend.
DAEMON_LOOP_SOURCES = ui/daemon/daemon.c ui/daemon/daemon.h ui/daemon/daemon_priv.h \
	ui/daemon/daemon_backend.h ui/daemon/daemon_ctl.c ui/daemon/daemon_views.c \
	ui/daemon/daemon_trace.c ui/daemon/daemon_trace.h
loupe_SOURCES += $(DAEMON_LOOP_SOURCES) \
	ui/daemon/daemon_engine.c ui/daemon/daemon_engine.h
loupe_LDADD += -lpthread
