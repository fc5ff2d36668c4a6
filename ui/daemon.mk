# loupe daemon's parts (config, matching, window store, HTTP endpoint) and
# the control socket shared with loupe ctl.  Each is its own file with one
# job; the unit tests link them one by one.
DAEMON_CORE_SOURCES = \
	ui/daemon_config.c ui/daemon_config.h \
	ui/daemon_match.c ui/daemon_match.h \
	ui/daemon_store.c ui/daemon_store.h
CTL_SOURCES = \
	ui/ctl_proto.c ui/ctl_proto.h \
	ui/ctl_peer.c ui/ctl_peer.h \
	ui/ctl_server.c ui/ctl_server.h
loupe_SOURCES += ui/cmd_ctl.c $(DAEMON_CORE_SOURCES) $(CTL_SOURCES)

# The pprof / metrics HTTP endpoint, on libmicrohttpd; its query string
# checks are pure (check_daemon_http_query, the fuzz harness).
DAEMON_HTTP_QUERY_SOURCES = ui/daemon_http_query.c ui/daemon_http_query.h
DAEMON_HTTP_SOURCES = ui/daemon_http.c ui/daemon_http.h $(DAEMON_HTTP_QUERY_SOURCES)
loupe_SOURCES += $(DAEMON_HTTP_SOURCES)
loupe_CPPFLAGS += $(MHD_CFLAGS)
loupe_LDADD += $(MHD_LIBS)

# The daemon's loop over a sampling backend (daemon_backend.h); loupe
# daemon runs it over the engine (daemon_engine.c: a sampler per target,
# all in the loop); check_daemon drives it with a fake backend.
DAEMON_LOOP_SOURCES = ui/daemon.c ui/daemon.h ui/daemon_priv.h \
	ui/daemon_backend.h ui/daemon_ctl.c ui/daemon_views.c \
	ui/daemon_trace.c ui/daemon_trace.h
loupe_SOURCES += ui/cmd_daemon.c $(DAEMON_LOOP_SOURCES) \
	ui/daemon_engine.c ui/daemon_engine.h
loupe_LDADD += -lpthread
