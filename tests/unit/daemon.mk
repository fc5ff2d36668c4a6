# Check units of loupe daemon's parts and of the ctl protocol, and the fake
# servers tests/functional/test_daemon_parts.py drives.
check_PROGRAMS += tests/unit/check_daemon_config tests/unit/check_daemon_match \
	tests/unit/check_daemon_store tests/unit/check_ctl
TESTS += tests/unit/check_daemon_config tests/unit/check_daemon_match \
	tests/unit/check_daemon_store tests/unit/check_ctl
tests_unit_check_daemon_config_SOURCES = tests/unit/check_daemon_config.c \
	ui/daemon/daemon_config.c ui/daemon/daemon_config.h ui/cli/units.c ui/cli/units.h
tests_unit_check_daemon_config_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_daemon_config_LDADD = $(UNIT_LIBS)
tests_unit_check_daemon_match_SOURCES = tests/unit/check_daemon_match.c \
	ui/daemon/daemon_match.c ui/daemon/daemon_match.h
tests_unit_check_daemon_match_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_daemon_match_LDADD = $(UNIT_LIBS)
tests_unit_check_daemon_store_SOURCES = tests/unit/check_daemon_store.c \
	ui/store/daemon_store.c ui/store/daemon_store.h
tests_unit_check_daemon_store_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_daemon_store_LDADD = $(UNIT_LIBS)
tests_unit_check_ctl_SOURCES = tests/unit/check_ctl.c $(CTL_SOURCES)
tests_unit_check_ctl_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_ctl_LDADD = $(UNIT_LIBS)

# The HTTP endpoint's query string checks (pure).
check_PROGRAMS += tests/unit/check_daemon_http_query
TESTS += tests/unit/check_daemon_http_query
tests_unit_check_daemon_http_query_SOURCES = tests/unit/check_daemon_http_query.c \
	$(DAEMON_HTTP_QUERY_SOURCES)
tests_unit_check_daemon_http_query_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_daemon_http_query_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/daemon_fakes
tests_unit_daemon_fakes_SOURCES = tests/unit/daemon_fakes.c $(CTL_SOURCES) \
	$(DAEMON_HTTP_SOURCES) ui/daemon/daemon_config.c ui/daemon/daemon_config.h \
	ui/cli/units.c ui/cli/units.h
tests_unit_daemon_fakes_CPPFLAGS = $(AM_CPPFLAGS) $(MHD_CFLAGS)
tests_unit_daemon_fakes_LDADD = $(LOUPE_ENGINE_LIBS) $(MHD_LIBS)

# The daemon's loop over a fake sampling backend, on real processes.
check_PROGRAMS += tests/unit/check_daemon
TESTS += tests/unit/check_daemon
tests_unit_check_daemon_SOURCES = tests/unit/check_daemon.c \
	$(DAEMON_LOOP_SOURCES) $(DAEMON_CORE_SOURCES) $(STORE_SOURCES) $(CTL_SOURCES) \
	$(DAEMON_HTTP_SOURCES) ui/cli/units.c ui/cli/units.h
tests_unit_check_daemon_CPPFLAGS = $(UNIT_CPPFLAGS) $(MHD_CFLAGS)
tests_unit_check_daemon_LDADD = $(UNIT_LIBS) $(MHD_LIBS) -lpthread

# The daemon's traces object (start, fd, reap, stop all) with a fake trace.
check_PROGRAMS += tests/unit/check_daemon_trace
TESTS += tests/unit/check_daemon_trace
tests_unit_check_daemon_trace_SOURCES = tests/unit/check_daemon_trace.c \
	ui/daemon/daemon_trace.c ui/daemon/daemon_trace.h ui/ctl/ctl_peer.c ui/ctl/ctl_peer.h
tests_unit_check_daemon_trace_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_daemon_trace_LDADD = $(UNIT_LIBS) -lpthread
