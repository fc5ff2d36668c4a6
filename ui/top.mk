# loupe top: sources are added with loupe_SOURCES += ..., ncurses with loupe_LDADD += $(NCURSESW_LIBS)
