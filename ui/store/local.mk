# The daemon's window store on disk: the daemon writes and trims it, loupe
# report reads it (a folder of its own so that neither depends on the other).
STORE_SOURCES = ui/store/daemon_store.c ui/store/daemon_store.h
loupe_SOURCES += $(STORE_SOURCES)
