# The control socket shared by loupe daemon and loupe ctl: the protocol, the
# peer checks, the server.
CTL_SOURCES = \
	ui/ctl/ctl_proto.c ui/ctl/ctl_proto.h \
	ui/ctl/ctl_peer.c ui/ctl/ctl_peer.h \
	ui/ctl/ctl_server.c ui/ctl/ctl_server.h
loupe_SOURCES += $(CTL_SOURCES)
