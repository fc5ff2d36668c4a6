# Manual pages, written by hand; tests/functional/test_install.py checks
# that every option each command's --help names is in its section, and
# that every key of the daemon's config (ui/daemon/daemon_config.c) is in
# loupe.conf(5).
dist_man_MANS = man/loupe.1 man/loupe.conf.5
