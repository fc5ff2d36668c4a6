# loupe top: the live view (the only part of loupe that links ncurses) and
# its table model (pure, no ncurses: check_top_model).
loupe_SOURCES += ui/top/top_view.c ui/top/top_view.h \
	ui/top/top_model.c ui/top/top_model.h \
	ui/top/top_source.c ui/top/top_source.h \
	ui/top/top_lines.c ui/top/top_lines.h
loupe_LDADD += $(NCURSESW_LIBS) -lpthread
loupe_CPPFLAGS += $(NCURSESW_CFLAGS)
# The header's lines, the trends (key x) and the snapshot (key s).
loupe_SOURCES += ui/top/top_header.c ui/top/top_header.h \
	ui/top/top_trend.c ui/top/top_trend.h \
	ui/top/top_snapshot.c ui/top/top_snapshot.h
