bin_PROGRAMS += loupe
loupe_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/ui $(NCURSESW_CFLAGS)
loupe_SOURCES = \
	ui/main.c
loupe_LDADD = $(LOUPE_ENGINE_LIBS) $(NCURSESW_LIBS)
