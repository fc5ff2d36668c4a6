# loupe top: the live view (the only part of loupe that links ncurses).
loupe_SOURCES += ui/top.c ui/top_model.c ui/top_model.h
loupe_LDADD += $(NCURSESW_LIBS) -lpthread
loupe_CPPFLAGS += $(NCURSESW_CFLAGS)
